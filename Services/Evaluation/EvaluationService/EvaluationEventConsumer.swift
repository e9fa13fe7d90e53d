import EvaluationRules
import Foundation
import OneSealCore
import OneSealOutbox
import OneSealProto
import OneSealServiceKit
import OneSealStore

/// Every event delivered to `evaluation@<node>`: stored in the append-only log (personal data
/// removed), folded into the read model, and — when this node has a parent whose evaluation is a
/// configured peer — passed up so the city's figures include its counties (E13). An event of a
/// type evaluation does not know is stored with `filed = false`: kept, never dropped.
public struct EvaluationEventConsumer: EventConsumer {
    let api: EvaluationAPI

    public init(api: EvaluationAPI) { self.api = api }

    public func consume(_ event: Events_EventEnvelope, in transaction: PostgresConnection) async throws {
        for entry in try await log([event], in: transaction) {
            if let up = try await fold(entry, in: transaction) { try await Outbox.enqueue([up], in: transaction) }
        }
    }

    /// A batch's events stored in the log in one statement, then folded one by one, each in its
    /// own trace, and the ones for the city written to the outbox together: one log insert, one
    /// outbox insert, one destinations upsert and one NOTIFY per batch instead of per event
    /// (≈ 11 events per case pass up from a county, #21).
    public func consume(batch events: [Events_EventEnvelope], in transaction: PostgresConnection) async throws {
        var up: [OutboxEvent] = []
        for (event, entry) in try await log(events, in: transaction) {
            if let passed = try await EventSinkService.tracing(event, { try await fold((event, entry), in: transaction) }) { up.append(passed) }
        }
        try await Outbox.enqueue(up, in: transaction)
    }

    /// Files the events (personal data removed) and stores them in the log; answers, in the
    /// order given, the ones it had not stored before — those are folded, the others were.
    func log(_ events: [Events_EventEnvelope], in transaction: PostgresConnection) async throws -> [(event: Events_EventEnvelope, entry: EventLog.Entry)] {
        let entries: [(event: Events_EventEnvelope, entry: EventLog.Entry)] = events.compactMap { event in
            guard let id = UUID(uuidString: event.eventID) else { return nil }
            let occurredAt = event.hasOccurredAt ? event.occurredAt.date : api.clock()
            let filed = EventFiling.file(
                type: event.type, payload: Array(event.payload), sourceNode: event.sourceNode, occurredOn: CivilDate(occurredAt), index: api.applicantIndex)
            return (event, EventLog.Entry(
                eventID: id, type: event.type, sourceService: event.sourceService, sourceNode: event.sourceNode, aggregateID: event.aggregateID,
                occurredAt: occurredAt, filed: filed))
        }
        let new = try await EventLog.append(entries.map(\.entry), on: transaction)
        return entries.filter { new.contains($0.entry.eventID) }
    }

    /// Folds one newly logged event into the read model; returns what to pass up to the parent
    /// node's evaluation, if any (built in the event's trace, which it carries on).
    func fold(_ logged: (event: Events_EventEnvelope, entry: EventLog.Entry), in transaction: PostgresConnection) async throws -> OutboxEvent? {
        let (event, entry) = logged
        if !entry.filed.filed {
            api.logger.warning("event kept without effect", metadata: ["event_id": "\(event.eventID)", "type": "\(event.type)", "note": "\(entry.filed.note)"])
        }
        try await FactStore.fold(entry.filed.fact, on: transaction)
        guard let parent = api.parentDestination else { return nil }
        return OutboxEvent(
            id: entry.eventID, destination: parent, type: event.type, aggregateID: event.aggregateID, payload: entry.filed.payload, occurredAt: entry.occurredAt)
    }
}
