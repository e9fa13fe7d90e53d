import EvaluationRules
import Foundation
import GRPCCore
import OneSealCore
import OneSealOutbox
import OneSealProto
import OneSealServiceKit
import OneSealStore
import OneSealTrace
import SwiftProtobuf

/// Every event delivered to `evaluation@<node>`: stored in the append-only log (personal data
/// removed), folded into the read model, and — when this node has a parent whose evaluation is a
/// configured peer — passed up so the city's figures include its counties (E13): a batch's events
/// in one `EventsPassedUp` (decision 77), which the city opens and takes event by event. An event
/// of a type evaluation does not know is stored with `filed = false`: kept, never dropped.
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
        var carriers: [UUID: UUID] = [:]  // an event passed up → the envelope that carried it
        var opened: [Events_EventEnvelope] = []
        for (event, id) in events {
            guard event.type == Evaluation_EventsPassedUp.protoMessageName else {
                opened.append(event)
                continue
            }
            for inner in try PassedUp.open(event) {
                if let innerID = UUID(uuidString: inner.eventID) { carriers[innerID] = id }
                opened.append(inner)
            }
        }
        let logged = try await log(opened, in: transaction)
        for (event, entry) in logged where !entry.filed.filed {
            try await EventSinkService.tracing(event) {
                api.logger.warning("event kept without effect", metadata: ["event_id": "\(event.eventID)", "type": "\(event.type)", "note": "\(entry.filed.note)"])
            }
        }
        try await FactStore.fold(logged.map(\.entry.filed.fact), on: transaction)
        if let parent = api.parentDestination {
            try await Outbox.enqueue(try PassedUp.rows(logged.map { event, entry in PassedUp.envelope(of: event, as: entry) }, to: parent, from: api.node), in: transaction)
        }
        // Applied now: the events logged now, and an envelope that carried at least one of them.
        return Set(logged.map { carriers[$0.entry.eventID] ?? $0.entry.eventID })
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

/// How a county's evaluation passes a batch up and how its city opens it (decision 77): the
/// events travel in `EventsPassedUp` rows of at most `maximumEvents` events and `maximumBytes` of
/// envelopes, one outbox row per batch instead of one per event (≈ 26 rows per case written,
/// claimed and deleted at the county before, #21 step 15). The city logs each event under its own
/// id, so what it holds and folds is what it held when they came alone, and a row delivered
/// twice, or an event that also came alone, is applied once.
enum PassedUp {
    /// Events one row carries at most: a gathered batch is a few hundred; the city refuses more.
    static let maximumEvents = 1_000
    /// The county cuts a row at this many bytes of envelopes (well under a frame's 4 MiB: the
    /// relay's batch must fit one); an envelope larger than this goes alone in a row of its own.
    static let maximumBytes = 1 << 20

    /// The envelope the county's relay used to send for `event`, as logged: its id, type,
    /// aggregate, occurrence and payload with personal data removed, in a trace continuing the
    /// call that produced it. Source and sequence are the carrier's.
    static func envelope(of event: Events_EventEnvelope, as entry: EventLog.Entry) -> Events_EventEnvelope {
        var up = Events_EventEnvelope()
        up.eventID = entry.eventID.uuidString
        up.type = event.type
        up.aggregateID = event.aggregateID
        up.occurredAt = Google_Protobuf_Timestamp(date: entry.occurredAt)
        up.traceparent = TraceContext.continuing(event.traceparent.isEmpty ? nil : event.traceparent).traceparent
        up.payload = Data(entry.filed.payload)
        return up
    }

    /// `events` in as few rows as the limits allow, in order.
    static func rows(_ events: [Events_EventEnvelope], to destination: String, from node: String) throws -> [OutboxEvent] {
        var rows: [OutboxEvent] = []
        var current = Evaluation_EventsPassedUp()
        var bytes = 0
        func close() throws {
            guard !current.events.isEmpty else { return }
            rows.append(OutboxEvent(
                destination: destination, type: Evaluation_EventsPassedUp.protoMessageName, aggregateID: node,
                payload: try current.serializedBytes(), traceparent: nil))
            current = Evaluation_EventsPassedUp()
            bytes = 0
        }
        for event in events {
            // Its size to within a few bytes, without encoding it twice: the payload, the texts,
            // and at most 128 bytes of id, trace, time and field tags.
            let size = event.payload.count + event.type.utf8.count + event.aggregateID.utf8.count + 128
            if current.events.count == maximumEvents || (bytes > 0 && bytes + size > maximumBytes) { try close() }
            current.events.append(event)
            bytes += size
        }
        try close()
        return rows
    }

    /// The events `carrier` passed up, each with the carrier's source and sequence. A carrier that
    /// does not parse, holds more than `maximumEvents`, or holds an event without a UUID id or a
    /// type, or another carrier, is refused whole as INVALID_ARGUMENT naming the field (the relay
    /// dead-letters it: sending it again sends the same bytes).
    static func open(_ carrier: Events_EventEnvelope) throws -> [Events_EventEnvelope] {
        let passed: Evaluation_EventsPassedUp
        do {
            passed = try Evaluation_EventsPassedUp(serializedBytes: carrier.payload)
        } catch {
            throw RPCError.invalidArgument(field: "payload", "event \(carrier.eventID): not an EventsPassedUp", reason: "format")
        }
        guard passed.events.count <= maximumEvents else {
            throw RPCError.invalidArgument(field: "payload.events", "event \(carrier.eventID): \(passed.events.count) events, at most \(maximumEvents)", reason: "too_many")
        }
        return try passed.events.enumerated().map { index, event in
            guard UUID(uuidString: event.eventID) != nil else {
                throw RPCError.invalidArgument(field: "payload.events[\(index)].event_id", "event \(carrier.eventID): not a UUID", reason: "format")
            }
            guard !event.type.isEmpty, event.type != Evaluation_EventsPassedUp.protoMessageName else {
                throw RPCError.invalidArgument(field: "payload.events[\(index)].type", "event \(carrier.eventID): required, and not EventsPassedUp", reason: "format")
            }
            var event = event
            event.sourceService = carrier.sourceService
            event.sourceNode = carrier.sourceNode
            event.sequence = carrier.sequence
            return event
        }
    }
}
