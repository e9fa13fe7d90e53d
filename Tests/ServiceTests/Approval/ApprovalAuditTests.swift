import ApprovalRules
import Foundation
import GRPCCore
import OneSealAuth
import OneSealCore
import OneSealProto
import OneSealServiceKit
import OneSealStore
import Testing
@testable import ApprovalService

/// Runs the `oneseal` CLI built next to the tests and returns its exit status and output.
func runCLI(_ arguments: [String], environment: [String: String] = [:]) async throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = ServiceProcess.buildDirectory.appendingPathComponent("oneseal")
    process.arguments = arguments
    process.environment = environment.merging(["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin", "ONESEAL_INSECURE_LOOPBACK": "1"]) { old, _ in old }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = try await Task.detached { pipe.fileHandleForReading.readDataToEndOfFile() }.value
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

@Suite("Approval service: audit chain and case file", .serialized)
struct ApprovalAuditTests {
    typealias F = ApprovalFixtures
    static let code = "000117016000371302002"

    /// A node with two cases worked on: a chain of a dozen entries.
    func work(_ node: ApprovalNode) async throws -> String {
        let cases = try await node.accept([F.item(Self.code, tier: .section), F.item("000117005000371302001", tier: .sole)])
        let id = cases[Self.code]!.caseID
        _ = try await node.approval.claimStep(Approval_ClaimStepRequest.with { $0.caseID = id }, metadata: try node.officer)
        _ = try await node.approval.reviewStep(Approval_ReviewStepRequest.with { $0.caseID = id; $0.conclusion = .proposeGrant; $0.opinion = F.review }, metadata: try node.officer)
        _ = try await node.approval.returnToStep(Approval_ReturnToStepRequest.with {
            $0.caseID = id; $0.targetStepIndex = 0; $0.reason = "承办人未附现场核查照片，请补充后重新审查"
        }, metadata: try node.chief)
        _ = try await node.approval.reviewStep(Approval_ReviewStepRequest.with { $0.caseID = id; $0.conclusion = .proposeGrant; $0.opinion = F.review + "（已补充照片）" }, metadata: try node.officer)
        _ = try await node.approval.signOff(Approval_SignOffRequest.with { $0.caseID = id; $0.conclusion = .proposeGrant; $0.opinion = F.signOff }, metadata: try node.chief)
        let decided = try await node.approval.decide(Approval_DecideRequest.with { $0.caseID = id; $0.grant = F.grant }, metadata: try node.chief)
        #expect(decided.case.returns == 1)
        #expect(decided.case.steps.map(\.round) == [1, 1, 2, 2])
        let redo = try Approval_CaseDecided(serializedBytes: OutboxRows.of(Approval_CaseDecided.self, in: try await node.outbox())[0].payload)
        #expect(redo.returns == 1)
        return id
    }

    func verify(_ node: ApprovalNode, case id: String = "") async throws -> Approval_VerifyAuditChainResponse {
        try await node.approval.verifyAuditChain(Approval_VerifyAuditChainRequest.with { $0.caseID = id }, metadata: try node.operatorToken)
    }

    @Test("every action is chained; the chain verifies; its entries list per case")
    func chain() async throws {
        try await withApprovalNode(today: CivilDate(year: 2026, month: 9, day: 21)!) { node in
            let id = try await work(node)
            let intact = try await verify(node)
            #expect(intact.intact)
            #expect(intact.entriesChecked == 8)
            #expect(intact.headHash.count == 32)
            let entries = try await node.approval.listAuditEntries(Approval_ListAuditEntriesRequest.with { $0.caseID = id }, metadata: try node.operatorToken).entries
            #expect(entries.map(\.action) == ["case.opened", "step.claimed", "step.reviewed", "case.returned", "step.reviewed", "step.signed", "case.decided"])
            #expect(entries[2].detailsJson.contains("现场核查"))
            #expect(try await verify(node, case: id).intact)
            // Only operators, the director and evaluators verify.
            await #expect { _ = try await node.approval.verifyAuditChain(Approval_VerifyAuditChainRequest(), metadata: try node.officer) } throws: { rpcFailure($0)?.code == .permissionDenied }
        }
    }

    @Test("tampering in PostgreSQL is found and the first bad row named: edit, delete, reorder — by the RPC and by `oneseal audit verify`")
    func tamper() async throws {
        try await withApprovalNode(today: CivilDate(year: 2026, month: 9, day: 21)!) { node in
            _ = try await work(node)
            let address = "127.0.0.1:\(node.port)"
            let token = try node.token(.operator, "ops-1")
            let ok = try await runCLI(["audit", "verify", "--address", address, "--token", token])
            #expect(ok.status == 0, "\(ok.output)")
            #expect(ok.output.contains("intact"))

            // Edit: change an opinion in entry 5.
            try await node.database.execute("UPDATE audit_entries SET details_json = replace(details_json, '现场核查', '电话核实') WHERE sequence = 5")
            var result = try await verify(node)
            #expect(!result.intact)
            #expect(result.firstBrokenSequence == 5)
            #expect(result.message.contains("edited"))
            let edited = try await runCLI(["audit", "verify", "--address", address, "--token", token])
            #expect(edited.status == 1)
            #expect(edited.output.contains("entry 5"), "\(edited.output)")
            try await node.database.execute("UPDATE audit_entries SET details_json = replace(details_json, '电话核实', '现场核查') WHERE sequence = 5")
            #expect(try await verify(node).intact)

            // Reorder: swap entries 3 and 4 (their sequence numbers).
            try await node.database.execute("UPDATE audit_entries SET sequence = -3 WHERE sequence = 3")
            try await node.database.execute("UPDATE audit_entries SET sequence = 3 WHERE sequence = 4")
            try await node.database.execute("UPDATE audit_entries SET sequence = 4 WHERE sequence = -3")
            result = try await verify(node)
            #expect(!result.intact)
            #expect(result.firstBrokenSequence == 3)
            let reordered = try await runCLI(["audit", "verify", "--address", address, "--token", token])
            #expect(reordered.status == 1)
            #expect(reordered.output.contains("entry 3"))
            try await node.database.execute("UPDATE audit_entries SET sequence = -3 WHERE sequence = 3")
            try await node.database.execute("UPDATE audit_entries SET sequence = 3 WHERE sequence = 4")
            try await node.database.execute("UPDATE audit_entries SET sequence = 4 WHERE sequence = -3")
            #expect(try await verify(node).intact)

            // Delete: entry 6 disappears; then the last entry too.
            try await node.database.execute("DELETE FROM audit_entries WHERE sequence = 6")
            result = try await verify(node)
            #expect(!result.intact)
            #expect(result.firstBrokenSequence == 7)
            #expect(result.message.contains("missing"))
            let deleted = try await runCLI(["audit", "verify", "--address", address, "--token", token])
            #expect(deleted.status == 1)
            #expect(deleted.output.contains("entry 7"))
            // A deleted tail is found through the chain head.
            try await node.database.execute("DELETE FROM audit_entries WHERE sequence >= 6")
            result = try await verify(node)
            #expect(!result.intact)
            #expect(result.firstBrokenSequence == 6)
        }
    }

    @Test("the case file is one signed self-describing archive; `oneseal audit verify-file` checks signature and entries")
    func caseFile() async throws {
        try await withApprovalNode(today: CivilDate(year: 2026, month: 9, day: 21)!) { node in
            let id = try await work(node)
            await #expect {
                _ = try await node.approval.exportCaseFile(Approval_ExportCaseFileRequest.with { $0.caseID = id }, metadata: try node.officer)
            } throws: { rpcFailure($0)?.code == .permissionDenied }
            let exported = try await node.approval.exportCaseFile(Approval_ExportCaseFileRequest.with { $0.caseID = id }, metadata: try node.operatorToken)
            #expect(exported.fileName.hasSuffix(".case.json"))
            let check = CaseFile.check(exported.archive, trustedKeys: [node.key.publicKey])
            #expect(check.ok, "\(check.problems)")
            #expect(check.audit.entriesChecked == 7)
            #expect(check.caseNumber.hasPrefix("371302-20260921-"))
            let archive = try JSONSerialization.jsonObject(with: exported.archive) as! [String: Any]
            let content = try JSONSerialization.jsonObject(with: Data((archive["content"] as! String).utf8)) as! [String: Any]
            let record = content["case"] as! [String: Any]
            #expect((record["steps"] as! [Any]).count == 4)
            #expect(((record["decision"] as! [String: Any])["document"] as! [String: Any])["number"] as? String == "371302许准〔2026〕1号")
            #expect((record["applicant"] as! [String: Any])["id_number"] as? String == "91371302MA3C1234X7")
            // The file shows the applicant in full: the export is logged as a read, once, for this case.
            let logged = try await node.database.query("SELECT case_id::text AS c FROM personal_data_reads WHERE purpose = 'case_file'").map { try $0.decode("c", as: String.self) }
            #expect(logged == [id])

            let path = FileManager.default.temporaryDirectory.appendingPathComponent("case-\(UUID().uuidString).json").path
            defer { try? FileManager.default.removeItem(atPath: path) }
            try exported.archive.write(to: URL(fileURLWithPath: path))
            let key = node.key.publicKey.rawRepresentation.base64EncodedString()
            let good = try await runCLI(["audit", "verify-file", path, "--trusted-key", key])
            #expect(good.status == 0, "\(good.output)")
            // One changed character in the content breaks the signature.
            let text = String(decoding: exported.archive, as: UTF8.self).replacingOccurrences(of: "预包装食品销售", with: "散装白酒销售")
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            #expect(!CaseFile.check(Data(text.utf8)).signatureValid)
            let bad = try await runCLI(["audit", "verify-file", path, "--trusted-key", key])
            #expect(bad.status == 1)
            #expect(bad.output.contains("signature"))
        }
    }
}
