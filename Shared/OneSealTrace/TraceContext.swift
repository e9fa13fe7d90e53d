import Logging

/// The W3C trace context (`traceparent`) of the work in progress, so that one application can be
/// followed through every log line of every service on every node it touched: the intake call, the
/// event to approval, the decision, the licence, the push.
///
/// It travels in the `traceparent` metadata of calls (PROTOCOL.md §10) and in the `traceparent` of
/// event envelopes; inside a process it is a task-local value, bound by the server interceptor and
/// the event sink, read by the client interceptor, the outbox and the log handler.
public struct TraceContext: Sendable, Hashable, CustomStringConvertible {
    /// 32 lowercase hex digits, not all zero: the whole journey.
    public let traceID: String
    /// 16 lowercase hex digits, not all zero: this step of it.
    public let spanID: String
    public let sampled: Bool

    /// The context of the current task, if any.
    @TaskLocal public static var current: TraceContext?

    /// Parses a `traceparent` header (`00-<trace id>-<span id>-<flags>`); nil when it is not a
    /// valid version-00 value (the W3C rule: then start a new trace rather than trust it).
    public init?(traceparent: String) {
        let parts = traceparent.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 4, parts[0].count == 2, parts[0] != "ff", Self.isHex(parts[0]) else { return nil }
        // Version 00 has exactly four parts; a later version may append more, which we ignore.
        if parts[0] == "00", parts.count != 4 { return nil }
        let trace = parts[1], span = parts[2], flags = parts[3]
        guard trace.count == 32, Self.isHex(trace), trace.contains(where: { $0 != "0" }),
              span.count == 16, Self.isHex(span), span.contains(where: { $0 != "0" }),
              flags.count == 2, Self.isHex(flags), let flagBits = UInt8(flags, radix: 16)
        else { return nil }
        self.traceID = String(trace)
        self.spanID = String(span)
        self.sampled = flagBits & 1 == 1
    }

    init(traceID: String, spanID: String, sampled: Bool) {
        self.traceID = traceID
        self.spanID = spanID
        self.sampled = sampled
    }

    /// A new trace (nothing came in with the work).
    public static func root() -> TraceContext {
        TraceContext(traceID: randomHex(bytes: 16), spanID: randomHex(bytes: 8), sampled: true)
    }

    /// The next step of the same trace: same trace id, a new span id.
    public func child() -> TraceContext {
        TraceContext(traceID: traceID, spanID: Self.randomHex(bytes: 8), sampled: sampled)
    }

    /// The context for work that arrived with `traceparent` (a child of it), or a new trace when
    /// it is missing or invalid.
    public static func continuing(_ traceparent: String?) -> TraceContext {
        traceparent.flatMap(TraceContext.init(traceparent:))?.child() ?? root()
    }

    public var traceparent: String { "00-\(traceID)-\(spanID)-\(sampled ? "01" : "00")" }
    public var description: String { traceparent }

    /// Adds `trace_id` and `span_id` of the current task to every log line, whichever logger
    /// writes it (installed by the service runner's logging bootstrap).
    public static let loggerMetadataProvider = Logger.MetadataProvider {
        guard let context = TraceContext.current else { return [:] }
        return ["trace_id": "\(context.traceID)", "span_id": "\(context.spanID)"]
    }

    private static func isHex(_ text: Substring) -> Bool {
        text.allSatisfy { ("0"..."9").contains($0) || ("a"..."f").contains($0) }
    }

    private static func randomHex(bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        var text = ""
        repeat {
            text = ""
            for _ in 0..<bytes {
                let byte = UInt8.random(in: 0...255, using: &generator)
                text += String(byte >> 4, radix: 16) + String(byte & 0x0f, radix: 16)
            }
        } while !text.contains(where: { $0 != "0" })
        return text
    }
}
