import ApprovalRules
import Foundation
import OneSealCore
import OneSealStore

/// The cases' SQL. Every change goes through `update` inside the transaction that also writes the
/// audit entry and the events (docs/architecture.md#the-store, transactional outbox).
enum CaseStore {
    static let columns: StaticString = "id, state::text AS state, applicant_sealed, revision, created_at, updated_at"
    /// `columns` but the state, which a read by id asks for only when it does not hold it (`heldStates`).
    static let columnsBesideState: StaticString = "id, applicant_sealed, revision, created_at, updated_at"

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

    /// The state as the JSON text bound into `state::json`, stored and read back as written
    /// (decision 78), written by `StreamingJSONEncoder` (#21 step 15).
    static func encode(_ state: CaseState) throws -> String {
        try StreamingJSONEncoder.string(state)
    }

    /// The case states this process decoded or wrote lately, by their stored text
    /// (`DecodedDocuments`; a write remembers the text it wrote, which the `json` column answers
    /// back unchanged).
    static let decodedStates = DecodedDocuments<CaseState>(capacity: 512)

    /// The case as this process last wrote it, for each it changed lately, with the row version
    /// holding it: a read by id leaves out a state this process holds (`HeldStates`; #21 step
    /// 16), and a change starts from the held copy without reading at all (`findForChange`, step
    /// 17). Every write of a case is `insert` or `update` here, each bumps the revision, and each
    /// remembers what it wrote.
    static let heldStates = HeldStates<StoredCase>(capacity: 512)

    static func decode(_ row: PostgresRow) throws -> StoredCase {
        try decode(row, held: nil)
    }

    /// A NULL state is `held`'s: the read by id left out the state this process holds.
    static func decode(_ row: PostgresRow, held: HeldStates<StoredCase>.Entry?) throws -> StoredCase {
        StoredCase(
            id: try row.decode("id", as: UUID.self),
            state: try HeldStates.state(of: row, held: held, \.state) { text in
                try decodedStates.value(of: text) { try JSONDecoder().decode(CaseState.self, from: Data($0.utf8)) }
            },
            applicantSealed: try row.decode("applicant_sealed", as: [UInt8].self),
            revision: try row.decode("revision", as: Int64.self),
            createdAt: try row.decode("created_at", as: Date.self),
            updatedAt: try row.decode("updated_at", as: Date.self))
    }

    /// The case; `forUpdate` locks it for a change. Its state is sent only when this process does
    /// not hold that very row version's (`heldStates`).
    static func find(id: UUID, forUpdate: Bool = false, on connection: PostgresConnection) async throws -> StoredCase? {
        let held = heldStates.entry(id)
        let state = HeldStates.stateColumn(held: held)
        let rows = forUpdate
            ? try await connection.query("SELECT \(unescaped: columnsBesideState), \(state) FROM cases WHERE id = \(id) FOR UPDATE")
            : try await connection.query("SELECT \(unescaped: columnsBesideState), \(state) FROM cases WHERE id = \(id)")
        return try rows.first.map { try decode($0, held: held) }
    }

    /// The case's sealed applicant. It is written when the case is opened and never changed (no
    /// `update` sets it), so any copy this process holds carries it, whatever its version; read
    /// only when none is held (a decision's events were a read of their own for it, #21 step 17).
    static func applicantSealed(of id: UUID, on connection: PostgresConnection) async throws -> [UInt8]? {
        if let held = heldStates.entry(id) { return held.value.applicantSealed }
        return try await connection.query("SELECT applicant_sealed FROM cases WHERE id = \(id)").first?.decode("applicant_sealed", as: [UInt8].self)
    }

    /// The case a change starts from: the copy this process holds when it holds one — no
    /// statement, no round trip (#21 step 17) — else the row, read and locked. A held copy's
    /// write (`update`) changes the row only if it is still that version, and answers
    /// `HeldStates.superseded` otherwise; whoever acts on a held copy confirms a refusal on the
    /// stored row (`ApprovalAPI.changingHeld`).
    static func findForChange(id: UUID, on connection: PostgresConnection) async throws -> StoredCase? {
        if let copy = heldStates.copyToChange(id) { return copy }
        return try await find(id: id, forUpdate: true, on: connection)
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

    /// Inserts a new case and answers the audit chain's head, locked by the same statement (as
    /// `update` does); nil when (application, item) already has a case (the unique constraint
    /// decides, so two replicas racing on the same event cannot both insert; nothing is locked).
    static func insert(_ stored: StoredCase, derived: Derived, in transaction: PostgresConnection) async throws -> AuditLog.Head? {
        let state = stored.state
        let text = try encode(state)
        let rows = try await transaction.query("""
            WITH \(unescaped: AuditLog.lockingHead)
            INSERT INTO cases (id, case_number, application_id, implementation_code, status, state, applicant_sealed, department_code,
                               next_role, next_assignee, accepted_on, due_on, yellow_on, warning, revocation_review_open, renewal_due_on,
                               revision, created_at, updated_at)
            VALUES (\(stored.id), \(state.caseNumber), \(state.applicationID), \(state.item.implementationCode), \(state.status.rawValue),
                    \(text)::json, \(stored.applicantSealed), \(state.item.departmentCode), \(derived.nextRole), \(derived.nextAssignee),
                    \(state.acceptedOn.iso8601)::date, \(derived.dueOn?.iso8601)::date, \(derived.yellowOn?.iso8601)::date, \(derived.warning),
                    \(derived.revocationReviewOpen), \(derived.renewalDueOn?.iso8601)::date, \(stored.revision), \(stored.createdAt), \(stored.updatedAt))
            ON CONFLICT ON CONSTRAINT cases_one_per_item DO NOTHING
            RETURNING xmin::text AS row_writer, \(unescaped: AuditLog.returningHead)
            """)
        guard let written = rows.first else { return nil }
        decodedStates.remember(text, as: state)
        heldStates.remember(written: stored, writer: try written.decode("row_writer"), in: transaction)
        return try AuditLog.Head(returnedBy: written)
    }

    /// A read in full of the case's applicant, logged by the statement that writes the case.
    struct ReadLogEntry: Sendable {
        var subject: String
        var role: String
        var node: String
        var purpose: String
    }

    /// Writes a changed case, logs `reads` of its applicant, and locks and answers the audit
    /// chain's head, in one statement (#21: the head's `FOR UPDATE` and the read log were
    /// statements of their own, beside the write). The head is locked only when the case was
    /// written (RETURNING's subqueries read it), just before the act's entries
    /// (`AuditLog.append(_:after:in:)`) would have locked it anyway; nil when no row was written.
    static func update(_ stored: StoredCase, derived: Derived, logging reads: [ReadLogEntry], in transaction: PostgresConnection) async throws -> AuditLog.Head? {
        let state = stored.state
        let text = try encode(state)
        let written = try await transaction.query("""
            WITH \(unescaped: AuditLog.lockingHead),
            reads AS (
                INSERT INTO personal_data_reads (subject, role, node, case_id, purpose)
                SELECT subject, role, node, \(stored.id), purpose
                FROM unnest(\(SQLArray(reads.map(\.subject)))::text[], \(SQLArray(reads.map(\.role)))::text[],
                            \(SQLArray(reads.map(\.node)))::text[], \(SQLArray(reads.map(\.purpose)))::text[]) AS read(subject, role, node, purpose)
            )
            UPDATE cases SET status = \(state.status.rawValue), state = \(text)::json, next_role = \(derived.nextRole),
                   next_assignee = \(derived.nextAssignee), due_on = \(derived.dueOn?.iso8601)::date, yellow_on = \(derived.yellowOn?.iso8601)::date,
                   warning = \(derived.warning), revocation_review_open = \(derived.revocationReviewOpen),
                   renewal_due_on = \(derived.renewalDueOn?.iso8601)::date, revision = \(stored.revision),
                   updated_at = \(stored.updatedAt)
            WHERE id = \(stored.id)\(HeldStates.writeCondition(for: stored))
            RETURNING xmin::text AS row_writer, \(unescaped: AuditLog.returningHead)
            """).first
        guard let written else {
            // A held copy (`findForChange`) whose row moved on: run again on the stored row.
            if let moved = heldStates.rowMovedOn(from: stored, "case \(state.caseNumber)") { throw moved }
            return nil
        }
        decodedStates.remember(text, as: state)
        heldStates.remember(written: stored, writer: try written.decode("row_writer"), in: transaction)
        return try AuditLog.Head(returnedBy: written)
    }
}

/// The node's hash-chained audit log (ApprovalRules.AuditRecord). Appending holds the head row
/// locked (by the case's write, or `lockedHead`), so entries are numbered without gaps even with
/// several replicas writing.
enum AuditLog {
    /// The chain's end: the last entry's sequence (0: none yet) and hash.
    struct Head: Sendable {
        var sequence: Int64
        var hash: [UInt8]
    }

    /// The CTE that locks the head until the transaction ends, for a statement that writes a case
    /// (`CaseStore.insert`, `CaseStore.update`) or reads it alone (`lockedHead`).
    static let lockingHead: StaticString = "head AS (SELECT sequence, hash FROM audit_head WHERE id = 1 FOR UPDATE)"
    /// The RETURNING columns that answer the head `lockingHead` locked (`Head(returnedBy:)`): read
    /// only for a row the statement wrote, so nothing is locked when it wrote none.
    static let returningHead: StaticString = "(SELECT sequence FROM head) AS audit_sequence, (SELECT hash FROM head) AS audit_hash"

    /// One entry to append: what was done to which case, by whom, when.
    struct Entry: Sendable {
        var caseID: UUID
        var action: String
        var actor: CaseActor
        var at: Date
        var details: [String: String]
    }

    /// Appends `entries` in order after `head` — the head this transaction locked, or nil to lock
    /// it here — and moves the head, in one statement sent with the transaction's next one (#21:
    /// one statement however many entries an act makes; 独任审批 on the spot makes two).
    static func append(_ entries: [Entry], after locked: Head?, in transaction: PostgresConnection) async throws {
        guard !entries.isEmpty else { return }
        var head: Head
        if let locked { head = locked } else { head = try await lockedHead(in: transaction) }
        var records: [AuditRecord] = []
        for entry in entries {
            let record = AuditRecord.next(
                after: head.sequence == 0 ? nil : (sequence: head.sequence, hash: head.hash), caseID: entry.caseID.uuidString.lowercased(),
                action: entry.action, actorSubject: entry.actor.subject, actorRole: entry.actor.role, actorNode: entry.actor.node,
                atMicros: Int64((entry.at.timeIntervalSince1970 * 1_000_000).rounded()), detailsJSON: AuditRecord.details(entry.details))
            records.append(record)
            head = Head(sequence: record.sequence, hash: record.entryHash)
        }
        try await transaction.executeWithNext("""
            WITH entry AS (
                INSERT INTO audit_entries (sequence, case_id, action, actor_subject, actor_role, actor_node, at_micros, details_json, previous_hash, entry_hash)
                SELECT * FROM unnest(\(SQLArray(records.map(\.sequence)))::int8[], \(SQLArray(records.map(\.caseID)))::text[],
                                     \(SQLArray(records.map(\.action)))::text[], \(SQLArray(records.map(\.actorSubject)))::text[],
                                     \(SQLArray(records.map(\.actorRole)))::text[], \(SQLArray(records.map(\.actorNode)))::text[],
                                     \(SQLArray(records.map(\.atMicros)))::int8[], \(SQLArray(records.map(\.detailsJSON)))::text[],
                                     \(SQLArray(records.map(\.previousHash)))::bytea[], \(SQLArray(records.map(\.entryHash)))::bytea[])
            )
            UPDATE audit_head SET sequence = \(head.sequence), hash = \(head.hash) WHERE id = 1
            """)
    }

    /// The head, locked until the transaction ends: entries are numbered without gaps even with
    /// several replicas writing.
    static func lockedHead(in transaction: PostgresConnection) async throws -> Head {
        try Head(returnedBy: try await transaction.query("WITH \(unescaped: lockingHead) SELECT \(unescaped: returningHead)").one())
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

extension AuditLog.Head {
    /// The head a statement with `AuditLog.returningHead` answered.
    init(returnedBy row: PostgresRow) throws {
        self.init(sequence: try row.decode("audit_sequence", as: Int64.self), hash: try row.decode("audit_hash", as: [UInt8].self))
    }
}
