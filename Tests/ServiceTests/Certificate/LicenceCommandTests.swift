import CertificateRules
import Foundation
import OneSealCore
import OneSealProto
import Testing
@testable import CertificateService

/// Runs the built `oneseal` CLI with arguments; returns exit status and output.
struct CLIRun {
    let status: Int32
    let output: String

    static func run(_ arguments: [String]) async throws -> CLIRun {
        let process = Process()
        process.executableURL = ServiceProcess.buildDirectory.appendingPathComponent("oneseal")
        process.arguments = arguments
        // The certificate service here runs in process on plain TCP (insecure loopback, explicitly).
        process.environment = ProcessInfo.processInfo.environment.merging(["ONESEAL_INSECURE_LOOPBACK": "1"]) { _, new in new }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        // Read everything first (the pipe could fill and block the child), then reap it.
        let data = try await Task.detached { pipe.fileHandleForReading.readDataToEndOfFile() }.value
        process.waitUntilExit()
        return CLIRun(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }
}

/// `oneseal licence …` against a running certificate service: the CLI checks seals and proofs itself.
@Suite("oneseal licence CLI", .serialized)
struct LicenceCommandTests {
    @Test("keygen, verify, proof (inclusion and consistency checked locally), fetch")
    func licenceCommands() async throws {
        try await withCertificateNode(today: CertificateServiceTests.monday) { node in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("oneseal-cli-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let address = "127.0.0.1:\(node.port)"

            let keyFile = directory.appendingPathComponent("seal.key").path
            let keygen = try await CLIRun.run(["licence", "keygen", "--out", keyFile])
            #expect(keygen.status == 0)
            #expect(keygen.output.contains("key_id "))
            let ring = try SealKeyring(contentsOfFile: keyFile)
            #expect(keygen.output.contains(ring.current.keyID))
            #expect(!keygen.output.contains(ring.current.fileLine.dropFirst(8)))
            #expect(try FileManager.default.attributesOfItem(atPath: keyFile)[.posixPermissions] as? Int == 0o600)
            #expect(try await CLIRun.run(["licence", "keygen", "--out", keyFile]).status != 0)

            _ = try await node.deliver([try ApprovalEvents.envelope(ApprovalEvents.granted(caseID: "cli-1", decidedOn: CertificateServiceTests.monday))])
            try await node.integrate()
            let licence = try await node.certificate.listLicences(Certificate_ListLicencesRequest(), metadata: try node.operatorToken).licences[0]
            let identifier = licence.content.licenceIdentifier
            let head1 = try await node.certificate.getSignedTreeHead(Certificate_GetSignedTreeHeadRequest()).treeHead

            let verify = try await CLIRun.run(["licence", "verify", "--address", address, "--identifier", identifier])
            #expect(verify.status == 0, "\(verify.output)")
            #expect(verify.output.contains("真实有效"))
            #expect(verify.output.contains("log: included at index 0 of 1 (tree head seal and proof checked here)"))

            var altered = Array(identifier)
            altered[altered.count - 1] = altered.last == "0" ? "1" : "0"
            let bad = try await CLIRun.run(["licence", "verify", "--address", address, "--identifier", String(altered)])
            #expect(bad.status != 0)
            #expect(bad.output.contains("check character"))

            _ = try await node.deliver([try ApprovalEvents.envelope(ApprovalEvents.granted(caseID: "cli-2", decidedOn: CertificateServiceTests.monday))])
            try await node.integrate()
            let rootHex = Array(head1.rootHash).map { String(format: "%02x", $0) }.joined()
            let proof = try await CLIRun.run(["licence", "proof", "--address", address, "--identifier", identifier, "--first-size", "1", "--first-root", rootHex])
            #expect(proof.status == 0, "\(proof.output)")
            #expect(proof.output.contains("(seal checked)"))
            #expect(proof.output.contains("is in the tree of size 2"))
            #expect(proof.output.contains("the tree of size 2 extends the kept head of size 1"))
            let wrongRoot = String(repeating: "ab", count: 32)
            let inconsistent = try await CLIRun.run(["licence", "proof", "--address", address, "--first-size", "1", "--first-root", wrongRoot])
            #expect(inconsistent.status == 1)
            #expect(inconsistent.output.contains("NOT an extension"))

            let tokenKey = directory.appendingPathComponent("token.key").path
            _ = FileManager.default.createFile(atPath: tokenKey, contents: Data(node.token.base64.utf8), attributes: [.posixPermissions: 0o600])
            let pdfPath = directory.appendingPathComponent("licence.pdf").path
            let fetch = try await CLIRun.run(["licence", "fetch", "--address", address, "--id", licence.licenceID, "--out", pdfPath, "--key", tokenKey, "--node", "371300"])
            #expect(fetch.status == 0, "\(fetch.output)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: pdfPath)).starts(with: Data("%PDF-".utf8)))
            #expect(fetch.output.contains("qr https://"))
        }
    }
}
