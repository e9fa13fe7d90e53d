import Foundation
import Logging
import OneSealTLS
import OneSealTestSupport
import ServiceLifecycle
import Testing
@testable import WebService

/// The web front's own HTTPS (#17 item 6, done with #18): served with the public host's
/// certificate, HSTS on every answer, and a renewed certificate taken by new connections without
/// a restart. Checked with curl, a client we did not write, trusting only the test CA.
@Suite struct WebHTTPSTests {
    /// A CA and a certificate for 127.0.0.1 (issued with OneSealTLS for brevity; in production the
    /// public host's certificate comes from the operator's CA).
    static func issue(into directory: URL, name: String, authority: NodeCertificateAuthority) throws -> (certificate: String, key: String) {
        let issued = try authority.issue(service: "web", hosts: ["127.0.0.1", "localhost"])
        let certificate = directory.appendingPathComponent("\(name).pem"), key = directory.appendingPathComponent("\(name).key")
        try issued.certificatePEM.write(to: certificate, atomically: true, encoding: .utf8)
        try issued.keyPEM.write(to: key, atomically: true, encoding: .utf8)
        return (certificate.path, key.path)
    }

    static func curl(_ url: String, ca: String) async throws -> (status: Int32, output: String) {
        try await runProgram("/usr/bin/env", ["curl", "-sS", "-D", "-", "-o", "/dev/null", "--cacert", ca, "--max-time", "10", url])
    }

    @Test("HTTPS with HSTS; plain HTTP and an untrusted CA get no page; a renewed certificate is served after reload")
    func httpsServesAndReloads() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("oneseal-web-https-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let first = try NodeCertificateAuthority.create(node: "371302")
        let second = try NodeCertificateAuthority.create(node: "371302")
        let firstCA = directory.appendingPathComponent("first-ca.pem").path, secondCA = directory.appendingPathComponent("second-ca.pem").path
        try first.certificatePEM.write(toFile: firstCA, atomically: true, encoding: .utf8)
        try second.certificatePEM.write(toFile: secondCA, atomically: true, encoding: .utf8)
        let files = try Self.issue(into: directory, name: "site", authority: first)
        let certificate = try WebCertificate(certificateFile: files.certificate, keyFile: files.key)

        let configuration = WebConfiguration(
            node: "371302", siteName: "临沂市兰山区行政审批服务局", host: "127.0.0.1", port: 0, publicURL: nil,
            intake: (host: "127.0.0.1", port: 1), certificate: (host: "127.0.0.1", port: 1))
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let front = WebFront(configuration: configuration, logger: Logger(label: "test.web"), https: certificate) { continuation.yield($0) }
        let group = ServiceGroup(services: [front], logger: Logger(label: "test.web"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = ports.makeAsyncIterator()
            let port = try #require(await iterator.next())
            let url = "https://127.0.0.1:\(port)/"

            let served = try await Self.curl(url, ca: firstCA)
            #expect(served.status == 0, "\(served.output)")
            #expect(served.output.contains("200"), "\(served.output)")
            #expect(served.output.lowercased().contains("strict-transport-security: max-age=31536000"), "\(served.output)")

            // A browser that does not trust the certificate's CA gets no page.
            let untrusted = try await Self.curl(url, ca: secondCA)
            #expect(untrusted.status != 0, "\(untrusted.output)")
            // Plain HTTP to the HTTPS port is not answered with a page.
            let plain = try await runProgram("/usr/bin/env", ["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5", "http://127.0.0.1:\(port)/"])
            #expect(!plain.output.hasPrefix("200"), "\(plain.output)")

            // Renewal: the files are replaced with a certificate from the second CA and reloaded.
            let renewed = try Self.issue(into: directory, name: "renewed", authority: second)
            try FileManager.default.removeItem(atPath: files.certificate)
            try FileManager.default.removeItem(atPath: files.key)
            try FileManager.default.copyItem(atPath: renewed.certificate, toPath: files.certificate)
            try FileManager.default.copyItem(atPath: renewed.key, toPath: files.key)
            #expect(certificate.reload(force: true, logger: Logger(label: "test.web")))
            let after = try await Self.curl(url, ca: secondCA)
            #expect(after.status == 0 && after.output.contains("200"), "\(after.output)")
            let old = try await Self.curl(url, ca: firstCA)
            #expect(old.status != 0, "the old CA should no longer verify the renewed certificate: \(old.output)")

            // A broken file keeps the current certificate.
            try "not a certificate".write(toFile: files.certificate, atomically: true, encoding: .utf8)
            #expect(!certificate.reload(force: true, logger: Logger(label: "test.web")))
            let still = try await Self.curl(url, ca: secondCA)
            #expect(still.status == 0 && still.output.contains("200"), "\(still.output)")

            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    @Test("the HTTPS files come in pairs")
    func configurationPairs() throws {
        let base = ["ONESEAL_INSECURE_LOOPBACK": "1", "ONESEAL_NODE": "371302", "ONESEAL_PEERS": "intake@371302=h:1,certificate@371302=h:2"]
        #expect(throws: (any Error).self) { try WebConfiguration.fromEnvironment(base.merging(["ONESEAL_WEB_HTTPS_CERT_FILE": "/x.pem"]) { $1 }) }
        #expect(throws: (any Error).self) { try WebConfiguration.fromEnvironment(base.merging(["ONESEAL_WEB_HTTPS_KEY_FILE": "/x.key"]) { $1 }) }
        let both = try? WebConfiguration.fromEnvironment(base.merging(["ONESEAL_WEB_HTTPS_CERT_FILE": "/x.pem", "ONESEAL_WEB_HTTPS_KEY_FILE": "/x.key"]) { $1 })
        #expect(both?.https?.certificateFile == "/x.pem" && both?.https?.keyFile == "/x.key")
        #expect(try WebConfiguration.fromEnvironment(base).https == nil)
    }
}
