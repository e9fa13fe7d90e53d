import Metrics
import GRPCCore
import NIOCore

/// Why the server refused a frame or a connection: the `reason` dimension of
/// `oneseal_wire_refused_total`. A small fixed set, so a peer cannot create label values.
public enum RefusalReason: String, Sendable, CaseIterable {
    /// A frame breaking the protocol (Close{13} on its stream).
    case protocolViolation = "protocol"
    /// Open metadata that is malformed (Close{3}).
    case invalidMetadata = "metadata"
    /// A limit: streams per connection or per server, metadata size (Close{8}).
    case limit = "limit"
    /// A malformed method path (Close{12}).
    case method = "method"
    /// An Open after GoAway (Close{14}).
    case draining = "draining"
    /// Framing lost: oversized length or a body that is not a Frame (GoAway, connection closed).
    case framing = "framing"
    /// A connection over the server's connection limit (GoAway{8}, closed).
    case connectionLimit = "connections"
    /// A frame begun and not completed in time (GoAway{4}, closed).
    case frameTimeout = "frame_timeout"
    /// A TLS client certificate that did not verify (expired, unknown CA, no identity); the
    /// handshake fails and the connection closes.
    case certificate = "certificate"

    /// The reason of a refusing `Close` the state machine produced, from its status code.
    init(refusalCode code: Int32) {
        switch Status.Code(wire: code) {
        case .invalidArgument: self = .invalidMetadata
        case .resourceExhausted: self = .limit
        case .unimplemented: self = .method
        case .unavailable: self = .draining
        default: self = .protocolViolation
        }
    }
}

/// The transport's counters (swift-metrics; the service's Prometheus registry exports them).
/// Created once per server transport: `Counter` creation goes through the factory's lock.
public struct WireMetrics: Sendable {
    private let refused: [RefusalReason: Counter]
    /// Idle connections the server closed (not an error; `oneseal_wire_idle_closed_total`).
    let idleClosed: Counter

    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        var refused: [RefusalReason: Counter] = [:]
        for reason in RefusalReason.allCases {
            refused[reason] = Counter(label: "oneseal_wire_refused_total", dimensions: [("reason", reason.rawValue)], factory: factory)
        }
        self.refused = refused
        self.idleClosed = Counter(label: "oneseal_wire_idle_closed_total", factory: factory)
    }

    func countRefusal(_ reason: RefusalReason) {
        self.refused[reason]?.increment()
    }
}

/// At most one log line per interval for the refusals of one connection.
///
/// Why: every refused frame used to log ≈ 195 bytes at notice level, so a peer sending a stream
/// of tiny bad frames wrote the disk full at network speed. Now the first refusal is logged, then
/// at most one per `interval` carrying how many were left out since; `finish` gives the count
/// still unlogged when the connection ends, for one summary line. The metric counts all of them.
/// Pure (the clock is passed in), so the rule is tested without waiting.
struct RefusalLogLimiter: Sendable {
    let interval: TimeAmount
    private var lastLogged: NIODeadline?
    private(set) var suppressed = 0

    init(interval: TimeAmount) {
        self.interval = interval
    }

    /// Whether to log the refusal at `now`; if so, how many were left out before it.
    mutating func admit(at now: NIODeadline) -> (log: Bool, suppressedBefore: Int) {
        if let last = self.lastLogged, now - last < self.interval {
            self.suppressed += 1
            return (false, 0)
        }
        self.lastLogged = now
        defer { self.suppressed = 0 }
        return (true, self.suppressed)
    }

    /// The refusals never logged, once the connection is over (0: nothing to summarise).
    mutating func finish() -> Int {
        defer { self.suppressed = 0 }
        return self.suppressed
    }
}
