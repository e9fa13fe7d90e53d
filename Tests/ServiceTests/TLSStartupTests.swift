import Foundation
import Logging
import OneSealLocalCluster
import OneSealTLS
import Prometheus
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@testable import OneSealServiceKit

/// Issue #17 at the process boundary: a service refuses key material that is not its own and
/// plain TCP off loopback; the metrics endpoint asks for its token.
@Suite("TLS at start-up, and the metrics token")
struct TLSStartupTests {
    @Test("a certificate of another service stops the process at once, saying whose it is")
    func wrongCertificate() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("oneseal-tlsstart-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let ca = try NodeCertificateAuthority.create(node: "371300")
        let issued = try ca.issue(service: "approval")
        try issued.certificatePEM.write(to: directory.appendingPathComponent("c.pem"), atomically: true, encoding: .utf8)
        try issued.keyPEM.write(to: directory.appendingPathComponent("c.key"), atomically: true, encoding: .utf8)
        try ca.certificatePEM.write(to: directory.appendingPathComponent("t.pem"), atomically: true, encoding: .utf8)
        let process = try ServiceProcess(executable: "oneseal-intake", environment: [
            "ONESEAL_NODE": "371300", "ONESEAL_PORT": "0", "ONESEAL_METRICS_PORT": "off",
            "ONESEAL_DATABASE_URL": "host=127.0.0.1 port=1 dbname=none connect_timeout=1",
            "ONESEAL_TLS_CERT_FILE": directory.appendingPathComponent("c.pem").path,
            "ONESEAL_TLS_KEY_FILE": directory.appendingPathComponent("c.key").path,
            "ONESEAL_TLS_TRUST_FILE": directory.appendingPathComponent("t.pem").path,
        ])
        let status = await process.waitForExit()
        #expect(status == 2)
        #expect(process.standardError.contains("the certificate is for approval@371300, this process is intake@371300"), "\(process.standardError)")
    }

    @Test("plain TCP on a non-loopback address stops the process at once")
    func insecureOffLoopback() async throws {
        let process = try ServiceProcess(executable: "oneseal-intake", environment: [
            "ONESEAL_NODE": "371300", "ONESEAL_LISTEN_HOST": "0.0.0.0", "ONESEAL_INSECURE_LOOPBACK": "1",
        ])
        let status = await process.waitForExit()
        #expect(status == 2)
        #expect(process.standardError.contains("ONESEAL_INSECURE_LOOPBACK"), "\(process.standardError)")
    }

    @Test("/metrics answers 401 without the token and 200 with it; /healthz needs none")
    func metricsToken() async throws {
        let port = try freeLoopbackPort()
        let server = MetricsHTTPServer(
            host: "127.0.0.1", port: port, registry: PrometheusCollectorRegistry(), logger: Logger(label: "test"), bearerToken: "s3cret-scrape")
        let task = Task { try await server.run() }
        func status(_ path: String, token: String?) async throws -> Int {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
            if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
            for _ in 0..<50 {
                if let (_, response) = try? await URLSession.shared.data(for: request) { return (response as? HTTPURLResponse)?.statusCode ?? 0 }
                try await Task.sleep(for: .milliseconds(100))
            }
            return 0
        }
        #expect(try await status("/healthz", token: nil) == 200)
        #expect(try await status("/metrics", token: nil) == 401)
        #expect(try await status("/metrics", token: "wrong") == 401)
        #expect(try await status("/metrics", token: "s3cret-scrape") == 200)
        task.cancel()
        _ = await task.result
    }
}
