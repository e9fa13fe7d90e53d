import ApprovalContracts
import ApprovalRules
import Crypto
import Foundation
import GRPCCore
import OneSealAuth
import OneSealCore
import OneSealProto
import OneSealServiceKit
import OneSealStore
import SwiftProtobuf

/// The audit chain and the case file (案卷).
extension ApprovalAPI {
    public func verifyAuditChain(request: Approval_VerifyAuditChainRequest, context: ServerContext) async throws -> Approval_VerifyAuditChainResponse {
        _ = try ServerContext.requireCaller()
        return try await database.withConnection { connection in
            var through: Int64?
            if !request.caseID.isEmpty {
                let id = try Self.parseCaseID(request.caseID)
                _ = try await find(id, on: connection)
                // A case's entries are only as good as the chain before them: verify up to its last entry.
                through = try await connection.query("SELECT max(sequence) AS last FROM audit_entries WHERE case_id = \(id.uuidString.lowercased())")
                    .one().decode("last", as: Int64?.self) ?? 0
            }
            let result = try await AuditLog.verify(through: through, on: connection)
            if !result.intact {
                logger.critical("audit chain broken", metadata: ["first_broken_sequence": "\(result.firstBrokenSequence)", "message": "\(result.message)"])
            }
            return Approval_VerifyAuditChainResponse.with {
                $0.intact = result.intact
                $0.entriesChecked = Int64(result.entriesChecked)
                $0.firstBrokenSequence = result.firstBrokenSequence
                $0.headHash = Data(result.headHash)
                $0.message = result.message
            }
        }
    }

    public func listAuditEntries(request: Approval_ListAuditEntriesRequest, context: ServerContext) async throws -> Approval_ListAuditEntriesResponse {
        _ = try ServerContext.requireCaller()
        let id = try Self.parseCaseID(request.caseID)
        guard request.page.pageSize >= 0 else { throw RPCError.invalidArgument(field: "page.page_size", "must not be negative", reason: "out_of_range") }
        let size = request.page.pageSize == 0 ? 100 : min(Int(request.page.pageSize), 1000)
        var after: Int64 = 0
        if !request.page.pageToken.isEmpty {
            guard let value = Int64(request.page.pageToken), value >= 0 else {
                throw RPCError.invalidArgument(field: "page.page_token", "not a token from a previous page", reason: "format")
            }
            after = value
        }
        return try await database.withConnection { connection in
            _ = try await find(id, on: connection)
            let rows = try await connection.query("""
                SELECT \(unescaped: AuditLog.columns) FROM audit_entries WHERE case_id = \(id.uuidString.lowercased()) AND sequence > \(after)
                ORDER BY sequence LIMIT \(size + 1)
                """)
            let records = try rows.map(AuditLog.decode)
            var response = Approval_ListAuditEntriesResponse()
            response.entries = records.prefix(size).map(\.proto)
            if records.count > size, let last = records.prefix(size).last { response.page.nextPageToken = String(last.sequence) }
            response.page.totalSize = Int64(try await connection.query("SELECT count(*)::int8 AS n FROM audit_entries WHERE case_id = \(id.uuidString.lowercased())").one().decode("n", as: Int.self))
            return response
        }
    }

    public func exportCaseFile(request: Approval_ExportCaseFileRequest, context: ServerContext) async throws -> Approval_ExportCaseFileResponse {
        let caller = try ServerContext.requireCaller()
        let id = try Self.parseCaseID(request.caseID)
        guard let signer else {
            throw RPCError(code: .failedPrecondition, message: "case files are signed with the node's service key; configure ONESEAL_SERVICE_KEY_FILE")
        }
        return try await database.withConnection { connection in
            let stored = try await find(id, on: connection)
            var record = try caseProto(stored)
            // The records office keeps the complete file, applicant included; the read is logged.
            record.applicant = try openApplicant(stored)
            try await logFullReads(of: [stored.id], by: caller, purpose: "case_file", on: connection)
            let entries = try await AuditLog.entries(of: id, on: connection)
            let archive = try CaseFile.make(case: record, entries: entries, node: node, agency: settings.agencyName, exportedAt: clock(), exportedBy: caller.subject, signer: signer)
            return Approval_ExportCaseFileResponse.with {
                $0.archive = archive.bytes
                $0.fileName = "\(stored.state.caseNumber).case.json"
                $0.contentSha256 = archive.contentSHA256
                $0.keyID = signer.keyID
            }
        }
    }
}

extension AuditRecord {
    var proto: Approval_AuditEntry {
        Approval_AuditEntry.with {
            $0.sequence = sequence
            $0.caseID = caseID
            $0.action = action
            $0.actor = Common_ActorRef.with { $0.subject = actorSubject; $0.role = actorRole; $0.node = actorNode }
            $0.at = Google_Protobuf_Timestamp(date: Date(timeIntervalSince1970: Double(atMicros) / 1_000_000))
            $0.detailsJson = detailsJSON
            $0.previousHash = Data(previousHash)
            $0.entryHash = Data(entryHash)
        }
    }
}

extension CaseFile {
    /// Writes the archive of a case (the rules' `CaseFile.check` reads it back).
    static func make(
        case record: Approval_Case, entries: [AuditRecord], node: String, agency: String, exportedAt: Date, exportedBy: String, signer: TokenSigningKey
    ) throws -> Archive {
        var options = JSONEncodingOptions()
        options.preserveProtoFieldNames = true
        let caseObject = try JSONSerialization.jsonObject(with: Data(try record.jsonString(options: options).utf8))
        let content: [String: Any] = [
            "format": format,
            "node": node,
            "agency": agency,
            "exported_at": ISO8601DateFormatter().string(from: exportedAt),
            "exported_by": exportedBy,
            "case": caseObject,
            "audit_entries": entries.map { entry -> [String: Any] in
                ["sequence": entry.sequence, "case_id": entry.caseID, "action": entry.action, "actor_subject": entry.actorSubject,
                 "actor_role": entry.actorRole, "actor_node": entry.actorNode, "at_micros": entry.atMicros, "details_json": entry.detailsJSON,
                 "previous_hash": entry.previousHash.hexString, "entry_hash": entry.entryHash.hexString]
            },
            "audit_hash_scheme": "entry_hash = SHA-256(previous_hash || \"oneseal-audit/1\" || for each of sequence, case_id, action, actor_subject, actor_role, actor_node, at_micros, details_json: u32 big-endian byte length || UTF-8 bytes)",
            "audit_entries_verified": AuditChain.verifyEach(entries).intact,
        ]
        let contentData = try JSONSerialization.data(withJSONObject: content, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
        let contentText = String(decoding: contentData, as: UTF8.self)
        let digest = Array(SHA256.hash(data: contentData)).hexString
        let signature = try signer.privateKey.signature(for: contentData)
        let archive: [String: Any] = [
            "format": format,
            "content_type": "application/json",
            "content": contentText,
            "content_sha256": digest,
            "signature": [
                "algorithm": "Ed25519",
                "key_id": signer.keyID,
                "public_key": signer.publicKey.rawRepresentation.base64EncodedString(),
                "value": signature.base64EncodedString(),
            ] as [String: Any],
        ]
        return Archive(bytes: try JSONSerialization.data(withJSONObject: archive, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]), contentSHA256: digest)
    }
}
