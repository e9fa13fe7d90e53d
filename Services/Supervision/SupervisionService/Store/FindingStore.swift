import Foundation
import OneSealCore
import OneSealProto
import OneSealStore
import SupervisionRules
import SwiftProtobuf

/// Findings and consumed events.
enum FindingStore {
    static func insert(_ finding: Supervision_Finding, id: UUID, departmentCode: String, kind: FindingKind, effect: FindingEffect, pushID: UUID?,
                       at: Date, idempotencyKey: String, digest: [UInt8], in transaction: PostgresConnection) async throws {
        let record: [UInt8] = try finding.serializedBytes()
        try await transaction.execute("""
            INSERT INTO findings (id, department_code, kind, effect, push_id, case_id, record, submitted_at, submitted_on, idempotency_key, request_digest)
            VALUES (\(id), \(departmentCode), \(kind.rawValue), \(effect.rawValue), \(pushID), \(finding.caseID), \(record), \(at),
                    \(CivilDate(at).iso8601)::date, \(idempotencyKey), \(digest))
            """)
    }

    static func find(departmentCode: String, idempotencyKey: String, on connection: PostgresConnection) async throws -> (Supervision_Finding, [UInt8])? {
        guard let row = try await connection.query("""
            SELECT record, request_digest FROM findings WHERE department_code = \(departmentCode) AND idempotency_key = \(idempotencyKey)
            """).first else { return nil }
        return (try Supervision_Finding(serializedBytes: try row.decode("record", as: [UInt8].self)), try row.decode("request_digest"))
    }

    /// One page of the findings matching the filters, oldest first (ties by id): the page after
    /// `after` (a keyset, decision 58 — the page costs the same at the millionth row as at the
    /// first), its total stopping at ``ListTotal/cap`` + 1, and whether more follow.
    static func list(
        caseID: String, departmentCode: String, kinds: [String], pushID: UUID? = nil, after: InstantPageKey?, limit: Int,
        on connection: PostgresConnection
    ) async throws -> (findings: [Supervision_Finding], total: Int, next: InstantPageKey?) {
        var condition: SQLQuery = "TRUE"
        if !caseID.isEmpty { condition = "\(condition) AND case_id = \(caseID)" }
        if !departmentCode.isEmpty { condition = "\(condition) AND department_code = \(departmentCode)" }
        if kinds.count == 1 { condition = "\(condition) AND kind = \(kinds[0])" }
        if kinds.count > 1 { condition = "\(condition) AND kind = ANY(\(SQLArray(kinds))::text[])" }
        if let pushID { condition = "\(condition) AND push_id = \(pushID)" }
        var page = condition
        if let after { page = "\(condition) AND (submitted_at, id) > (\(after.at)::timestamptz, \(after.id)::uuid)" }
        let total = try await connection.query(ListTotal.query(from: "findings", where: condition)).one().decode("n", as: Int.self)
        let rows = try await connection.query(
            "SELECT id, submitted_at, record FROM findings WHERE \(page) ORDER BY submitted_at, id LIMIT \(limit + 1)")
        let shown = Array(rows.prefix(limit))
        let findings = try shown.map { try Supervision_Finding(serializedBytes: try $0.decode("record", as: [UInt8].self)) }
        var next: InstantPageKey?
        if rows.count > limit, let last = shown.last {
            next = InstantPageKey(at: try last.decode("submitted_at", as: Date.self), id: try last.decode("id", as: UUID.self))
        }
        return (findings, total, next)
    }

    /// Findings per department submitted in [from, to].
    static func counts(from: CivilDate, to: CivilDate, departmentCode: String, on connection: PostgresConnection) async throws -> [String: Int] {
        var out: [String: Int] = [:]
        for row in try await connection.query("""
            SELECT department_code, count(*) AS n FROM findings
            WHERE submitted_on BETWEEN \(from.iso8601)::date AND \(to.iso8601)::date AND (\(departmentCode) = '' OR department_code = \(departmentCode))
            GROUP BY department_code
            """) {
            out[try row.decode("department_code")] = try row.decode("n", as: Int.self)
        }
        return out
    }
}

/// What became of each consumed event (nothing another service reports is dropped unseen).
enum SourceEventStore {
    enum Outcome: String { case pushed, noBoundary = "no_boundary", notPushed = "not_pushed", unknownType = "unknown_type", unfileable }

    static func record(eventID: String, type: String, sourceNode: String, caseID: String, implementationCode: String, outcome: Outcome,
                       pushes: Int, note: String, payload: [UInt8]?, in transaction: PostgresConnection) async throws {
        // Sent with the transaction's next statement or its COMMIT: nothing waits for it.
        try await transaction.executeWithNext("""
            INSERT INTO source_events (event_id, type, source_node, case_id, implementation_code, outcome, pushes, note, payload)
            VALUES (\(eventID), \(type), \(sourceNode), \(caseID), \(implementationCode), \(outcome.rawValue), \(pushes), \(note), \(payload))
            ON CONFLICT (event_id) DO NOTHING
            """)
    }

    /// Implementation codes whose decisions found no boundary entry.
    static func itemsWithoutBoundary(on connection: PostgresConnection) async throws -> [String] {
        try await connection.query("""
            SELECT DISTINCT implementation_code FROM source_events WHERE outcome = 'no_boundary' ORDER BY implementation_code
            """).map { try $0.decode("implementation_code", as: String.self) }
    }
}
