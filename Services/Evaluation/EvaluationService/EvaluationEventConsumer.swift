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
        if let up = try await file(event, in: transaction) { try await Outbox.enqueue([up], in: transaction) }
    }

    /// A batch's events filed and folded one by one, and the ones for the city written to the
    /// outbox together: one destinations upsert and one NOTIFY per batch instead of per event
    /// (≈ 11 events per case pass up from a county, #21).
    public func consume(batch events: [Events_EventEnvelope], in transaction: PostgresConnection) async throws {
        var up: [OutboxEvent] = []
        for event in events {
            if let passed = try await EventSinkService.tracing(event, { try await file(event, in: transaction) }) { up.append(passed) }
        }
        try await Outbox.enqueue(up, in: transaction)
    }

    /// Stores and folds one event; returns what to pass up to the parent node's evaluation, if any
    /// (built in the event's trace, which it carries on).
    func file(_ event: Events_EventEnvelope, in transaction: PostgresConnection) async throws -> OutboxEvent? {
        guard let id = UUID(uuidString: event.eventID) else { return nil }
        let occurredAt = event.hasOccurredAt ? event.occurredAt.date : api.clock()
        let filed = EventFiling.file(
            type: event.type, payload: Array(event.payload), sourceNode: event.sourceNode, occurredOn: CivilDate(occurredAt), index: api.applicantIndex)
        let new = try await EventLog.append(
            eventID: id, type: event.type, sourceService: event.sourceService, sourceNode: event.sourceNode, aggregateID: event.aggregateID,
            occurredAt: occurredAt, filed: filed, on: transaction)
        guard new else { return nil }
        if !filed.filed {
            api.logger.warning("event kept without effect", metadata: ["event_id": "\(event.eventID)", "type": "\(event.type)", "note": "\(filed.note)"])
        }
        try await FactStore.fold(filed.fact, on: transaction)
        guard let parent = api.parentDestination else { return nil }
        return OutboxEvent(id: id, destination: parent, type: event.type, aggregateID: event.aggregateID, payload: filed.payload, occurredAt: occurredAt)
    }
}
