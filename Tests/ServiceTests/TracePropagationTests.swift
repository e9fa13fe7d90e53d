import GRPCCore
import OneSealTrace
import Testing

@Suite("Trace propagation")
struct TracePropagationTests {
    @Test("a call's traceparent reaches the events it writes (same trace, a new span); without one, a new trace starts")
    func callToOutbox() async throws {
        try await withIntakeNode(node: "371302", today: IntakeServiceTests.monday) { node in
            try await node.publishSampleCatalogue()
            var metadata = try node.clerk
            metadata.addString("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", forKey: "traceparent")
            _ = try await node.intake.submitApplication(try Fixtures.submit([IntakeServiceTests.food]), metadata: metadata)
            let traced = try await node.database.query("SELECT traceparent FROM outbox ORDER BY seq").map { try $0.decode("traceparent", as: String?.self) }
            #expect(!traced.isEmpty)
            for value in traced {
                let context = try #require(value.flatMap(TraceContext.init(traceparent:)), "outbox traceparent \(String(describing: value))")
                #expect(context.traceID == "4bf92f3577b34da6a3ce929d0e0e4736")
                #expect(context.spanID != "00f067aa0ba902b7")
            }

            _ = try await node.intake.submitApplication(try Fixtures.submit([IntakeServiceTests.food]), metadata: try node.clerk)
            let all = try await node.database.query("SELECT traceparent FROM outbox ORDER BY seq").map { try $0.decode("traceparent", as: String?.self) }
            let newTraces = Set(all.dropFirst(traced.count).compactMap { $0.flatMap(TraceContext.init(traceparent:))?.traceID })
            #expect(newTraces.count == 1)
            #expect(!newTraces.contains("4bf92f3577b34da6a3ce929d0e0e4736"))
        }
    }
}
