import CertificateRules
import Foundation
import OneSealCore
import OneSealOutbox
import OneSealPrivacy
import OneSealProto
import OneSealServiceKit
import OneSealStore
import SwiftProtobuf

/// One licence as stored.
struct StoredLicence: Sendable {
    let id: UUID
    var caseID: String
    var identifier: String
    var licenceNumber: String
    var serial: String
    var version: Int
    var licenceTypeCode: String
    var contentSealed: [UInt8]
    var publicContent: Certificate_LicenceContent
    var algorithm: SealAlgorithm
    var keyID: String
    var signature: [UInt8]
    var signer: String
    var signedAt: Date
    var standing: LicenceStanding
    var statusReason: String
    var groundCode: String
    var supersededBy: String?
    var applicationID: String
    var acceptingNode: String
    var decidedOn: CivilDate?
    var requestDigest: [UInt8]
    var logIndex: Int64?
    var logIntegrateBy: Date
    var issuedAt: Date
}

/// The licences' SQL (parameterized through `SQLQuery`), in the caller's connection or transaction.
enum LicenceStore {
    static let columns: StaticString = """
        id, case_id, identifier, licence_number, serial, version, licence_type_code, content_sealed, public_content,
        algorithm, key_id, signature, signer, signed_at, issued_on::text AS issued_on, valid_from::text AS valid_from,
        valid_until::text AS valid_until, act, act_effective_on::text AS act_effective_on, status_reason, ground_code,
        superseded_by, application_id, accepting_node, decided_on::text AS decided_on, request_digest, log_index,
        log_integrate_by, issued_at
        """

    static func date(_ row: PostgresRow, _ column: String) throws -> CivilDate? {
        try row.decode(column, as: String?.self).flatMap { CivilDate($0) }
    }

    static func decode(_ row: PostgresRow) throws -> StoredLicence {
        let issuedOn = try date(row, "issued_on")!
        let standing = LicenceStanding(
            issuedOn: issuedOn, validFrom: try date(row, "valid_from")!, validUntil: try date(row, "valid_until"),
            act: try row.decode("act", as: String?.self).flatMap(LicenceAct.init(rawValue:)),
            effectiveOn: try date(row, "act_effective_on"))
        return StoredLicence(
            id: try row.decode("id", as: UUID.self),
            caseID: try row.decode("case_id", as: String.self),
            identifier: try row.decode("identifier", as: String.self),
            licenceNumber: try row.decode("licence_number", as: String.self),
            serial: try row.decode("serial", as: String.self),
            version: try row.decode("version", as: Int.self),
            licenceTypeCode: try row.decode("licence_type_code", as: String.self),
            contentSealed: try row.decode("content_sealed", as: [UInt8].self),
            publicContent: try Certificate_LicenceContent(serializedBytes: try row.decode("public_content", as: [UInt8].self)),
            algorithm: SealAlgorithm(rawValue: try row.decode("algorithm", as: String.self)) ?? .ed25519,
            keyID: try row.decode("key_id", as: String.self),
            signature: try row.decode("signature", as: [UInt8].self),
            signer: try row.decode("signer", as: String.self),
            signedAt: try row.decode("signed_at", as: Date.self),
            standing: standing,
            statusReason: try row.decode("status_reason", as: String.self),
            groundCode: try row.decode("ground_code", as: String.self),
            supersededBy: try row.decode("superseded_by", as: String?.self),
            applicationID: try row.decode("application_id", as: String.self),
            acceptingNode: try row.decode("accepting_node", as: String.self),
            decidedOn: try date(row, "decided_on"),
            requestDigest: try row.decode("request_digest", as: [UInt8].self),
            logIndex: try row.decode("log_index", as: Int64?.self),
            logIntegrateBy: try row.decode("log_integrate_by", as: Date.self),
            issuedAt: try row.decode("issued_at", as: Date.self))
    }

    static func find(id: UUID, forUpdate: Bool = false, on connection: PostgresConnection) async throws -> StoredLicence? {
        let rows = forUpdate
            ? try await connection.query("SELECT \(unescaped: columns) FROM licences WHERE id = \(id) FOR UPDATE")
            : try await connection.query("SELECT \(unescaped: columns) FROM licences WHERE id = \(id)")
        return try rows.first.map(decode)
    }

    static func find(identifier: String, forUpdate: Bool = false, on connection: PostgresConnection) async throws -> StoredLicence? {
        let rows = forUpdate
            ? try await connection.query("SELECT \(unescaped: columns) FROM licences WHERE identifier = \(identifier) FOR UPDATE")
            : try await connection.query("SELECT \(unescaped: columns) FROM licences WHERE identifier = \(identifier)")
        return try rows.first.map(decode)
    }

    static func find(number: String, on connection: PostgresConnection) async throws -> StoredLicence? {
        try await connection.query("SELECT \(unescaped: columns) FROM licences WHERE licence_number = \(number) ORDER BY version DESC LIMIT 1").first.map(decode)
    }

    /// The first version issued for a case (the one a grant makes).
    static func find(caseID: String, on connection: PostgresConnection) async throws -> StoredLicence? {
        try await connection.query("SELECT \(unescaped: columns) FROM licences WHERE case_id = \(caseID) AND version = 1").first.map(decode)
    }

    /// The licence version a case produced, whatever its version: a renewal case's licence is the
    /// next version of the licence it renews (so `find(caseID:)`, which looks for version 1, misses it).
    static func issued(byCase caseID: String, on connection: PostgresConnection) async throws -> StoredLicence? {
        try await connection.query("SELECT \(unescaped: columns) FROM licences WHERE case_id = \(caseID) ORDER BY version DESC LIMIT 1").first.map(decode)
    }

    /// The latest version of a serial (status changes follow a reissued licence to its current version).
    static func latest(serial: String, forUpdate: Bool, on connection: PostgresConnection) async throws -> StoredLicence? {
        let rows = forUpdate
            ? try await connection.query("SELECT \(unescaped: columns) FROM licences WHERE serial = \(serial) ORDER BY version DESC LIMIT 1 FOR UPDATE")
            : try await connection.query("SELECT \(unescaped: columns) FROM licences WHERE serial = \(serial) ORDER BY version DESC LIMIT 1")
        return try rows.first.map(decode)
    }

    /// The next value of each gap-free counter named, in the order named, in the caller's
    /// transaction and in one statement (an issuance draws its serial and its number: they were a
    /// statement each, #21). A scope named twice gets consecutive values. The counters are locked
    /// in the order of their names, so two transactions drawing the same pair cannot deadlock
    /// whatever order they name them in.
    static func next(_ scopes: [String], in transaction: PostgresConnection) async throws -> [Int] {
        guard !scopes.isEmpty else { return [] }
        let rows = try await transaction.query("""
            INSERT INTO counters (scope, last)
            SELECT scope, count(*) FROM unnest(\(SQLArray(scopes))::text[]) AS s(scope) GROUP BY scope ORDER BY scope
            ON CONFLICT (scope) DO UPDATE SET last = counters.last + EXCLUDED.last
            RETURNING scope, last
            """)
        var last: [String: Int] = [:]
        for row in rows { last[try row.decode("scope", as: String.self)] = try row.decode("last", as: Int.self) }
        // A scope's values run up to its `last`, handed out in the order the scopes were named.
        var remaining = Dictionary(scopes.map { ($0, 1) }, uniquingKeysWith: +)
        return try scopes.map { scope in
            guard let top = last[scope], let left = remaining[scope] else { throw PostgresError(kind: .server, message: "counter \(scope) was not returned") }
            remaining[scope] = left - 1
            return top - left + 1
        }
    }

    static func insert(_ licence: StoredLicence, holderIndex: [UInt8], in transaction: PostgresConnection) async throws {
        let publicContent: [UInt8] = try licence.publicContent.serializedBytes()
        try await transaction.execute("""
            INSERT INTO licences (id, case_id, identifier, licence_number, serial, version, licence_type_code, holder_index,
                content_sealed, public_content, algorithm, key_id, signature, signer, signed_at, issued_on, valid_from, valid_until,
                application_id, accepting_node, decided_on, request_digest, log_integrate_by, issued_at)
            VALUES (\(licence.id), \(licence.caseID), \(licence.identifier), \(licence.licenceNumber), \(licence.serial), \(licence.version),
                \(licence.licenceTypeCode), \(holderIndex), \(licence.contentSealed), \(publicContent), \(licence.algorithm.rawValue),
                \(licence.keyID), \(licence.signature), \(licence.signer), \(licence.signedAt), \(licence.standing.issuedOn.iso8601)::date,
                \(licence.standing.validFrom.iso8601)::date, \(licence.standing.validUntil?.iso8601)::date, \(licence.applicationID),
                \(licence.acceptingNode), \(licence.decidedOn?.iso8601)::date, \(licence.requestDigest), \(licence.logIntegrateBy), \(licence.issuedAt))
            """)
    }

    /// Writes a status change (act, reason, replacement).
    static func updateStanding(_ licence: StoredLicence, in transaction: PostgresConnection) async throws {
        try await transaction.execute("""
            UPDATE licences SET act = \(licence.standing.act?.rawValue), act_effective_on = \(licence.standing.effectiveOn?.iso8601)::date,
                status_reason = \(licence.statusReason), ground_code = \(licence.groundCode), superseded_by = \(licence.supersededBy)
            WHERE id = \(licence.id)
            """)
    }

    static func logPersonalDataRead(subject: String, role: String, node: String, licence: UUID, purpose: String, on connection: PostgresConnection) async throws {
        try await connection.execute("""
            INSERT INTO personal_data_reads (subject, role, node, licence_id, purpose)
            VALUES (\(subject), \(role), \(node), \(licence), \(purpose))
            """)
    }

    /// The trust list (not removed), own keys first.
    static func trustedKeys(on connection: PostgresConnection) async throws -> [TrustedKey] {
        try await connection.query("""
            SELECT issuer_code, key_id, issuer_name, node, endpoint, algorithm, public_key, valid_from, valid_until, own
            FROM trusted_issuers WHERE removed_at IS NULL ORDER BY own DESC, issuer_code, valid_from
            """).compactMap { row in
            guard let algorithm = SealAlgorithm(rawValue: try row.decode("algorithm", as: String.self)),
                  let key = try? SealPublicKey(algorithm: algorithm, rawRepresentation: try row.decode("public_key", as: [UInt8].self)) else { return nil }
            return TrustedKey(
                issuerCode: try row.decode("issuer_code", as: String.self), issuerName: try row.decode("issuer_name", as: String.self),
                node: try row.decode("node", as: String.self), endpoint: try row.decode("endpoint", as: String.self), key: key,
                validFrom: try row.decode("valid_from", as: Date.self), validUntil: try row.decode("valid_until", as: Date?.self),
                own: try row.decode("own", as: Bool.self))
        }
    }
}
