import Foundation

/// Limits and timers of a OneSeal TCP connection, shared by client and server.
///
/// The defaults are what PROTOCOL.md promises integrators; a node may lower or raise them, but both
/// ends should agree on `maximumFrameSize` or large messages fail with `RESOURCE_EXHAUSTED`.
public struct WireConfiguration: Sendable, Hashable {
    /// Largest frame body (the bytes after the 4-byte length) a peer may send. A larger length
    /// prefix is refused before any of the body is read or allocated.
    public var maximumFrameSize: Int
    /// Most streams one connection may have open at once; more are refused with `RESOURCE_EXHAUSTED`.
    public var maximumConcurrentStreams: Int
    /// How often an idle client pings the server to detect a dead peer (nil: never).
    public var keepaliveInterval: Duration?
    /// How long a ping may stay unanswered before the connection is considered dead.
    public var keepaliveTimeout: Duration
    /// How long a client waits for TCP connect before reporting `UNAVAILABLE`.
    public var connectTimeout: Duration
    /// Reconnect backoff of the client: first delay, growth factor, and cap.
    public var reconnectBackoff: Backoff

    public struct Backoff: Sendable, Hashable {
        public var initial: Duration
        public var multiplier: Double
        public var maximum: Duration

        public init(initial: Duration = .milliseconds(100), multiplier: Double = 1.6, maximum: Duration = .seconds(5)) {
            self.initial = initial
            self.multiplier = multiplier
            self.maximum = maximum
        }

        /// The delay before reconnect attempt `attempt` (0-based), with ±20 % jitter so that many
        /// clients of a restarted server do not reconnect in lockstep.
        public func delay(attempt: Int) -> Duration {
            let base = Double(initial.components.seconds) + Double(initial.components.attoseconds) / 1e18
            let cap = Double(maximum.components.seconds) + Double(maximum.components.attoseconds) / 1e18
            let raw = min(cap, base * pow(multiplier, Double(min(attempt, 64))))
            let jittered = raw * Double.random(in: 0.8...1.2)
            return .milliseconds(Int64(jittered * 1000))
        }
    }

    public static let defaultMaximumFrameSize = 4 * 1024 * 1024

    public init(
        maximumFrameSize: Int = WireConfiguration.defaultMaximumFrameSize,
        maximumConcurrentStreams: Int = 4096,
        keepaliveInterval: Duration? = .seconds(30),
        keepaliveTimeout: Duration = .seconds(10),
        connectTimeout: Duration = .seconds(5),
        reconnectBackoff: Backoff = Backoff()
    ) {
        self.maximumFrameSize = maximumFrameSize
        self.maximumConcurrentStreams = maximumConcurrentStreams
        self.keepaliveInterval = keepaliveInterval
        self.keepaliveTimeout = keepaliveTimeout
        self.connectTimeout = connectTimeout
        self.reconnectBackoff = reconnectBackoff
    }
}

