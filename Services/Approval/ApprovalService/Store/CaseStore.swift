import ApprovalRules
import Foundation
import OneSealCore
import OneSealStore

/// The cases' SQL. Every change goes through `update` inside the transaction that also writes the
/// audit entry and the events (docs/architecture.md#the-store, transactional outbox).
enum CaseStore {
    static let columns: StaticString = "id, state::text AS state, applicant_sealed, revision, created_at, updated_at"

    /// Copies of the state kept in columns for lists and the sweeper.
    struct Derived {
        var nextRole: String?
        var nextAssignee: String?
        var dueOn: CivilDate?
        var yellowOn: CivilDate?
        var warning: String
        var revocationReviewOpen: Bool
        /// A running renewal's licence's last valid day (the renewal sweeper's key); nil otherwise.
        var renewalDueOn: CivilDate? = nil
    }

    /// The state as the JSON text bound into `state::jsonb` (keys unsorted: jsonb orders them itself).
    static func encode(_ state: CaseState) throws -> String {
        String(decoding: try JSONEncoder().encode(state), as: UTF8.self)
    }

    /// The case states this process decoded or wrote lately, by their stored text
    /// (`DecodedDocuments`; a write remembers the text the database answers for what it wrote).
    static let decodedStates = DecodedDocuments<CaseState>(capacity: 512)

    static func decode(_ row: PostgresRow) throws -> StoredCase {
        let text = try row.decode("state", as: String.self)
        return StoredCase(
            id: try row.decode("id", as: UUID.self),
            state: try decodedStates.value(of: text) { try JSONDecoder().decode(CaseState.self, from: Data($0.utf8)) },
            applicantSealed: try row.decode("applicant_sealed", as: [UInt8].self),
            revision: try row.decode("revision", as: Int64.self),
            createdAt: try row.decode("created_at", as: Date.self),
            updatedAt: try row.decode("updated_at", as: Date.self))
    }

    static func find(id: UUID, forUpdate: Bool = false, on connection: PostgresConnection) async throws -> StoredCase? {
        let rows = forUpdate
            ? try await connection.query("SELECT \(unescaped: columns) FROM cases WHERE id = \(id) FOR UPDATE")
            : try await connection.query("SELECT \(unescaped: columns) FROM cases WHERE id = \(id)")
        return try rows.first.map(decode)
    }

    static func find(number: String, on connection: PostgresConnection) async throws -> StoredCase? {
        try await connection.query("SELECT \(unescaped: columns) FROM cases WHERE case_number = \(number)").first.map(decode)
    }

    static func find(applicationID: String, implementationCode: String, on connection: PostgresConnection) async throws -> StoredCase? {
        try await connection.query("""
            SELECT \(unescaped: columns) FROM cases WHERE application_id = \(applicationID) AND implementation_code = \(implementationCode)
            """).first.map(decode)
    }

    /// The next number in `scope`, taken in the caller's transaction (no gaps from rolled-back work).
    static func nextNumber(scope: String, in transaction: PostgresConnection) async throws -> Int {
        try await transaction.query("""
            INSERT INTO number_counters (scope, last) VALUES (\(scope), 1)
            ON CONFLICT (scope) DO UPDATE SET last = number_counters.last + 1
            RETURNING last
            """).one().decode("last", as: Int.self)
    }

    /// Inserts a new case; returns false when (application, item) already has one (the unique
    /// constraint decides, so two replicas racing on the same event cannot both insert).
    static func insert(_ stored: StoredCase, derived: Derived, in transaction: PostgresConnection) async throws -> Bool {
        let state = stored.state
        let rows = try await transaction.query("""
            INSERT INTO cases (id, case_number, application_id, implementation_code, status, state, applicant_sealed, department_code,
                               next_role, next_assignee, accepted_on, due_on, yellow_on, warning, revocation_review_open, renewal_due_on,
                               revision, created_at, updated_at)
            VALUES (\(stored.id), \(state.caseNumber), \(state.applicationID), \(state.item.implementationCode), \(state.status.rawValue),
                    \(try encode(state))::jsonb, \(stored.applicantSealed), \(state.item.departmentCode), \(derived.nextRole), \(derived.nextAssignee),
                    \(state.acceptedOn.iso8601)::date, \(derived.dueOn?.iso8601)::date, \(derived.yellowOn?.iso8601)::date, \(derived.warning),
                    \(derived.revocationReviewOpen), \(derived.renewalDueOn?.iso8601)::date, \(stored.revision), \(stored.createdAt), \(stored.updatedAt))
            ON CONFLICT ON CONSTRAINT cases_one_per_item DO NOTHING
            RETURNING state::text AS state
            """)
        guard let written = rows.first else { return false }
        decodedStates.remember(try written.decode("state", as: String.self), as: state)
        return true
    }

    static func update(_ stored: StoredCase, derived: Derived, in transaction: PostgresConnection) async throws {
        let state = stored.state
        let written = try await transaction.query("""
            UPDATE cases SET status = \(state.status.rawValue), state = \(try encode(state))::jsonb, next_role = \(derived.nextRole),
                   next_assignee = \(derived.nextAssignee), due_on = \(derived.dueOn?.iso8601)::date, yellow_on = \(derived.yellowOn?.iso8601)::date,
                   warning = \(derived.warning), revocation_review_open = \(derived.revocationReviewOpen),
                   renewal_due_on = \(derived.renewalDueOn?.iso8601)::date, revision = \(stored.revision),
                   updated_at = \(stored.updatedAt)
            WHERE id = \(stored.id)
            RETURNING state::text AS state
            """).first
        if let written { decodedStates.remember(try written.decode("state", as: String.self), as: state) }
    }
}

/// The node's hash-chained audit log (ApprovalRules.AuditRecord). Appending locks the head row,
/// so entries are numbered without gaps even with several replicas writing.
enum AuditLog {
    static func append(caseID: UUID, action: String, actor: CaseActor, at: Date, details: [String: String], in transaction: PostgresConnection) async throws {
        let head = try await transaction.query("SELECT sequence, hash FROM audit_head WHERE id = 1 FOR UPDATE").one()
        let sequence = try head.decode("sequence", as: Int64.self)
        let hash = try head.decode("hash", as: [UInt8].self)
        let micros = Int64((at.timeIntervalSince1970 * 1_000_000).rounded())
        let record = AuditRecord.next(
            after: sequence == 0 ? nil : (sequence: sequence, hash: hash), caseID: caseID.uuidString.lowercased(), action: action,
            actorSubject: actor.subject, actorRole: actor.role, actorNode: actor.node, atMicros: micros, detailsJSON: AuditRecord.details(details))
        // The entry and the new head in one statement, sent with the transaction's next one (#21).
        try await transaction.executeWithNext("""
            WITH entry AS (
                INSERT INTO audit_entries (sequence, case_id, action, actor_subject, actor_role, actor_node, at_micros, details_json, previous_hash, entry_hash)
                VALUES (\(record.sequence), \(record.caseID), \(record.action), \(record.actorSubject), \(record.actorRole), \(record.actorNode),
                        \(record.atMicros), \(record.detailsJSON), \(record.previousHash), \(record.entryHash))
            )
            UPDATE audit_head SET sequence = \(record.sequence), hash = \(record.entryHash) WHERE id = 1
            """)
    }

    static let columns: StaticString = "sequence, case_id, action, actor_subject, actor_role, actor_node, at_micros, details_json, previous_hash, entry_hash"

    static func decode(_ row: PostgresRow) throws -> AuditRecord {
        AuditRecord(
            sequence: try row.decode("sequence", as: Int64.self), caseID: try row.decode("case_id", as: String.self),
            action: try row.decode("action", as: String.self), actorSubject: try row.decode("actor_subject", as: String.self),
            actorRole: try row.decode("actor_role", as: String.self), actorNode: try row.decode("actor_node", as: String.self),
            atMicros: try row.decode("at_micros", as: Int64.self), detailsJSON: try row.decode("details_json", as: String.self),
            previousHash: try row.decode("previous_hash", as: [UInt8].self), entryHash: try row.decode("entry_hash", as: [UInt8].self))
    }

    static func entries(of caseID: UUID, on connection: PostgresConnection) async throws -> [AuditRecord] {
        try await connection.query("SELECT \(unescaped: columns) FROM audit_entries WHERE case_id = \(caseID.uuidString.lowercased()) ORDER BY sequence").map(decode)
    }

    /// Recomputes the chain in sequence order, a page at a time, up to `through` (nil = all of it,
    /// and then also checks that it ends at the recorded head).
    static func verify(through: Int64? = nil, on connection: PostgresConnection, pageSize: Int = 5000) async throws -> AuditVerification {
        let head = try await connection.query("SELECT sequence, hash FROM audit_head WHERE id = 1").one()
        let headSequence = try head.decode("sequence", as: Int64.self)
        let headHash = try head.decode("hash", as: [UInt8].self)
        var verifier = AuditChainVerifier()
        var after = Int64.min
        pages: while true {
            let rows = try await connection.query(
                "SELECT \(unescaped: columns) FROM audit_entries WHERE sequence > \(after) ORDER BY sequence LIMIT \(pageSize)")
            for row in rows {
                let entry = try decode(row)
                if let through, entry.sequence > through { break pages }
                guard verifier.feed(entry) else { break pages }
                after = entry.sequence
            }
            if rows.count < pageSize { break }
        }
        return verifier.finish(expectedHead: through == nil ? (headSequence, headHash) : nil)
    }
}
