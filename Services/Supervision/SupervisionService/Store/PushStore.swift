import Foundation
import OneSealCore
import OneSealOutbox
import OneSealPrivacy
import OneSealProto
import OneSealServiceKit
import OneSealStore
import SupervisionContracts
import SupervisionRules
import SwiftProtobuf

/// One push as stored: the rules' life cycle and the wire record (holder already masked).
struct StoredPush: Sendable {
    let id: UUID
    var dedupeKey: String
    var departmentCode: String
    var kind: PushKind
    var delivery: DeliveryMode
    var state: PushState
    var record: Supervision_Push
    var sourceAt: Date
    var pushedAt: Date
    var deliveredAt: Date?
    var deliveryAttempts: Int
    var nextDeliveryAt: Date?
    var lastDeliveryError: String
    var overdueReportedAt: Date?
    var reroutedFrom: UUID?
    var revision: Int64

    /// When the push reached the department: in the inbox at once (pull), on the endpoint's
    /// acknowledgement (endpoint).
    var arrivedAt: Date? { delivery == .pull ? pushedAt : deliveredAt }

    /// Copies what the rules decided (and the delivery facts) into the wire record.
    mutating func refreshRecord(today: CivilDate, calendar: WorkingDayCalendar) {
        var out = record
        out.pushID = id.uuidString.lowercased()
        out.status = state.status.proto
        out.kind = kind.proto
        out.delivery = delivery.proto
        out.pushedAt = Google_Protobuf_Timestamp(date: pushedAt)
        out.sourceAt = Google_Protobuf_Timestamp(date: sourceAt)
        let schedule = state.schedule
        if let arrived = arrivedAt {
            out.pushedOnTime = schedule.pushedOnTime(arrivedOn: CivilDate(arrived))
            out.pushSeconds = Int64(max(arrived.timeIntervalSince(sourceAt), 0).rounded())
        } else {
            out.pushedOnTime = false
            out.pushSeconds = 0
        }
        out.pushDeadline = Self.deadline(from: schedule.sourceOn, due: schedule.pushDue, finished: arrivedAt.map { CivilDate($0) }, today: today, calendar: calendar)
        out.claimDeadline = Self.deadline(from: schedule.pushedOn, due: schedule.claimDue, finished: state.claimedAt.map { CivilDate($0) }, today: today, calendar: calendar)
        if let claimedAt = state.claimedAt { out.claimedAt = Google_Protobuf_Timestamp(date: claimedAt) } else { out.clearClaimedAt() }
        out.claimedOnTime = state.claimedOnTime
        out.autoClaimed = state.autoClaimed
        out.rejectionReason = state.rejectionReason
        if let rejectedAt = state.rejectedAt { out.rejectedAt = Google_Protobuf_Timestamp(date: rejectedAt) }
        if let suggested = state.suggestedDepartment, out.suggestedDepartment.code != suggested {
            out.suggestedDepartment = Common_DepartmentRef.with { $0.code = suggested }
        }
        if let deliveredAt { out.deliveredAt = Google_Protobuf_Timestamp(date: deliveredAt) } else { out.clearDeliveredAt() }
        out.deliveryAttempts = Int32(deliveryAttempts)
        out.lastDeliveryError = lastDeliveryError
        out.claimOverdueReported = overdueReportedAt != nil
        if let reroutedFrom { out.reroutedFromPushID = reroutedFrom.uuidString.lowercased() }
        record = out
    }

    /// A working-day clock of `due` from `start`, as of the day it finished (or today).
    static func deadline(from start: CivilDate, due: CivilDate, finished: CivilDate?, today: CivilDate, calendar: WorkingDayCalendar) -> Common_Deadline {
        guard let total = try? calendar.workingDays(from: start, to: due),
              let status = try? StatutoryClock(actDate: start, workingDays: total).status(asOf: finished ?? today, in: calendar, warning: WarningPolicy(yellowWhenDaysLeftAtMost: 0))
        else {
            return Common_Deadline.with { $0.startedOn = Common_CivilDate(start); $0.dueOn = Common_CivilDate(due) }
        }
        return Common_Deadline(startedOn: start, status: status, finishedOn: finished)
    }

    /// The facts the quarterly figures need.
    var facts: PushFacts {
        PushFacts(
            departmentCode: departmentCode, pushedAt: pushedAt, pushedOnTime: record.pushedOnTime, status: state.status,
            claimedAt: state.claimedAt, claimedOnTime: state.claimedOnTime, rejected: state.rejectedAt != nil, claimDue: state.schedule.claimDue)
    }
}

/// The pushes' SQL. Every change goes through `update`, in the caller's transaction with its events.
///
/// The wire record names the holder (a person's name, a company's legal representative), so it is
/// sealed at rest with the node's data key when supervision has one (issue #15, finding 8; the
/// same marker rule as the outbox's payloads: rows written without a key stay readable).
struct PushStore: Sendable {
    let keyring: DataKeyring?

    static func recordContext(_ id: UUID) -> String { "supervision.push:\(id.uuidString.lowercased())" }

    func sealRecord(_ push: StoredPush) throws -> [UInt8] {
        let bytes: [UInt8] = try push.record.serializedBytes()
        guard let keyring else { return bytes }
        return try SealedEventPayload.seal(bytes, context: Self.recordContext(push.id), keyring: keyring)
    }

    func openRecord(_ stored: [UInt8], id: UUID) throws -> Supervision_Push {
        try Supervision_Push(serializedBytes: try SealedEventPayload.open(stored, context: Self.recordContext(id), keyring: keyring))
    }

    static let columns: StaticString = """
        id, dedupe_key, department_code, kind, delivery, state::text AS state, record, source_at, pushed_at, delivered_at,
        delivery_attempts, next_delivery_at, last_delivery_error, overdue_reported_at, rerouted_from, revision
        """

    func decode(_ row: PostgresRow) throws -> StoredPush {
        let stateText: String = try row.decode("state")
        let id: UUID = try row.decode("id")
        return StoredPush(
            id: id, dedupeKey: try row.decode("dedupe_key"), departmentCode: try row.decode("department_code"),
            kind: PushKind(rawValue: try row.decode("kind", as: String.self)) ?? .grant,
            delivery: DeliveryMode(rawValue: try row.decode("delivery", as: String.self)) ?? .pull,
            state: try JSONDecoder().decode(PushState.self, from: Data(stateText.utf8)),
            record: try openRecord(try row.decode("record", as: [UInt8].self), id: id),
            sourceAt: try row.decode("source_at"), pushedAt: try row.decode("pushed_at"), deliveredAt: try row.decode("delivered_at"),
            deliveryAttempts: try row.decode("delivery_attempts"), nextDeliveryAt: try row.decode("next_delivery_at"),
            lastDeliveryError: try row.decode("last_delivery_error"), overdueReportedAt: try row.decode("overdue_reported_at"),
            reroutedFrom: try row.decode("rerouted_from"), revision: try row.decode("revision"))
    }

    /// The state as the JSON text bound into `state::json`, stored and read back as written
    /// (decision 78), written by `StreamingJSONEncoder` (#21 step 15).
    static func stateJSON(_ state: PushState) throws -> String {
        try StreamingJSONEncoder.string(state)
    }

    func find(id: UUID, forUpdate: Bool = false, on connection: PostgresConnection) async throws -> StoredPush? {
        let rows = forUpdate
            ? try await connection.query("SELECT \(unescaped: Self.columns) FROM pushes WHERE id = \(id) FOR UPDATE")
            : try await connection.query("SELECT \(unescaped: Self.columns) FROM pushes WHERE id = \(id)")
        return try rows.first.map(decode)
    }

    /// Inserts a new push unless the department already has one for the same fact; returns whether it did.
    func insert(_ push: StoredPush, in transaction: PostgresConnection) async throws -> Bool {
        try await insert([push], in: transaction).contains(push.id)
    }

    /// Inserts new pushes in one statement (one fact's pushes to all its departments were an
    /// INSERT each, #21), each unless its department already has one for the same fact; answers
    /// the ids inserted.
    func insert(_ pushes: [StoredPush], in transaction: PostgresConnection) async throws -> Set<UUID> {
        guard !pushes.isEmpty else { return [] }
        var stateTexts: [String] = []
        var records: [[UInt8]] = []
        for push in pushes {
            stateTexts.append(try Self.stateJSON(push.state))
            records.append(try sealRecord(push))
        }
        let rows = try await transaction.query("""
            INSERT INTO pushes (id, dedupe_key, department_code, kind, status, case_id, implementation_code, source_node, licence_identifier,
                                licence_number, delivery, state, record, source_at, pushed_at, pushed_on, claim_due, claimed_at,
                                next_delivery_at, rerouted_from)
            SELECT id, dedupe_key, department_code, kind, status, case_id, implementation_code, source_node, licence_identifier,
                   licence_number, delivery, state::json, record, source_at, pushed_at, pushed_on::date, claim_due::date, claimed_at,
                   next_delivery_at, rerouted_from::uuid
            FROM unnest(\(SQLArray(pushes.map(\.id)))::uuid[], \(SQLArray(pushes.map(\.dedupeKey)))::text[],
                        \(SQLArray(pushes.map(\.departmentCode)))::text[], \(SQLArray(pushes.map(\.kind.rawValue)))::text[],
                        \(SQLArray(pushes.map(\.state.status.rawValue)))::text[], \(SQLArray(pushes.map(\.record.caseID)))::text[],
                        \(SQLArray(pushes.map(\.record.implementationCode)))::text[], \(SQLArray(pushes.map(\.record.sourceNode)))::text[],
                        \(SQLArray(pushes.map(\.record.licence.licenceIdentifier)))::text[], \(SQLArray(pushes.map(\.record.licence.licenceNumber)))::text[],
                        \(SQLArray(pushes.map(\.delivery.rawValue)))::text[], \(SQLArray(stateTexts))::text[], \(SQLArray(records))::bytea[],
                        \(SQLArray(pushes.map { Optional($0.sourceAt) }))::timestamptz[], \(SQLArray(pushes.map { Optional($0.pushedAt) }))::timestamptz[],
                        \(SQLArray(pushes.map(\.state.schedule.pushedOn.iso8601)))::text[], \(SQLArray(pushes.map(\.state.schedule.claimDue.iso8601)))::text[],
                        \(SQLArray(pushes.map(\.state.claimedAt)))::timestamptz[],
                        \(SQLArray(pushes.map { $0.delivery == .endpoint ? Optional($0.pushedAt) : nil }))::timestamptz[],
                        \(SQLArray(pushes.map { $0.reroutedFrom?.uuidString.lowercased() }))::text[])
                 AS p(id, dedupe_key, department_code, kind, status, case_id, implementation_code, source_node, licence_identifier,
                      licence_number, delivery, state, record, source_at, pushed_at, pushed_on, claim_due, claimed_at,
                      next_delivery_at, rerouted_from)
            ON CONFLICT (dedupe_key, department_code) DO NOTHING
            RETURNING id
            """)
        var inserted = Set<UUID>()
        for row in rows { inserted.insert(try row.decode("id", as: UUID.self)) }
        return inserted
    }

    func update(_ push: StoredPush, in transaction: PostgresConnection) async throws {
        let record = try sealRecord(push)
        try await transaction.execute("""
            UPDATE pushes SET status = \(push.state.status.rawValue), state = \(try Self.stateJSON(push.state))::json, record = \(record),
                   claim_due = \(push.state.schedule.claimDue.iso8601)::date, claimed_at = \(push.state.claimedAt), rejected_at = \(push.state.rejectedAt), delivered_at = \(push.deliveredAt),
                   delivery_attempts = \(push.deliveryAttempts), next_delivery_at = \(push.nextDeliveryAt),
                   last_delivery_error = \(push.lastDeliveryError), overdue_reported_at = \(push.overdueReportedAt),
                   revision = revision + 1
            WHERE id = \(push.id)
            """)
    }

    struct Filter: Sendable {
        var departmentCode = ""
        var statuses: [String] = []
        var kinds: [String] = []
        var claimOverdueBefore: CivilDate?
        var caseID = ""
        var pushedFrom: CivilDate?
        var pushedTo: CivilDate?
    }

    /// A page of pushes, newest first, after `after` (keyset paging, decision 58): only the
    /// filters asked for reach the SQL, a department's page reads `pushes_inbox` in order and the
    /// bureau's `pushes_by_pushed` (migration 0003); the total stops at `ListTotal.cap` + 1. A
    /// department hears of every approval, so its inbox only grows; a bound "`'' OR …`" per filter,
    /// an exact count and `OFFSET` made each page cost the whole inbox.
    func list(_ filter: Filter, after: InstantPageKey?, limit: Int, on connection: PostgresConnection) async throws -> (pushes: [StoredPush], total: Int, more: Bool) {
        var condition: SQLQuery = "TRUE"
        if !filter.departmentCode.isEmpty { condition = "\(condition) AND department_code = \(filter.departmentCode)" }
        if filter.statuses.count == 1 { condition = "\(condition) AND status = \(filter.statuses[0])" }
        if filter.statuses.count > 1 { condition = "\(condition) AND status = ANY(\(SQLArray(filter.statuses))::text[])" }
        if filter.kinds.count == 1 { condition = "\(condition) AND kind = \(filter.kinds[0])" }
        if filter.kinds.count > 1 { condition = "\(condition) AND kind = ANY(\(SQLArray(filter.kinds))::text[])" }
        if let day = filter.claimOverdueBefore { condition = "\(condition) AND status = 'pending' AND claim_due < \(day.iso8601)::date" }
        if !filter.caseID.isEmpty { condition = "\(condition) AND case_id = \(filter.caseID)" }
        if let from = filter.pushedFrom { condition = "\(condition) AND pushed_on >= \(from.iso8601)::date" }
        if let to = filter.pushedTo { condition = "\(condition) AND pushed_on <= \(to.iso8601)::date" }
        var page = condition
        if let after {
            // Newest first, ties by id ascending (the inbox index's order): before the key's
            // instant, or at it with a greater id. The first half keeps the index bound.
            page = "\(condition) AND pushed_at <= \(after.at)::timestamptz AND (pushed_at < \(after.at)::timestamptz OR id > \(after.id)::uuid)"
        }
        let total = try await connection.query(ListTotal.query(from: "pushes", where: condition)).one().decode("n", as: Int.self)
        let rows = try await connection.query("""
            SELECT \(unescaped: Self.columns) FROM pushes WHERE \(page) ORDER BY pushed_at DESC, id LIMIT \(limit + 1)
            """)
        return (try rows.prefix(limit).map(decode), total, rows.count > limit)
    }

    /// Pushes made in [from, to] (Beijing dates), for the quarterly figures.
    func pushed(from: CivilDate, to: CivilDate, departmentCode: String, on connection: PostgresConnection) async throws -> [StoredPush] {
        try await connection.query("""
            SELECT \(unescaped: Self.columns) FROM pushes
            WHERE pushed_on BETWEEN \(from.iso8601)::date AND \(to.iso8601)::date AND (\(departmentCode) = '' OR department_code = \(departmentCode))
            """).map(decode)
    }
}
