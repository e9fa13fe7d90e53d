import CertificateContracts
import CertificateRules
import Foundation
import GRPCCore
import OneSealAuth
import OneSealCore
import OneSealProto
import OneSealServiceKit
import OneSealStore

/// The trust list (互认): this node's own keys (kept in step with the seal key file at start-up) and
/// the peers' keys an operator adds. Public to read: anyone verifying needs the keys.
extension CertificateAPI {
    public func listTrustedIssuers(request: Certificate_ListTrustedIssuersRequest, context: ServerContext) async throws -> Certificate_ListTrustedIssuersResponse {
        let pageSize = request.page.pageSize == 0 ? 100 : Int(request.page.pageSize)
        guard (1...500).contains(pageSize) else { throw RPCError.invalidArgument(field: "page.page_size", "between 1 and 500", reason: "range") }
        guard let offset = request.page.pageToken.isEmpty ? 0 : Int(request.page.pageToken), offset >= 0 else {
            throw RPCError.invalidArgument(field: "page.page_token", "not a token this service gave", reason: "format")
        }
        let keys = try await database.withConnection { try await LicenceStore.trustedKeys(on: $0) }
        var response = Certificate_ListTrustedIssuersResponse()
        let page = keys.dropFirst(offset).prefix(pageSize)
        response.issuers = page.map(\.proto)
        response.page.totalSize = Int64(keys.count)
        if offset + page.count < keys.count { response.page.nextPageToken = String(offset + page.count) }
        return response
    }

    public func addTrustedIssuer(request: Certificate_AddTrustedIssuerRequest, context: ServerContext) async throws -> Certificate_AddTrustedIssuerResponse {
        let caller = try ServerContext.requireCaller()
        let issuer = request.issuer
        var violations: [Common_FieldViolation] = []
        let code = IdentityCode.normalized(issuer.issuerCode)
        if (try? LicenceIdentifier(typeCode: "111111111111111111001", issuer: code, serial: "1", version: 1)) == nil {
            violations.append(Self.violation("issuer.issuer_code", "'\(issuer.issuerCode)' is not an 18-character unified social credit code", reason: "format"))
        }
        if issuer.issuerName.trimmingCharacters(in: .whitespaces).isEmpty { violations.append(Self.violation("issuer.issuer_name", "required", reason: "required")) }
        if !DivisionCode.isValid(issuer.node) { violations.append(Self.violation("issuer.node", "'\(issuer.node)' is not a 6-digit division code", reason: "format")) }
        if !issuer.endpoint.isEmpty {
            let parts = issuer.endpoint.split(separator: ":")
            if parts.count != 2 || Int(parts[1]).map({ !(1...65535).contains($0) }) ?? true {
                violations.append(Self.violation("issuer.endpoint", "'\(issuer.endpoint)' is not host:port", reason: "format"))
            }
        }
        var key: SealPublicKey?
        if let algorithm = SealAlgorithm(proto: issuer.algorithm) {
            do { key = try SealPublicKey(algorithm: algorithm, rawRepresentation: Array(issuer.publicKey)) } catch {
                violations.append(Self.violation("issuer.public_key", "\(error)", reason: "format"))
            }
        } else {
            violations.append(Self.violation("issuer.algorithm", "ED25519 or SM2_SM3", reason: "enum"))
        }
        if let key, !issuer.keyID.isEmpty, issuer.keyID != key.keyID {
            violations.append(Self.violation("issuer.key_id", "the key's id is \(key.keyID), not \(issuer.keyID)", reason: "mismatch"))
        }
        if issuer.own { violations.append(Self.violation("issuer.own", "this node's own keys come from its seal key file, not from AddTrustedIssuer", reason: "read_only")) }
        if code == settings.issuerCode { violations.append(Self.violation("issuer.issuer_code", "that is this node's own issuer code", reason: "read_only")) }
        let validFrom = issuer.hasValidFrom ? issuer.validFrom.date : Date(timeIntervalSince1970: 0)
        let validUntil: Date? = issuer.hasValidUntil ? issuer.validUntil.date : nil
        if let validUntil, validUntil <= validFrom { violations.append(Self.violation("issuer.valid_until", "must be after valid_from", reason: "range")) }
        guard violations.isEmpty, let key else { throw RPCError.invalidArgument(violations) }
        let entry = TrustedKey(issuerCode: code, issuerName: issuer.issuerName, node: issuer.node, endpoint: issuer.endpoint, key: key,
                               validFrom: validFrom, validUntil: validUntil, own: false)
        try await database.withTransaction { transaction in
            try await transaction.execute("""
                INSERT INTO trusted_issuers (issuer_code, key_id, issuer_name, node, endpoint, algorithm, public_key, valid_from, valid_until, own, added_by)
                VALUES (\(code), \(key.keyID), \(entry.issuerName), \(entry.node), \(entry.endpoint), \(key.algorithm.rawValue), \(key.rawRepresentation),
                        \(validFrom), \(validUntil), false, \(caller.subject))
                ON CONFLICT (issuer_code, key_id) DO UPDATE SET issuer_name = EXCLUDED.issuer_name, node = EXCLUDED.node, endpoint = EXCLUDED.endpoint,
                    valid_from = EXCLUDED.valid_from, valid_until = EXCLUDED.valid_until, added_by = EXCLUDED.added_by, added_at = now(),
                    removed_at = NULL, removed_reason = NULL
                WHERE NOT trusted_issuers.own
                """)
        }
        logger.notice("trusted issuer added", metadata: ["issuer": "\(code)", "key_id": "\(key.keyID)", "node": "\(entry.node)", "by": "\(caller.logSubject)"])
        var response = Certificate_AddTrustedIssuerResponse()
        var out = entry.proto
        out.addedBy = Common_ActorRef(caller)
        response.issuer = out
        return response
    }

    public func removeTrustedIssuer(request: Certificate_RemoveTrustedIssuerRequest, context: ServerContext) async throws -> Certificate_RemoveTrustedIssuerResponse {
        let caller = try ServerContext.requireCaller()
        var violations: [Common_FieldViolation] = []
        if request.issuerCode.isEmpty { violations.append(Self.violation("issuer_code", "required", reason: "required")) }
        if request.keyID.isEmpty { violations.append(Self.violation("key_id", "required", reason: "required")) }
        if request.reason.trimmingCharacters(in: .whitespaces).isEmpty { violations.append(Self.violation("reason", "required", reason: "required")) }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let code = IdentityCode.normalized(request.issuerCode)
        try await database.withTransaction { transaction in
            let rows = try await transaction.query("SELECT own FROM trusted_issuers WHERE issuer_code = \(code) AND key_id = \(request.keyID) AND removed_at IS NULL FOR UPDATE")
            guard let row = rows.first else { throw RPCError(code: .notFound, message: "no trusted key \(request.keyID) of issuer \(code)") }
            guard !(try row.decode("own", as: Bool.self)) else {
                throw RPCError(code: .failedPrecondition, message: "this node's own keys stay on the list so its earlier licences keep verifying; rotate the seal key file instead")
            }
            try await transaction.execute("""
                UPDATE trusted_issuers SET removed_at = now(), removed_reason = \(request.reason)
                WHERE issuer_code = \(code) AND key_id = \(request.keyID)
                """)
        }
        logger.notice("trusted issuer removed", metadata: ["issuer": "\(code)", "key_id": "\(request.keyID)", "by": "\(caller.logSubject)"])
        return Certificate_RemoveTrustedIssuerResponse()
    }

    /// Keeps this node's own entries in step with the seal key file: every key in the file is listed;
    /// the current key is open-ended; an own key no longer current gets its end time (now) once, so
    /// licences it sealed before stay authentic and it cannot seal new ones.
    static func syncOwnKeys(_ seals: SealKeyring, settings: CertificateSettings, node: String, endpoint: String, now: Date, on database: PostgresClient) async throws {
        try await database.withTransaction { transaction in
            try await transaction.execute("SELECT pg_advisory_xact_lock(\(Int64(0x0_5E41_7157)))")
            for key in seals.all {
                try await transaction.execute("""
                    INSERT INTO trusted_issuers (issuer_code, key_id, issuer_name, node, endpoint, algorithm, public_key, valid_from, own, added_by)
                    VALUES (\(settings.issuerCode), \(key.keyID), \(settings.issuerName), \(node), \(endpoint), \(key.algorithm.rawValue),
                            \(key.publicKey.rawRepresentation), \(now), true, 'seal key file')
                    ON CONFLICT (issuer_code, key_id) DO UPDATE SET issuer_name = EXCLUDED.issuer_name, endpoint = EXCLUDED.endpoint
                    """)
            }
            // Retire own keys that are no longer the signing key; reopen the current one if it was retired.
            try await transaction.execute("""
                UPDATE trusted_issuers SET valid_until = \(now)
                WHERE own AND valid_until IS NULL AND NOT (issuer_code = \(settings.issuerCode) AND key_id = \(seals.current.keyID))
                """)
            try await transaction.execute("""
                UPDATE trusted_issuers SET valid_until = NULL
                WHERE own AND issuer_code = \(settings.issuerCode) AND key_id = \(seals.current.keyID)
                """)
        }
    }
}
