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
    /// 256, not the 4096 of version 1.0: each open stream holds a handler task and its buffers,
    /// and 16 connections × 4096 streams of one unauthenticated client took a node to 2.1 GB.
    public var maximumConcurrentStreams: Int
    /// Most streams open at once on one server, over all its connections (server only); more are
    /// refused with `RESOURCE_EXHAUSTED`. The bound on memory held by calls, whoever opens them.
    public var maximumServerStreams: Int
    /// Most connections one server keeps at once (server only). One more gets
    /// `GoAway{RESOURCE_EXHAUSTED}` and is closed at once.
    public var maximumConnections: Int
    /// Most metadata entries in one Open, Headers or Close (`RESOURCE_EXHAUSTED` above).
    public var maximumMetadataEntries: Int
    /// Most bytes of metadata keys plus values in one Open, Headers or Close (`RESOURCE_EXHAUSTED` above).
    public var maximumMetadataBytes: Int
    /// A server connection with no open stream that has sent no complete frame for this long
    /// (counted from when it was accepted, its last frame, or its last call ending) is closed with
    /// `GoAway{0}` (server only; nil: never). Pings count as frames. Silent connections end so.
    public var idleTimeout: Duration?
    /// Once the first byte of a frame has arrived, the whole frame must arrive within this, or the
    /// server closes the connection with `GoAway{DEADLINE_EXCEEDED}` (server only): a peer may not
    /// hold a connection and a decoder buffer by trickling a frame (a huge Open, byte by byte).
    public var frameTimeout: Duration
    /// At most one log line per connection per this interval for refused frames; the rest are
    /// counted and summarised in the next line or when the connection closes.
    public var refusalLogInterval: Duration
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
            // Written out here, not `OneSealCore`'s `inSeconds`: the wire fuzzer is compiled from
            // this module's sources with its NIO and gRPC dependencies only (scripts/fuzz-wire).
            let base = Double(initial.components.seconds) + Double(initial.components.attoseconds) / 1e18
            let cap = Double(maximum.components.seconds) + Double(maximum.components.attoseconds) / 1e18
            let raw = min(cap, base * pow(multiplier, Double(min(attempt, 64))))
            let jittered = raw * Double.random(in: 0.8...1.2)
            return .milliseconds(Int64(jittered * 1000))
        }
    }

    public static let defaultMaximumFrameSize = 4 * 1024 * 1024

    /// The metadata limits as the conversion takes them.
    public var metadataLimits: MetadataLimits {
        MetadataLimits(maximumEntries: self.maximumMetadataEntries, maximumBytes: self.maximumMetadataBytes)
    }

    public init(
        maximumFrameSize: Int = WireConfiguration.defaultMaximumFrameSize,
        maximumConcurrentStreams: Int = 256,
        maximumServerStreams: Int = 4096,
        maximumConnections: Int = 1024,
        maximumMetadataEntries: Int = 128,
        maximumMetadataBytes: Int = 32 * 1024,
        idleTimeout: Duration? = .seconds(300),
        frameTimeout: Duration = .seconds(10),
        refusalLogInterval: Duration = .seconds(10),
        keepaliveInterval: Duration? = .seconds(30),
        keepaliveTimeout: Duration = .seconds(10),
        connectTimeout: Duration = .seconds(5),
        reconnectBackoff: Backoff = Backoff()
    ) {
        self.maximumFrameSize = maximumFrameSize
        self.maximumConcurrentStreams = maximumConcurrentStreams
        self.maximumServerStreams = maximumServerStreams
        self.maximumConnections = maximumConnections
        self.maximumMetadataEntries = maximumMetadataEntries
        self.maximumMetadataBytes = maximumMetadataBytes
        self.idleTimeout = idleTimeout
        self.frameTimeout = frameTimeout
        self.refusalLogInterval = refusalLogInterval
        self.keepaliveInterval = keepaliveInterval
        self.keepaliveTimeout = keepaliveTimeout
        self.connectTimeout = connectTimeout
        self.reconnectBackoff = reconnectBackoff
    }
}

