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
        try await consume(batch: [event], in: transaction)
    }

    public func consume(batch events: [Events_EventEnvelope], in transaction: PostgresConnection) async throws {
        _ = try await consumeOnce(events.compactMap { event in UUID(uuidString: event.eventID).map { (event, $0) } }, in: transaction)
    }

    /// A batch's events stored in the log in one statement, folded together (the facts they
    /// touch locked, read and written once: `FactStore.fold`), and the ones for the city written
    /// to the outbox together, each built in its own event's trace — a handful of statements per
    /// batch instead of several per event (≈ 26 events per case at a county, #21). The log is the
    /// receipt (decision 76): an event it holds already — or met earlier in the same batch — is
    /// acknowledged without effect, with no inbox row beside it.
    public func consumeOnce(_ events: [(Events_EventEnvelope, UUID)], in transaction: PostgresConnection) async throws -> Set<UUID>? {
        let logged = try await log(events.map(\.0), in: transaction)
        for (event, entry) in logged where !entry.filed.filed {
            try await EventSinkService.tracing(event) {
                api.logger.warning("event kept without effect", metadata: ["event_id": "\(event.eventID)", "type": "\(event.type)", "note": "\(entry.filed.note)"])
            }
        }
        try await FactStore.fold(logged.map(\.entry.filed.fact), on: transaction)
        guard let parent = api.parentDestination else { return Set(logged.map(\.entry.eventID)) }
        var up: [OutboxEvent] = []
        for (event, entry) in logged {
            up.append(try await EventSinkService.tracing(event) {
                OutboxEvent(id: entry.eventID, destination: parent, type: event.type, aggregateID: event.aggregateID, payload: entry.filed.payload, occurredAt: entry.occurredAt)
            })
        }
        try await Outbox.enqueue(up, in: transaction)
        return Set(logged.map(\.entry.eventID))
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
        var new = try await EventLog.append(entries.map(\.entry), on: transaction)
        // An id twice in one batch is applied once, at its first place.
        return entries.filter { new.remove($0.entry.eventID) != nil }
    }
}
