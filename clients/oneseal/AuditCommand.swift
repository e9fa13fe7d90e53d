import ApprovalService
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
        @Option(help: "host:port of the node's approval service.") var address: String
        @Option(name: .customLong("case"), help: "Case id: verify the chain up to this case's last entry.") var caseID: String = ""
        @OptionGroup var credentials: OperatorCredentials

        func run() async throws {
            let metadata = try credentials.metadata()
            let response = try await withApproval(address) { approval in
                try await approval.verifyAuditChain(Approval_VerifyAuditChainRequest.with { $0.caseID = caseID }, metadata: metadata)
            }
            let head = response.headHash.map { String(format: "%02x", $0) }.joined()
            if response.intact {
                print("audit chain intact: \(response.entriesChecked) entries, head \(head)")
            } else {
                print("audit chain BROKEN at entry \(response.firstBrokenSequence): \(response.message) (\(response.entriesChecked) entries before it verified)")
                throw ExitCode(1)
            }
        }
    }

    struct Entries: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a case's audit entries, oldest first.")
        @Option(help: "host:port of the node's approval service.") var address: String
        @Option(name: .customLong("case"), help: "Case id.") var caseID: String
        @OptionGroup var credentials: OperatorCredentials

        func run() async throws {
            let metadata = try credentials.metadata()
            try await withApproval(address) { approval in
                var request = Approval_ListAuditEntriesRequest.with { $0.caseID = caseID; $0.page.pageSize = 1000 }
                repeat {
                    let response = try await approval.listAuditEntries(request, metadata: metadata)
                    for entry in response.entries {
                        let hash = entry.entryHash.prefix(8).map { String(format: "%02x", $0) }.joined()
                        print("\(entry.sequence)\t\(entry.at.date.ISO8601Format())\t\(entry.action)\t\(entry.actor.subject) (\(entry.actor.role))\t\(hash)…\t\(entry.detailsJson)")
                    }
                    request.page.pageToken = response.page.nextPageToken
                } while !request.page.pageToken.isEmpty
            }
        }
    }

    struct VerifyFile: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify-file",
            abstract: "Check an exported case file (oneseal-case-file/1): digest, Ed25519 signature, each audit entry's hash; exit 1 if anything fails.")
        @Argument(help: "The archive (*.case.json).") var file: String
        @Option(help: "Trusted signing public key (base64); repeat for several. Without one, any valid signature is accepted.") var trustedKey: [String] = []

        func run() async throws {
            let data: Data
            do { data = try Data(contentsOf: URL(fileURLWithPath: file)) } catch { throw ValidationError("cannot read \(file): \(error.localizedDescription)") }
            let keys = try trustedKey.map { try TokenVerifier.publicKey(base64: $0) }
            let check = CaseFile.check(data, trustedKeys: keys)
            print("case \(check.caseNumber.isEmpty ? "?" : check.caseNumber): signature \(check.signatureValid ? "valid" : "INVALID") (key \(check.keyID)\(check.trusted ? "" : ", NOT TRUSTED")); audit entries: \(check.audit.message)")
            for problem in check.problems { print("problem: \(problem)") }
            if !check.ok { throw ExitCode(1) }
        }
    }
}

/// `oneseal case show|export`: one approval case as the back office sees it.
struct CaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "case",
        abstract: "Look up an approval case or export its signed case file (案卷).",
        subcommands: [Show.self, Export.self]
    )

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a case (JSON) by id or number.")
        @Option(help: "host:port of the node's approval service.") var address: String
        @Option(name: .customLong("case"), help: "Case id (UUID) or case number.") var key: String
        @OptionGroup var credentials: OperatorCredentials

        func run() async throws {
            let metadata = try credentials.metadata()
            let response = try await withApproval(address) { approval in
                try await approval.getCase(Approval_GetCaseRequest.with {
                    if UUID(uuidString: key) != nil { $0.caseID = key } else { $0.caseNumber = key }
                }, metadata: metadata)
            }
            var options = JSONEncodingOptions()
            options.preserveProtoFieldNames = true
            print(try response.case.jsonString(options: options))
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a case's signed case file (oneseal-case-file/1).")
        @Option(help: "host:port of the node's approval service.") var address: String
        @Option(name: .customLong("case"), help: "Case id.") var caseID: String
        @Option(help: "Where to write it (default: the suggested file name in the current directory).") var out: String?
        @OptionGroup var credentials: OperatorCredentials

        func run() async throws {
            let metadata = try credentials.metadata()
            let response = try await withApproval(address) { approval in
                try await approval.exportCaseFile(Approval_ExportCaseFileRequest.with { $0.caseID = caseID }, metadata: metadata)
            }
            let path = out ?? response.fileName
            try response.archive.write(to: URL(fileURLWithPath: path))
            print("\(path): sha256 \(response.contentSha256), signed by key \(response.keyID)")
        }
    }
}

func withApproval<T: Sendable>(_ address: String, _ body: (Approval_ApprovalService.Client<OneSealClientTransport>) async throws -> T) async throws -> T {
    let parts = address.split(separator: ":")
    guard parts.count == 2, let port = Int(parts[1]) else { throw ValidationError("address must be host:port") }
    return try await withGRPCClient(transport: OneSealClientTransport(host: String(parts[0]), port: port)) { client in
        try await body(Approval_ApprovalService.Client(wrapping: client))
    }
}
