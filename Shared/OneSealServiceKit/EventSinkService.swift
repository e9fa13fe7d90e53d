import Foundation
import GRPCCore
import Logging
import OneSealOutbox
import OneSealProto
import OneSealStore
import OneSealTrace

/// What a service does with one event it subscribes to. Runs inside the transaction that also
/// records the event id in the inbox, so the effect happens exactly once however often the event
/// is delivered.
public protocol EventConsumer: Sendable {
    func consume(_ event: Events_EventEnvelope, in transaction: PostgresConnection) async throws
    /// The new events of one delivered batch, in order, in the batch's one transaction (the
    /// sink's short path; the fallback under savepoints calls `consume(_:in:)` per event). By
    /// default each is consumed in its own trace (`EventSinkService.tracing`); a consumer that
    /// has work to do once per batch — evaluation passes a batch's events up to the city in one
    /// outbox write — implements it, tracing each event the same way.
    func consume(batch events: [Events_EventEnvelope], in transaction: PostgresConnection) async throws
    /// For a consumer whose own store records each event id once — evaluation's append-only event
    /// log — in place of the sink's inbox: applies, in order, the events of `events` it had not
    /// recorded before and answers their ids (decision 76: the inbox row was a second receipt of
    /// the same id, ≈ 52 rows per case). nil, the default: the sink's inbox decides.
    func consumeOnce(_ events: [(Events_EventEnvelope, UUID)], in transaction: PostgresConnection) async throws -> Set<UUID>?
}

extension EventConsumer {
    public func consume(batch events: [Events_EventEnvelope], in transaction: PostgresConnection) async throws {
        for event in events {
            try await EventSinkService.tracing(event) { try await consume(event, in: transaction) }
        }
    }

    public func consumeOnce(_ events: [(Events_EventEnvelope, UUID)], in transaction: PostgresConnection) async throws -> Set<UUID>? { nil }
}

/// `oneseal.events.v1.EventSink/Deliver`: the receiving end of every outbox relay pointed at this
/// service. A request's events are applied in order in **one** transaction (#21: a commit per batch,
/// not per event — with durable settings each commit is a WAL flush), each event in its own
/// savepoint with its inbox row, so an event that was seen before is acknowledged without applying
/// it again, and an event whose consumer throws is rolled back alone: the events before it commit,
/// then the call fails with that event's error, as it did when each event had its own transaction
/// (the relay then retries from the failed event, or delivers one at a time to place a refusal).
/// The response lists the ids that are now durably handled; the sender retries the rest.
///
/// A batch is first applied the short way (#21 step 3): the inbox rows of all its events in one
/// statement, then the effects of the events seen for the first time, with no savepoints — three
/// statements fewer per event. Only when that transaction fails is it rolled back whole and the
/// batch applied again event by event under savepoints, which places the failure on its event;
/// the inbox makes the second run safe.
public struct EventSinkService: Events_EventSink.SimpleServiceProtocol {
    public let consumerName: String
    public let database: PostgresClient
    public let consumer: any EventConsumer
    /// Gathers concurrent batches into one transaction (a sink nobody waits on: evaluation).
    public var gatherer: DeliveryGatherer?
    let logger: Logger

    public init(consumerName: String, database: PostgresClient, consumer: any EventConsumer, logger: Logger = Logger(label: "oneseal.events")) {
        self.consumerName = consumerName
        self.database = database
        self.consumer = consumer
        self.logger = logger
    }

    public func deliver(request: Events_DeliverRequest, context: ServerContext) async throws -> Events_DeliverResponse {
        var ids: [UUID] = []
        for (index, event) in request.events.enumerated() {
            guard let id = UUID(uuidString: event.eventID) else {
                throw RPCError(code: .invalidArgument, message: "events[\(index)].event_id: '\(event.eventID)' is not a UUID")
            }
            guard !event.type.isEmpty else {
                throw RPCError(code: .invalidArgument, message: "events[\(index)].type: required")
            }
            ids.append(id)
        }
        let events = Array(zip(request.events, ids))
        var response = Events_DeliverResponse()
        response.acceptedEventIds = request.events.map(\.eventID)
        if let gatherer, await gatherer.gathered(events) { return response }
        do {
            let fresh = try await database.withTransaction { transaction in
                try await self.applyTogether(events, in: transaction)
            }
            for (event, id) in events where !fresh.contains(id) {
                logger.debug("duplicate event acknowledged", metadata: ["event_id": "\(event.eventID)", "type": "\(event.type)"])
            }
            return response
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            // Rolled back whole: nothing of the batch is applied. Apply it one event at a time.
            logger.debug("batch failed together; applying it event by event", metadata: ["error": "\(error)"])
        }
        var remaining = events[...]
        var retries = 0
        while !remaining.isEmpty {
            let batch = Array(remaining)
            let outcome = try await database.withTransaction { transaction in
                try await self.apply(batch, in: transaction)
            }
            for ((event, _), applied) in zip(batch, outcome.applied) where !applied {
                logger.debug("duplicate event acknowledged", metadata: ["event_id": "\(event.eventID)", "type": "\(event.type)"])
            }
            remaining = remaining.dropFirst(outcome.applied.count)
            guard let failure = outcome.failure else { break }
            // A deadlock with another batch (each holds the locks of the events it applied so
            // far): the prefix has committed and released them; the rest goes again in a new
            // transaction, as a transaction of its own used to be retried.
            if let error = failure as? PostgresError, error.isRetryableTransactionFailure, retries < 4 {
                retries += 1
                try await Task.sleep(for: .milliseconds(Int.random(in: 1...(5 * retries))))
                continue
            }
            throw failure
        }
        return response
    }

    /// Applies `events` in order inside `transaction` with one inbox statement for all of them and
    /// no savepoints; any error aborts the whole transaction. Returns the ids applied now (the
    /// others were seen before). An id twice in one request is applied once, at its first place.
    public func applyTogether(_ events: [(Events_EventEnvelope, UUID)], in transaction: PostgresConnection) async throws -> Set<UUID> {
        if let applied = try await consumer.consumeOnce(events, in: transaction) { return applied }
        var fresh = try await Inbox.markProcessed(eventIDs: events.map(\.1), consumer: consumerName, in: transaction)
        let applied = fresh
        let new = events.filter { fresh.remove($0.1) != nil }.map(\.0)
        try await consumer.consume(batch: new, in: transaction)
        return applied
    }

    /// Runs `body` in the trace of the call that produced `event` (its envelope's traceparent):
    /// the consumer's log lines and the events it writes carry it on.
    public static func tracing<T>(_ event: Events_EventEnvelope, _ body: () async throws -> T) async throws -> T {
        let trace = TraceContext.continuing(event.traceparent.isEmpty ? nil : event.traceparent)
        return try await TraceContext.$current.withValue(trace) { try await body() }
    }

    /// Applies `events` in order inside `transaction`, each under a savepoint. Returns, for the
    /// events handled (a prefix), whether each was applied (false: a duplicate), and the error of
    /// the first event that failed — rolled back to its savepoint, so the transaction still
    /// commits the prefix. An error the savepoint cannot undo (the connection is gone) is thrown.
    func apply(_ events: [(Events_EventEnvelope, UUID)], in transaction: PostgresConnection) async throws -> (applied: [Bool], failure: (any Error)?) {
        var applied: [Bool] = []
        for (event, id) in events {
            try await transaction.execute("SAVEPOINT oneseal_event")
            do {
                let fresh = try await Self.tracing(event) {
                    if let applied = try await self.consumer.consumeOnce([(event, id)], in: transaction) { return applied.contains(id) }
                    guard try await Inbox.markProcessed(eventID: id, consumer: self.consumerName, in: transaction) else { return false }
                    try await self.consumer.consume(event, in: transaction)
                    return true
                }
                try await transaction.execute("RELEASE SAVEPOINT oneseal_event")
                applied.append(fresh)
            } catch {
                try await transaction.execute("ROLLBACK TO SAVEPOINT oneseal_event")
                return (applied, error)
            }
        }
        return (applied, nil)
    }
}
