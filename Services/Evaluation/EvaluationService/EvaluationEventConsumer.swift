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
        guard let id = UUID(uuidString: event.eventID) else { return }
        let occurredAt = event.hasOccurredAt ? event.occurredAt.date : api.clock()
        let filed = EventFiling.file(
            type: event.type, payload: Array(event.payload), sourceNode: event.sourceNode, occurredOn: CivilDate(occurredAt), index: api.applicantIndex)
        let new = try await EventLog.append(
            eventID: id, type: event.type, sourceService: event.sourceService, sourceNode: event.sourceNode, aggregateID: event.aggregateID,
            occurredAt: occurredAt, filed: filed, on: transaction)
        guard new else { return }
        if !filed.filed {
            api.logger.warning("event kept without effect", metadata: ["event_id": "\(event.eventID)", "type": "\(event.type)", "note": "\(filed.note)"])
        }
        try await FactStore.fold(filed.fact, on: transaction)
        if let parent = api.parentDestination {
            try await Outbox.enqueue([OutboxEvent(id: id, destination: parent, type: event.type, aggregateID: event.aggregateID, payload: filed.payload, occurredAt: occurredAt)], in: transaction)
        }
    }
}
