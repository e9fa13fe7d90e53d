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
}

/// `oneseal.events.v1.EventSink/Deliver`: the receiving end of every outbox relay pointed at this
/// service. Each event is applied in its own transaction (effect + inbox row); an event that was
/// seen before is acknowledged without applying it again. The response lists the ids that are
/// now durably handled; the sender retries the rest.
public struct EventSinkService: Events_EventSink.SimpleServiceProtocol {
    public let consumerName: String
    public let database: PostgresClient
    public let consumer: any EventConsumer
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
        var response = Events_DeliverResponse()
        for (event, id) in zip(request.events, ids) {
            // The event continues the trace of the call that produced it (its envelope's
            // traceparent): the consumer's log lines and the events it writes carry it on.
            let trace = TraceContext.continuing(event.traceparent.isEmpty ? nil : event.traceparent)
            let applied = try await TraceContext.$current.withValue(trace) {
                try await self.database.withTransaction { transaction in
                    guard try await Inbox.markProcessed(eventID: id, consumer: self.consumerName, in: transaction) else { return false }
                    try await self.consumer.consume(event, in: transaction)
                    return true
                }
            }
            if !applied {
                self.logger.debug("duplicate event acknowledged", metadata: ["event_id": "\(id)", "type": "\(event.type)"])
            }
            response.acceptedEventIds.append(event.eventID)
        }
        return response
    }
}
