import Foundation
import OneSealTrace

/// An event a service emits, stored in its outbox in the same transaction as the state change.
/// The payload is opaque bytes (services put a serialized protobuf envelope there).
public struct OutboxEvent: Sendable, Hashable {
    /// Unique event id; consumers deduplicate on it through their inbox.
    public var id: UUID
    /// Subscriber name, e.g. `supervision@371300`; order is kept per destination.
    public var destination: String
    public var type: String
    public var aggregateID: String
    public var payload: [UInt8]
    /// W3C traceparent of the request that produced the event; by default the current task's
    /// (``TraceContext/current``), so an event continues the trace of the call that made it.
    public var traceparent: String?
    /// When it happened. Left nil when writing, the outbox stamps the writing transaction's time;
    /// set it to pass on an event that happened earlier elsewhere. The relay always fills it, so
    /// consumers file an event under the day it happened, not the day a late relay brought it.
    public var occurredAt: Date?
    /// Position in the source's outbox (`seq`); filled by the relay, nil before.
    public var sequence: Int64?

    public init(
        id: UUID = UUID(), destination: String, type: String, aggregateID: String, payload: [UInt8],
        traceparent: String? = TraceContext.current?.traceparent, occurredAt: Date? = nil, sequence: Int64? = nil
    ) {
        self.id = id
        self.destination = destination
        self.type = type
        self.aggregateID = aggregateID
        self.payload = payload
        self.traceparent = traceparent
        self.occurredAt = occurredAt
        self.sequence = sequence
    }
}
