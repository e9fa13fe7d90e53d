import ApprovalRules
import ArgumentParser
import Crypto
import Foundation
import GRPCCore
import OneSealAuth
import OneSealProto
import OneSealWire
import SwiftProtobuf

/// `oneseal audit verify|entries|verify-file`: the approval audit chain and exported case files.
/// `verify` asks the node's approval service to recompute its hash chain and exits 1 naming the
/// first bad row when any row was edited, deleted or reordered.
struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Verify the approval audit hash chain, list a case's entries, check a case file.",
        subcommands: [Verify.self, Entries.self, VerifyFile.self]
    )

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Recompute the node's audit chain (or up to one case's last entry); exit 1 if broken.")
        @Option(name: .customLong("case"), help: "Case id: verify the chain up to this case's last entry.") var caseID: String = ""
        @OptionGroup var connection: Connection
        @OptionGroup var credentials: Credentials
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let metadata = try credentials.metadata(node: connection.node, defaultRole: .operator)
            let response = try await ProgressLine("verifying audit chain", total: nil, json: output.json).spinning {
                try await connection.approval { approval in
                    try await approval.verifyAuditChain(Approval_VerifyAuditChainRequest.with { $0.caseID = caseID }, metadata: metadata)
                }
            }
            let head = hexString(response.headHash)
            let json: [String: Any] = [
                "intact": response.intact, "entries_checked": Int(response.entriesChecked), "head_hash": head,
                "first_broken_sequence": Int(response.firstBrokenSequence), "message": response.message,
            ]
            if response.intact {
                try output.emit(json, text: "audit chain intact: \(response.entriesChecked) entries, head \(head)")
            } else {
                try output.emit(json, text: "audit chain BROKEN at entry \(response.firstBrokenSequence): \(response.message) (\(response.entriesChecked) entries before it verified)")
                throw ExitCode(1)
            }
        }
    }

    struct Entries: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a case's audit entries, oldest first.")
        @Option(name: .customLong("case"), help: "Case id.") var caseID: String
        @OptionGroup var connection: Connection
        @OptionGroup var credentials: Credentials
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let metadata = try credentials.metadata(node: connection.node, defaultRole: .operator)
            let entries = try await connection.approval { approval in
                var request = Approval_ListAuditEntriesRequest.with { $0.caseID = caseID; $0.page.pageSize = 1000 }
                return try await allPages { token in
                    request.page.pageToken = token
                    let response = try await approval.listAuditEntries(request, metadata: metadata)
                    return (response.entries, response.page.nextPageToken)
                }
            }
            let lines = entries.map { entry in
                "\(entry.sequence)\t\(entry.at.date.ISO8601Format())\t\(entry.action)\t\(entry.actor.subject) (\(entry.actor.role))\t\(hexString(entry.entryHash.prefix(8)))…\t\(entry.detailsJson)"
            }
            try output.emit(try JSONOutput.values(entries), text: lines.joined(separator: "\n"))
        }
    }

    struct VerifyFile: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify-file",
            abstract: "Check an exported case file (oneseal-case-file/1): digest, Ed25519 signature, each audit entry's hash; exit 1 if anything fails.")
        @Argument(help: "The archive (*.case.json).") var file: String
        @Option(help: "Trusted signing public key (base64); repeat for several. Without one, any valid signature is accepted.") var trustedKey: [String] = []
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let data: Data
            do { data = try Data(contentsOf: URL(fileURLWithPath: file)) } catch { throw ValidationError("cannot read \(file): \(error.localizedDescription)") }
            let keys = try trustedKey.map { key in
                do { return try TokenVerifier.publicKey(base64: key) } catch { throw ValidationError("--trusted-key '\(key.prefix(12))…': not a base64 Ed25519 public key") }
            }
            let check = CaseFile.check(data, trustedKeys: keys)
            var lines = ["case \(check.caseNumber.isEmpty ? "?" : check.caseNumber): signature \(check.signatureValid ? "valid" : "INVALID") (key \(check.keyID)\(check.trusted ? "" : ", NOT TRUSTED")); audit entries: \(check.audit.message)"]
            lines += check.problems.map { "problem: \($0)" }
            let json: [String: Any] = [
                "ok": check.ok, "case_number": check.caseNumber, "signature_valid": check.signatureValid, "key_id": check.keyID,
                "trusted": check.trusted, "audit_entries_checked": check.audit.entriesChecked, "audit": check.audit.message, "problems": check.problems,
            ]
            try output.emit(json, text: lines.joined(separator: "\n"))
            if !check.ok { throw ExitCode(1) }
        }
    }
}
