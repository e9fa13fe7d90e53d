import Foundation
import GRPCCore
import OneSealAuth
import OneSealProto
import OneSealTestSupport
import OneSealWire
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// What an operator sees of a running service: Prometheus metrics and log lines with trace ids.
@Suite("Observability")
struct ObservabilityTests {
    @Test("a running executable exports call, latency, outbox and pool metrics, and logs the caller's trace id")
    func metricsAndTraceIDs() async throws {
        try await withTestDatabase(prefix: "observability") { _, database in
            let process = try ServiceProcess(
                executable: "oneseal-intake",
                environment: [
                    "ONESEAL_NODE": "371302", "ONESEAL_PORT": "0", "ONESEAL_METRICS_PORT": "0",
                    "ONESEAL_DATABASE_URL": database.conninfo,
                    "ONESEAL_TOKEN_PUBLIC_KEYS": TokenSigningKey.generate(issuer: "x").testTrustEntries,
                    "ONESEAL_DATA_KEY_FILE": try ServiceExecutableTests.dataKeyFile(),
                ]
            )
            defer { process.terminate() }
            guard let port = await process.listeningPort(),
                  let metricsLine = await process.waitForLine(containing: "metrics endpoint listening"),
                  let metricsPort = metricsLine.split(separator: " ").first(where: { $0.hasPrefix("address=") })?.split(separator: ":").last.flatMap({ Int($0) })
            else {
                Issue.record("did not start: \(process.lines) \(process.standardError)")
                return
            }
            try await withGRPCClient(transport: OneSealClientTransport(host: "127.0.0.1", port: port)) { grpc in
                _ = try await Health_Health.Client(wrapping: grpc).check(Health_CheckRequest())
                // A call without a token, carrying a trace: refused, and the refusal's log line names the trace.
                var metadata = Metadata()
                metadata.addString("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", forKey: "traceparent")
                await #expect(throws: RPCError.self) {
                    _ = try await Intake_IntakeService.Client(wrapping: grpc).getApplication(Intake_GetApplicationRequest(), metadata: metadata)
                }
            }
            let refusal = await process.waitForLine(containing: "call refused", "trace_id=0af7651916cd43dd8448eb211c80319c")
            #expect(refusal != nil, "log lines: \(process.lines.suffix(5))")

            // The maintenance loop publishes outbox and pool gauges right after start.
            var text = ""
            for _ in 0..<40 {
                let (data, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(metricsPort)/metrics")!)
                text = String(decoding: data, as: UTF8.self)
                if text.contains("oneseal_outbox_pending_events") { break }
                try await Task.sleep(for: .milliseconds(250))
            }
            #expect(text.contains(#"oneseal_rpc_calls_total{method="oneseal.health.v1.Health/Check",code="ok"} 1"#), "\(text.prefix(2000))")
            #expect(text.contains(#"oneseal_rpc_calls_total{method="oneseal.intake.v1.IntakeService/GetApplication",code="unauthenticated"} 1"#))
            #expect(text.contains("oneseal_rpc_duration_seconds"))
            #expect(text.contains("oneseal_outbox_pending_events 0"), "\(text.prefix(3000))")
            #expect(text.contains("oneseal_outbox_oldest_pending_seconds"))
            #expect(text.contains("oneseal_db_pool_open_connections"))
        }
    }
}
