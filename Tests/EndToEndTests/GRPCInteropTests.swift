import Foundation
import OneSealAuth
import OneSealBenchSupport
import OneSealLocalCluster
import Testing

/// A gRPC runtime we did not write calls us (issue #17 item 4): Python's grpcio, with stubs it
/// generates from proto/ at test time, reaches the two-node cluster of real processes on the
/// services' standard gRPC over HTTP/2 ports, over TLS (the nodes' CAs from `LocalCluster`, as
/// `oneseal certs` makes them), and checks health,
/// a submission (idempotent, refused with a named field, refused without a token) and a licence
/// verification (`tests/interop/grpc_interop.py`). `scripts/test` installs grpcio first.
@Suite("gRPC interop (Python grpcio against the cluster)", .serialized)
struct GRPCInteropTests {
    static var root: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    @Test("Python grpcio calls health, submits an application and verifies a licence over TLS on the HTTP/2 ports")
    func pythonOverTLS() async throws {
        try await withTwoNodes { cluster, hall in
            // A licence issued by the county, for Python to verify.
            let outcome = try await Lifecycle(hall: hall, route: .countyFood).run()
            let token = try cluster.signingKeys[Hall.county]!.mint(subject: "python-clerk", role: .windowClerk, node: Hall.county)
            let output = FileManager.default.temporaryDirectory.appendingPathComponent("oneseal-interop-\(UUID().uuidString.prefix(8)).out").path
            defer { try? FileManager.default.removeItem(atPath: output) }
            let status = try await Pgbench.runToCompletion([
                "/usr/bin/env",
                "ONESEAL_INTEROP_INTAKE=127.0.0.1:\(cluster.grpcPorts[ServiceAddress(.intake, Hall.county)]!)",
                "ONESEAL_INTEROP_CERTIFICATE=127.0.0.1:\(cluster.grpcPorts[ServiceAddress(.certificate, Hall.county)]!)",
                "ONESEAL_INTEROP_CA=\(cluster.trustFile.path)",
                "ONESEAL_INTEROP_TOKEN=\(token)",
                "ONESEAL_INTEROP_ITEM=\(Hall.countyFoodItem)",
                "ONESEAL_INTEROP_LICENCE=\(outcome.licenceIdentifier)",
                "python3", Self.root.appendingPathComponent("tests/interop/grpc_interop.py").path,
            ], outputPath: output)
            let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            print(text)
            #expect(status == 0, "grpc_interop.py exited \(status) (pip install grpcio grpcio-tools protobuf?):\n\(text)")
            #expect(text.contains(" 0 failed"), "\(text)")
        }
    }
}
