import Foundation
import GRPCCore
import IntakeRules
import OneSealCore
import OneSealOutbox
import OneSealProto
import OneSealServiceKit
import OneSealStore
import SwiftProtobuf

/// One application as stored: the rules' state (the only copy of what happened to it), the row's
/// identity and the sealed applicant. The wire record is rendered from these (`record(...)`).
struct StoredApplication: Sendable {
    let id: UUID
    var number: String
    var queryCode: String
    /// `state.overallStatus` as of the last write, kept as a column for the listings' filters.
    var status: ApplicationStatus
    var state: ApplicationState
    /// The channel's stored name (`Applicant.channelName`) and the window that received it.
    var channel: String
    var windowID: String
    var applicantSealed: [UInt8]
    var revision: Int64
    var bundleID: UUID?
    var submittedAt: Date
    /// The service clock at the last change (the intake deadline is shown as of that day).
    var updatedAt: Date
    var requestDigest: [UInt8]
    /// Keyed blind indexes (never the values): the applicant's and the agent's ID numbers, and
    /// "role:subject" of whoever submitted it — what the per-object rules compare a token with.
    var applicantIndex: [UInt8] = []
    var agentIndex: [UInt8]? = nil
    var submitterIndex: [UInt8]? = nil
    /// Set when this is the copy this process holds (`ApplicationStore.findForChange`), not a row
    /// read and locked: the `xmin` of the row version it is, which the write checks.
    var heldWriter: String? = nil
}

extension StoredApplication: HeldAggregate {
    var asStored: StoredApplication {
        var stored = self
        stored.submittedAt = PostgresTimestamp.asStored(submittedAt)
        stored.updatedAt = PostgresTimestamp.asStored(updatedAt)
        return stored
    }
}

/// The applications' SQL. Every change goes through `update`, which writes the row, its progress
/// steps and its events in the caller's transaction, so a state change and its events are never
/// apart (docs/architecture.md#the-store, transactional outbox).
enum ApplicationStore {
    static let columns: StaticString = """
        id, application_number, query_code, status, state::text AS state, channel, window_id, applicant_sealed, revision, bundle_id, submitted_at,
        updated_at, request_digest, applicant_id_index, agent_id_index, submitted_by_index
        """
    /// `columns` but the state, which a read by id asks for only when it does not hold it (`heldStates`).
    static let columnsBesideState: StaticString = """
        id, application_number, query_code, status, channel, window_id, applicant_sealed, revision, bundle_id, submitted_at,
        updated_at, request_digest, applicant_id_index, agent_id_index, submitted_by_index
        """

    /// The application states this process decoded or wrote lately, by their stored text (a state
    /// is read several times per revision; decoding it was the largest share of intake's CPU, #21).
    /// A write remembers the text it wrote — a `json` column answers it back unchanged (migration
    /// 0013) — so the reads after it (the watch's, the next change's FOR UPDATE) decode nothing.
    static let decodedStates = DecodedDocuments<ApplicationState>(capacity: 512)

    /// The application as this process last wrote it, for each it changed lately, with the row
    /// version holding it: a read by id leaves out a state this process holds (`HeldStates`; #21
    /// step 16), and a change starts from the held copy without reading at all (`findForChange`,
    /// step 17). Every write of an application is `insert` or `update` here, each bumps the
    /// revision, and each remembers what it wrote.
    static let heldStates = HeldStates<StoredApplication>(capacity: 512)

    /// The row as stored, its pinned items' content read from `loaded` or the versions this
    /// process holds (`CatalogueStore.pinnedVersions`); `PinnedItem.UnheldVersion` when neither
    /// holds one of them — `decode(_:on:)` loads it and tries again.
    /// A NULL state is `held`'s: the read by id left out the state this process holds.
    static func decode(
        _ row: PostgresRow, loaded: [ItemVersion: CatalogueItem] = [:], held: HeldStates<StoredApplication>.Entry? = nil
    ) throws -> StoredApplication {
        let state = try HeldStates.state(of: row, held: held, \.state) { text in
            try decodedStates.value(of: text) { try stateDecoder(loaded: loaded).decode(ApplicationState.self, from: Data($0.utf8)) }
        }
        return StoredApplication(
            id: try row.decode("id", as: UUID.self),
            number: try row.decode("application_number", as: String.self),
            queryCode: try row.decode("query_code", as: String.self),
            status: ApplicationStatus(rawValue: try row.decode("status", as: String.self)) ?? .submitted,
            state: state,
            channel: try row.decode("channel", as: String.self),
            windowID: try row.decode("window_id", as: String.self),
            applicantSealed: try row.decode("applicant_sealed", as: [UInt8].self),
            revision: try row.decode("revision", as: Int64.self),
            bundleID: try row.decode("bundle_id", as: UUID?.self),
            submittedAt: try row.decode("submitted_at", as: Date.self),
            updatedAt: try row.decode("updated_at", as: Date.self),
            requestDigest: try row.decode("request_digest", as: [UInt8].self),
            applicantIndex: try row.decode("applicant_id_index", as: [UInt8].self),
            agentIndex: try row.decode("agent_id_index", as: [UInt8]?.self),
            submitterIndex: try row.decode("submitted_by_index", as: [UInt8]?.self)
        )
    }

    /// A decoder of stored states: pinned items from `loaded`, then the versions this process holds.
    static func stateDecoder(loaded: [ItemVersion: CatalogueItem] = [:]) -> JSONDecoder {
        let decoder = JSONDecoder()
        let held = CatalogueStore.pinnedVersions
        decoder.userInfo[PinnedItem.catalogueKey] = { @Sendable (version: ItemVersion) in loaded[version] ?? held.item(version) } as PinnedItem.Catalogue
        return decoder
    }

    /// The row as stored, loading from the catalogue the pinned versions this process does not
    /// hold yet (after a start, or a version published by another process). A version the
    /// catalogue does not hold with the pinned content hash is an error naming it: the
    /// application's rules are gone, and nothing may guess them (migration 0012 prevents it).
    /// What it loads is used for this row whatever the shared holder keeps meanwhile (it starts
    /// again empty when full), so a busy process never mistakes a version it just read for a
    /// missing one.
    static func decode(_ row: PostgresRow, held: HeldStates<StoredApplication>.Entry? = nil, on connection: PostgresConnection) async throws -> StoredApplication {
        var loaded: [ItemVersion: CatalogueItem] = [:]
        while true {
            do {
                return try decode(row, loaded: loaded, held: held)
            } catch let unheld as PinnedItem.UnheldVersion {
                guard loaded[unheld.version] == nil, let item = try await CatalogueStore.pinned(unheld.version, on: connection) else {
                    throw UnheldPinnedVersion(version: unheld.version)
                }
                loaded[unheld.version] = item
            }
        }
    }

    /// The first of `rows` (`decode(_:on:)`), if any.
    static func decodeFirst(_ rows: PostgresRows, on connection: PostgresConnection) async throws -> StoredApplication? {
        guard let row = rows.first else { return nil }
        return try await decode(row, on: connection)
    }

    /// A stored application pins a catalogue version the catalogue does not hold (by its number
    /// and content hash): DATA_LOSS, the one status that says retrying cannot help.
    struct UnheldPinnedVersion: ContractStatus, CustomStringConvertible {
        let version: ItemVersion
        var description: String {
            "a stored application pins version \(version.version) of item \(version.implementationCode) (content \(version.contentHash)), which the catalogue does not hold"
        }
        var rpcError: RPCError { RPCError(code: .dataLoss, message: description) }
    }

    /// The state as the JSON text bound into `state::json`, stored and read back as written
    /// (decision 78). Keys in declaration order, unsorted: nothing compares the text but
    /// `decodedStates`, which keys on these very bytes. Written by `StreamingJSONEncoder` (#21
    /// step 15: Foundation's encoder was ≈ 14 % of intake's CPU).
    static func stateJSON(_ state: ApplicationState) throws -> String {
        try StreamingJSONEncoder.string(state)
    }

    /// The application; `forUpdate` locks it for a change. Its state is sent only when this
    /// process does not hold that very row version's (`heldStates`).
    static func find(id: UUID, forUpdate: Bool = false, on connection: PostgresConnection) async throws -> StoredApplication? {
        let held = heldStates.entry(id)
        let state = HeldStates.stateColumn(held: held)
        let rows = forUpdate
            ? try await connection.query("SELECT \(unescaped: columnsBesideState), \(state) FROM applications WHERE id = \(id) FOR UPDATE")
            : try await connection.query("SELECT \(unescaped: columnsBesideState), \(state) FROM applications WHERE id = \(id)")
        guard let row = rows.first else { return nil }
        return try await decode(row, held: held, on: connection)
    }

    /// The application a change starts from: the copy this process holds when it holds one —
    /// no statement, no round trip (a read FOR UPDATE was ≈ 5 statements per case, #21 step 17)
    /// — else the row, read and locked. A held copy's write (`update`) changes the row only if
    /// it is still that version, and answers `HeldStates.superseded` otherwise; whoever acts on
    /// a held copy confirms a refusal on the stored row (`IntakeAPI.changingHeld`).
    static func findForChange(id: UUID, on connection: PostgresConnection) async throws -> StoredApplication? {
        if let copy = heldStates.copyToChange(id) { return copy }
        return try await find(id: id, forUpdate: true, on: connection)
    }

    /// Who a personal-data read row names (`IntakeAPI.readLogEntry`).
    struct ReadLogEntry: Sendable {
        var subject: String
        var role: String
        var node: String
        var purpose: String
    }

    /// The application, and — only when its revision is not `shown` any more — `read`'s row in
    /// personal_data_reads, in one autocommitted statement: a watch's later views (#21; a view
    /// was BEGIN, the read, the read-log INSERT and COMMIT). `read` nil reads without logging.
    static func find(id: UUID, loggingRead read: ReadLogEntry?, unlessRevision shown: Int64, on connection: PostgresConnection) async throws -> StoredApplication? {
        guard let read else { return try await find(id: id, on: connection) }
        return try await decodeFirst(try await connection.query("""
            WITH application AS (SELECT \(unescaped: columns) FROM applications WHERE id = \(id)),
            read AS (
                INSERT INTO personal_data_reads (subject, role, node, application_id, purpose)
                SELECT \(read.subject), \(read.role), \(read.node), id, \(read.purpose) FROM application WHERE revision <> \(shown)
            )
            SELECT * FROM application
            """), on: connection)
    }

    static func find(number: String, on connection: PostgresConnection) async throws -> StoredApplication? {
        try await decodeFirst(try await connection.query("SELECT \(unescaped: columns) FROM applications WHERE application_number = \(number)"), on: connection)
    }

    static func find(idempotencyKey: String, on connection: PostgresConnection) async throws -> StoredApplication? {
        try await decodeFirst(try await connection.query("SELECT \(unescaped: columns) FROM applications WHERE idempotency_key = \(idempotencyKey)"), on: connection)
    }

    /// The correction an idempotency key made, if any.
    static func correction(idempotencyKey: String, on connection: PostgresConnection) async throws -> (application: UUID, digest: [UInt8])? {
        guard let row = try await connection.query(
            "SELECT application_id, request_digest FROM correction_requests WHERE idempotency_key = \(idempotencyKey)").first
        else { return nil }
        return (try row.decode("application_id", as: UUID.self), try row.decode("request_digest", as: [UInt8].self))
    }

    static func recordCorrection(idempotencyKey: String, application: UUID, digest: [UInt8], in transaction: PostgresConnection) async throws {
        try await transaction.execute("""
            INSERT INTO correction_requests (idempotency_key, application_id, request_digest)
            VALUES (\(idempotencyKey), \(application), \(digest))
            """)
    }

    /// Whether `number` has had `limit` wrong query codes in the last hour.
    static func progressLookupLocked(number: String, limit: Int, on connection: PostgresConnection) async throws -> Bool {
        try await connection.query("""
            SELECT 1 AS locked FROM progress_lookup_failures
            WHERE application_number = \(number) AND failures >= \(limit) AND window_started > now() - interval '1 hour'
            """).first != nil
    }

    /// Counts one wrong query code for `number` (a new hour starts a new count); the count now.
    static func recordProgressLookupFailure(number: String, on connection: PostgresConnection) async throws -> Int {
        try await connection.query("""
            INSERT INTO progress_lookup_failures (application_number, failures, window_started) VALUES (\(number), 1, now())
            ON CONFLICT (application_number) DO UPDATE SET
                failures = CASE WHEN progress_lookup_failures.window_started > now() - interval '1 hour'
                                THEN progress_lookup_failures.failures + 1 ELSE 1 END,
                window_started = CASE WHEN progress_lookup_failures.window_started > now() - interval '1 hour'
                                THEN progress_lookup_failures.window_started ELSE now() END
            RETURNING failures
            """).one().decode("failures", as: Int.self)
    }

    /// The next number in `scope`, taken in the caller's transaction (no gaps from rolled-back work).
    static func nextNumber(scope: String, in transaction: PostgresConnection) async throws -> Int {
        try await transaction.query("""
            INSERT INTO number_counters (scope, last) VALUES (\(scope), 1)
            ON CONFLICT (scope) DO UPDATE SET last = number_counters.last + 1
            RETURNING last
            """).one().decode("last", as: Int.self)
    }

    /// Inserts a new application with its first progress steps, in one statement (`withSteps`).
    static func insert(
        _ application: StoredApplication, applicantKind: String, idempotencyKey: String, steps: [(at: Date, description: String)], node: String,
        in transaction: PostgresConnection
    ) async throws {
        let state = try stateJSON(application.state)
        let written = try await transaction.query(withSteps(steps, of: application.id, node: node, """
            INSERT INTO applications (id, application_number, query_code, channel, window_id, status, outcome, state, applicant_sealed,
                                      applicant_id_index, applicant_kind, idempotency_key, request_digest, bundle_id, submitted_at,
                                      submitted_on, intake_deadline, revision, agent_id_index, submitted_by_index, updated_at)
            VALUES (\(application.id), \(application.number), \(application.queryCode), \(application.channel), \(application.windowID),
                    \(application.status.rawValue), \(application.state.outcome?.rawValue), \(state)::json,
                    \(application.applicantSealed), \(application.applicantIndex), \(applicantKind), \(idempotencyKey), \(application.requestDigest),
                    \(application.bundleID), \(application.submittedAt), \(application.state.receivedOn.iso8601)::date,
                    \(application.state.intakeDeadline.iso8601)::date, \(application.revision), \(application.agentIndex), \(application.submitterIndex),
                    \(application.updatedAt))
            RETURNING xmin::text AS row_writer
            """)).one()
        decodedStates.remember(state, as: application.state)
        heldStates.remember(written: application, writer: try written.decode("row_writer"), in: transaction)
    }

    /// Writes a changed application (revision + 1) and its new progress steps in one statement
    /// (`withSteps`; a step was an INSERT of its own, #21), then its events. Answers the writing
    /// transaction's id, which the trigger's NOTIFY names when it commits (`ApplicationWatches`).
    @discardableResult
    static func update(
        _ application: StoredApplication, steps: [(at: Date, description: String)], node: String, events: [OutboxEvent],
        reads: [ReadLogEntry] = [], in transaction: PostgresConnection
    ) async throws -> String {
        let state = try stateJSON(application.state)
        let written = try await transaction.query(withSteps(steps, of: application.id, node: node, logging: reads, """
            UPDATE applications SET status = \(application.status.rawValue), outcome = \(application.state.outcome?.rawValue),
                   state = \(state)::json, applicant_sealed = \(application.applicantSealed),
                   intake_deadline = \(application.state.intakeDeadline.iso8601)::date, revision = \(application.revision),
                   updated_at = \(application.updatedAt)
            WHERE id = \(application.id)\(HeldStates.writeCondition(for: application))
            RETURNING pg_current_xact_id()::text AS writer, xmin::text AS row_writer
            """)).first
        guard let written else {
            // A held copy (`findForChange`) whose row moved on: run again on the stored row.
            if let moved = heldStates.rowMovedOn(from: application, "application \(application.number)") { throw moved }
            // Every other caller holds the row locked; were it gone, no NOTIFY names this write either.
            return ""
        }
        decodedStates.remember(state, as: application.state)
        heldStates.remember(written: application, writer: try written.decode("row_writer"), in: transaction)
        if !events.isEmpty { try await Outbox.enqueue(events, in: transaction) }
        return try written.decode("writer", as: String.self)
    }

    /// `statement` (an INSERT or UPDATE of the application) with the application's new progress
    /// steps inserted by a data-modifying CTE of the same statement, numbered in the order given
    /// (`WITH ORDINALITY … ORDER BY`); the steps' foreign key is checked at the end of the
    /// statement, when the application row exists. With `reads` (an update), the reads in full
    /// the write makes are logged by a second CTE (`IntakeAPI.store`).
    static func withSteps(
        _ steps: [(at: Date, description: String)], of application: UUID, node: String, logging reads: [ReadLogEntry]? = nil, _ statement: SQLQuery
    ) -> SQLQuery {
        let stepsCTE: SQLQuery = """
            WITH steps AS (
                INSERT INTO application_steps (application_id, at, description, node)
                SELECT \(application), at, description, \(node)
                FROM unnest(\(SQLArray(steps.map { Optional($0.at) }))::timestamptz[], \(SQLArray(steps.map(\.description)))::text[])
                     WITH ORDINALITY AS s(at, description, position)
                ORDER BY position
            )
            """
        guard let reads else { return "\(stepsCTE)\n\(statement)" }
        return """
            \(stepsCTE),
            reads AS (
                INSERT INTO personal_data_reads (subject, role, node, application_id, purpose)
                SELECT subject, role, node, \(application), purpose
                FROM unnest(\(SQLArray(reads.map(\.subject)))::text[], \(SQLArray(reads.map(\.role)))::text[],
                            \(SQLArray(reads.map(\.node)))::text[], \(SQLArray(reads.map(\.purpose)))::text[]) AS read(subject, role, node, purpose)
            )
            \(statement)
            """
    }

    static func steps(of application: UUID, on connection: PostgresConnection) async throws -> [Intake_ProgressStep] {
        try await connection.query("SELECT at, description, node FROM application_steps WHERE application_id = \(application) ORDER BY seq").map { row in
            Intake_ProgressStep.with {
                $0.at = Google_Protobuf_Timestamp(date: (try? row.decode("at", as: Date.self)) ?? Date(timeIntervalSince1970: 0))
                $0.description_p = (try? row.decode("description", as: String.self)) ?? ""
                $0.node = (try? row.decode("node", as: String.self)) ?? ""
            }
        }
    }

    /// One row per application read, in one statement (a page of a list is one insert, not one
    /// autocommitted insert per row). In a transaction it is sent with the next statement or the
    /// COMMIT — before the answer leaves, as the answer waits for the commit.
    static func logPersonalDataReads(_ read: ReadLogEntry, applications: [UUID], on connection: PostgresConnection) async throws {
        try await connection.executeWithNext("""
            INSERT INTO personal_data_reads (subject, role, node, application_id, purpose)
            SELECT \(read.subject), \(read.role), \(read.node), id, \(read.purpose) FROM unnest(\(SQLArray(applications))::uuid[]) AS read(id)
            """)
    }
}
