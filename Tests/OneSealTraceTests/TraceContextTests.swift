import Logging
import OneSealTrace
import Testing

@Suite("Trace context (W3C traceparent)")
struct TraceContextTests {
    static let example = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    @Test("the W3C example parses and prints back the same")
    func roundTrip() throws {
        let context = try #require(TraceContext(traceparent: Self.example))
        #expect(context.traceID == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(context.spanID == "00f067aa0ba902b7")
        #expect(context.sampled)
        #expect(context.traceparent == Self.example)
    }

    @Test("invalid values are refused, as the W3C rules say", arguments: [
        "",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",            // three parts
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",   // version 00 with five
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",         // version ff
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",         // zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",         // zero span id
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",         // upper case
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",          // 31 digits
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x",         // bad flags
    ])
    func invalid(_ value: String) {
        #expect(TraceContext(traceparent: value) == nil)
    }

    @Test("a later version may carry more parts; the first four are read")
    func futureVersion() {
        #expect(TraceContext(traceparent: "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-what-ever")?.sampled == false)
    }

    @Test("continuing keeps the trace id and makes a new span; garbage starts a new trace")
    func continuing() {
        let next = TraceContext.continuing(Self.example)
        #expect(next.traceID == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(next.spanID != "00f067aa0ba902b7")
        #expect(TraceContext(traceparent: next.traceparent) == next)
        let fresh = TraceContext.continuing("not a traceparent")
        #expect(fresh.traceID != "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(TraceContext(traceparent: fresh.traceparent) == fresh)
        #expect(TraceContext.root().traceID != TraceContext.root().traceID)
    }

    @Test("the log metadata provider reads the task's context")
    func loggerMetadata() {
        #expect(TraceContext.loggerMetadataProvider.get().isEmpty)
        let context = TraceContext(traceparent: Self.example)!
        TraceContext.$current.withValue(context) {
            let metadata = TraceContext.loggerMetadataProvider.get()
            #expect(metadata["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736")
            #expect(metadata["span_id"] == "00f067aa0ba902b7")
        }
    }
}
