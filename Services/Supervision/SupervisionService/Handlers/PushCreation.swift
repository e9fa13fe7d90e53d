import Foundation
import OneSealCore
import OneSealOutbox
import OneSealProto
import OneSealServiceKit
import OneSealStore
import SupervisionRules
import SwiftProtobuf

extension SupervisionAPI {
    /// Makes the pushes of one reported fact: one per responsible department, each with its push and
    /// claim deadlines, its PushCreated event (and PushClaimed on "pushed = claimed" nodes). An item
    /// without a boundary entry is recorded as such (ListBoundary lists it) rather than dropped.
    func createPushes(
        _ source: PushSource, template: Supervision_Push, sourceAt: Date, sourceOn: CivilDate,
        event: Events_EventEnvelope, in transaction: PostgresConnection
    ) async throws {
        guard !source.caseID.isEmpty, !source.implementationCode.isEmpty else {
            throw SupervisionEventConsumer.Unfileable(reason: "the event names no case id or no implementation code")
        }
        guard let kind = source.kind, let key = source.subjectKey else {
            try await SourceEventStore.record(eventID: event.eventID, type: event.type, sourceNode: event.sourceNode, caseID: source.caseID,
                                              implementationCode: source.implementationCode, outcome: .notPushed, pushes: 0, note: "nothing to push", payload: nil, in: transaction)
            return
        }
        let entries = try await boundaryEntries(implementationCode: source.implementationCode, on: transaction)
        let boundary = BoundaryList(entries.map(\.entry))
        let planned = PushPlanner.plan(source, boundary: boundary)
        guard !planned.isEmpty else {
            logger.warning("no boundary entry: decision reaches no department", metadata: ["item": "\(source.implementationCode)", "case": "\(source.caseID)", "type": "\(event.type)"])
            try await SourceEventStore.record(eventID: event.eventID, type: event.type, sourceNode: event.sourceNode, caseID: source.caseID,
                                              implementationCode: source.implementationCode, outcome: .noBoundary, pushes: 0,
                                              note: "no boundary entry for \(source.implementationCode)", payload: nil, in: transaction)
            return
        }
        let policy = try await policy(on: transaction)
        var pushTemplate = template
        if pushTemplate.itemName.isEmpty { pushTemplate.itemName = boundary.entry(for: source.implementationCode)?.itemName ?? "" }
        var skipped: [String] = []
        var pushes: [StoredPush] = []
        let departments = try await departments(planned.map(\.department.code), on: transaction)
        for plan in planned {
            guard let department = departments[plan.department.code], department.department.active else {
                skipped.append("\(plan.department.code) inactive")
                continue
            }
            pushes.append(try newPush(template: pushTemplate, kind: kind, dedupeKey: key, department: department, responsibility: plan.department.responsibility,
                                      sourceAt: sourceAt, sourceOn: sourceOn, policy: policy, reroutedFrom: nil))
        }
        // All of the fact's pushes in one statement; the events of those inserted, in plan order.
        let inserted = try await pushStore.insert(pushes, in: transaction)
        var created = 0
        var events: [OutboxEvent] = []
        for push in pushes {
            guard inserted.contains(push.id) else {
                skipped.append("\(push.departmentCode) already pushed")
                continue
            }
            created += 1
            events.append(try pushEvent(push.record, .created))
            if push.state.autoClaimed { events.append(try pushEvent(push.record, .claimed)) }
        }
        try await Outbox.enqueue(events, in: transaction)
        try await SourceEventStore.record(eventID: event.eventID, type: event.type, sourceNode: event.sourceNode, caseID: source.caseID,
                                          implementationCode: source.implementationCode, outcome: .pushed, pushes: created,
                                          note: skipped.joined(separator: "; "), payload: nil, in: transaction)
        logger.info("pushed", metadata: ["kind": "\(kind.rawValue)", "case": "\(source.caseID)", "pushes": "\(created)"])
    }

    /// A new push to `department`, pushed now. Pull departments on "pushed = claimed" nodes have it
    /// claimed at once; endpoint departments when their endpoint acknowledges it.
    func newPush(
        template: Supervision_Push, kind: PushKind, dedupeKey: String, department: StoredDepartment, responsibility: String,
        sourceAt: Date, sourceOn: CivilDate, policy: SupervisionPolicy, reroutedFrom: UUID?
    ) throws -> StoredPush {
        let now = clock()
        let schedule = try PushSchedule(sourceOn: sourceOn, pushedOn: CivilDate(now), policy: policy, calendar: calendar)
        var state = PushState(departmentCode: department.department.code, schedule: schedule)
        var record = template
        record.department = department.ref
        record.responsibility = responsibility
        if policy.pushedIsClaimed, department.department.delivery == .pull {
            try state.autoClaim(at: now)
            record.claimedBy = Self.systemActor(node: node)
        }
        var push = StoredPush(
            id: UUID(), dedupeKey: dedupeKey, departmentCode: department.department.code, kind: kind, delivery: department.department.delivery,
            state: state, record: record, sourceAt: sourceAt, pushedAt: now, deliveredAt: nil, deliveryAttempts: 0,
            nextDeliveryAt: department.department.delivery == .endpoint ? now : nil, lastDeliveryError: "", overdueReportedAt: nil,
            reroutedFrom: reroutedFrom, revision: 1)
        push.refreshRecord(today: today, calendar: calendar)
        return push
    }

    /// The actor of automatic acts ("pushed = claimed").
    static func systemActor(node: String) -> Common_ActorRef {
        Common_ActorRef.with { $0.subject = "supervision@\(node)"; $0.role = "system"; $0.node = node }
    }
}
