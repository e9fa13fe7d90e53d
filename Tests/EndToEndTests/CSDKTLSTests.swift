import Foundation
import OneSealTestSupport
import OneSealAuth
import OneSealLocalCluster
import OneSealTLS
import Testing

/// Issue #17 item 5: the C SDK (clients/c, OpenSSL) against the real processes, which speak only
/// TLS: it verifies the node's certificate by CA file and by name, refuses a wrong name or CA, and
/// makes the same calls it makes in plain development (ServiceTests' "C SDK" suite).
@Suite("C SDK over TLS", .serialized)
struct CSDKTLSTests {
    static let sdk = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("clients/c")

    static func run(_ executable: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await runProgram(executable, arguments)
    }

    @Test("the example verifies the county's intake by CA and oneseal:// name, submits idempotently, and refuses a wrong name or CA")
    func exampleOverTLS() async throws {
        // Its own build folder: the plain-TCP suite builds clients/c/build at the same time.
        let build = FileManager.default.temporaryDirectory.appendingPathComponent("oneseal-csdk-tls-build-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: build) }
        let made = try await Self.run("/usr/bin/env", ["make", "-C", Self.sdk.path, "-j2", "BUILD=\(build.path)"])
        try #require(made.status == 0, "make failed:\n\(made.output)")
        let example = build.appendingPathComponent("submit_and_verify").path

        try await withTwoNodes { cluster, _ in
            let county = Hall.county
            let token = try cluster.signingKeys[county]!.mint(subject: "county-portal", role: .integrator, node: county)
            let address = "127.0.0.1:\(cluster.port(.intake, county))"
            let base = ["--intake", address, "--item", Hall.countyFoodItem, "--token", token]

            let ok = try await Self.run(example, base + ["--ca", cluster.trustFile.path, "--server-name", "oneseal://\(county)/intake"])
            #expect(ok.status == 0, "\(ok.output)")
            #expect(ok.output.contains("health: intake@\(county) SERVING"), "\(ok.output)")
            #expect(ok.output.contains("idempotent: the retry answered with the same application"), "\(ok.output)")
            #expect(ok.output.contains("bad USCC: INVALID_ARGUMENT"), "\(ok.output)")

            // The same port, but the certificate must name the city's intake: refused before any call.
            let wrongName = try await Self.run(example, base + ["--ca", cluster.trustFile.path, "--server-name", "oneseal://\(Hall.city)/intake"])
            #expect(wrongName.status == 1)
            #expect(wrongName.output.contains("does not name oneseal://\(Hall.city)/intake"), "\(wrongName.output)")

            // A CA the node's certificate does not lead to.
            let strangerCA = try NodeCertificateAuthority.create(node: "370100")
            let strangerFile = cluster.directory.appendingPathComponent("stranger-ca.pem")
            try strangerCA.certificatePEM.write(to: strangerFile, atomically: true, encoding: .utf8)
            let wrongCA = try await Self.run(example, base + ["--ca", strangerFile.path])
            #expect(wrongCA.status == 1)
            #expect(wrongCA.output.contains("server certificate refused"), "\(wrongCA.output)")

            // Plain TCP to a TLS port gets no answer a client could mistake for one.
            let plain = try await Self.run(example, base)
            #expect(plain.status != 0, "\(plain.output)")
            #expect(!plain.output.contains("SERVING"), "\(plain.output)")
        }
    }
}
