import Foundation
import GRPCCore
import OneSealProto
import OneSealStore
import Synchronization

/// A value built after the service definition is declared: a service's API exists only once its
/// database is ready (`ServiceDefinition.makeServices`), while its background services and event
/// consumer are declared before that. They reach it through this box, which `ServiceRunner` fills
/// first; asked before that, it answers UNAVAILABLE ("starting"), which a relay retries.
public final class LateBound<Value: Sendable>: Sendable {
    private let value = Mutex<Value?>(nil)
    private let name: String

    /// `name` is the service's name, for the "starting" answer.
    public init(_ name: String) {
        self.name = name
    }

    public func set(_ new: Value) { value.withLock { $0 = new } }

    public func get() throws -> Value {
        guard let current = value.withLock({ $0 }) else { throw RPCError(code: .unavailable, message: "\(name) is starting") }
        return current
    }
}

/// An `EventConsumer` that reaches the service's API through its `LateBound` box: `make` builds
/// the service's own consumer from the API for each event.
public struct LateBoundConsumer<API: Sendable>: EventConsumer {
    let box: LateBound<API>
    let make: @Sendable (API) -> any EventConsumer

    public init(_ box: LateBound<API>, _ make: @escaping @Sendable (API) -> any EventConsumer) {
        self.box = box
        self.make = make
    }

    public func consume(_ event: Events_EventEnvelope, in transaction: PostgresConnection) async throws {
        try await make(try box.get()).consume(event, in: transaction)
    }

    public func consume(batch events: [Events_EventEnvelope], in transaction: PostgresConnection) async throws {
        try await make(try box.get()).consume(batch: events, in: transaction)
    }

    public func consumeOnce(_ events: [(Events_EventEnvelope, UUID)], in transaction: PostgresConnection) async throws -> Set<UUID>? {
        try await make(try box.get()).consumeOnce(events, in: transaction)
    }
}
