import Foundation
import OneSealTLS
import Testing

/// `oneseal certs` (issue #17 item 3): the files an operator makes for a node, as a service loads them.
@Suite("oneseal certs CLI")
struct CertsCommandTests {
    @Test("init, issue, trust, show: a loadable service certificate and a bundle trusting both nodes")
    func certs() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("oneseal-certs-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: directory) }
        let city = directory.appendingPathComponent("city").path, county = directory.appendingPathComponent("county").path

        #expect(try await runCLI(["certs", "init", "--node", "371300", "--dir", city]).status == 0)
        #expect(try await runCLI(["certs", "init", "--node", "371302", "--dir", county]).status == 0)
        let again = try await runCLI(["certs", "init", "--node", "371300", "--dir", city])
        #expect(again.status != 0 && again.output.contains("refusing to replace a node CA"))

        let issued = try await runCLI(["certs", "issue", "--service", "intake", "--node", "371300", "--dir", city, "--host", "city-intake", "10.20.0.5", "--json"])
        #expect(issued.status == 0, "\(issued.output)")
        #expect(issued.output.contains("oneseal://371300/intake"))
        let noCA = try await runCLI(["certs", "issue", "--service", "intake", "--node", "371399", "--dir", city])
        #expect(noCA.status != 0 && noCA.output.contains("no CA for node 371399"))

        #expect(try await runCLI(["certs", "trust", "--peer", "\(county)/ca-371302.pem", "--dir", city]).status == 0)
        // Twice is once.
        #expect(try await runCLI(["certs", "trust", "--peer", "\(county)/ca-371302.pem", "--dir", city]).status == 0)
        let notCA = try await runCLI(["certs", "trust", "--peer", "\(city)/intake-371300.pem", "--dir", county])
        #expect(notCA.status != 0)

        let key = try FileManager.default.attributesOfItem(atPath: "\(city)/intake-371300.key")[.posixPermissions] as? NSNumber
        #expect(key?.intValue == 0o600)
        let caKey = try FileManager.default.attributesOfItem(atPath: "\(city)/ca-371300.key")[.posixPermissions] as? NSNumber
        #expect(caKey?.intValue == 0o600)

        // The files load as a service loads them, and say what they are.
        let material = try TLSMaterial.load(TLSFiles(
            certificateFile: "\(city)/intake-371300.pem", keyFile: "\(city)/intake-371300.key", trustFile: "\(city)/trust.pem"))
        #expect(material.identity == ServiceIdentity(node: "371300", service: "intake"))
        #expect(material.trust.authorities.count == 2)
        #expect(material.serverContext != nil)
        let show = try await runCLI(["certs", "show", "\(city)/intake-371300.pem"])
        #expect(show.status == 0 && show.output.contains("oneseal://371300/intake"))
    }
}
