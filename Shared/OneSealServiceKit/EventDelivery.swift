import Foundation
import GRPCCore
import OneSealAuth
import OneSealOutbox
import OneSealPrivacy
import OneSealProto
import OneSealWire
import SwiftProtobuf

/// Sends outbox events to their destination's EventSink over OneSeal TCP: the delivery closure
/// an `OutboxRelay` is built with. A destination is a peer name from ONESEAL_PEERS
/// ("supervision@371300"); the call carries this service's own `node` token.
public struct EventDelivery: Sendable {
    public let sourceService: String
    public let sourceNode: String
    private let clients: [String: GRPCClient<OneSealClientTransport>]
    private let token: @Sendable () throws -> String
    /// The service's data keys: outbox payloads are sealed at rest and opened here, just before
    /// they are sent (`SealedEventPayload`).
    private let keyring: DataKeyring?

    /// The per-peer clients must be running (`GRPCClientService` in the service group).
    public init(
        sourceService: String,
        sourceNode: String,
        clients: [String: GRPCClient<OneSealClientTransport>],
        token: @escaping @Sendable () throws -> String,
        keyring: DataKeyring? = nil
    ) {
        self.keyring = keyring
        self.sourceService = sourceService
        self.sourceNode = sourceNode
        self.clients = clients
        self.token = token
    }

    public func envelope(for event: OutboxEvent) throws -> Events_EventEnvelope {
        var envelope = Events_EventEnvelope()
        envelope.eventID = event.id.uuidString
        envelope.type = event.type
        envelope.sourceService = self.sourceService
        envelope.sourceNode = self.sourceNode
        envelope.aggregateID = event.aggregateID
        envelope.traceparent = event.traceparent ?? ""
        envelope.payload = Data(try SealedEventPayload.open(event.payload, type: event.type, aggregateID: event.aggregateID, keyring: self.keyring))
        if let occurredAt = event.occurredAt { envelope.occurredAt = Google_Protobuf_Timestamp(date: occurredAt) }
        if let sequence = event.sequence { envelope.sequence = UInt64(sequence) }
        return envelope
    }

    /// Delivers a batch; throws (so the relay retries with backoff) unless every event was accepted.
    public func deliver(to destination: String, _ events: [OutboxEvent]) async throws {
        guard let client = self.clients[destination] else {
            throw RPCError(code: .failedPrecondition, message: "no peer '\(destination)' in ONESEAL_PEERS")
        }
        var request = Events_DeliverRequest()
        request.events = try events.map(self.envelope(for:))
        var metadata = Metadata()
        metadata.addString("Bearer \(try self.token())", forKey: "authorization")
        metadata.addString(self.sourceNode, forKey: "x-oneseal-node")
        var options = CallOptions.defaults
        options.timeout = .seconds(30)
        let response = try await Events_EventSink.Client(wrapping: client).deliver(request, metadata: metadata, options: options)
        let accepted = Set(response.acceptedEventIds)
        let missing = request.events.filter { !accepted.contains($0.eventID) }
        guard missing.isEmpty else {
            throw RPCError(code: .unavailable, message: "\(destination) accepted \(accepted.count) of \(events.count) events; will retry")
        }
    }

    /// The policy entry for a service that receives events: other OneSeal services only, any
    /// trusted node (events cross between city and county).
    public static let sinkPolicy = AccessPolicy([
        "oneseal.events.v1.EventSink/Deliver": MethodRule(roles: [.peerNode], scope: .anyTrustedNode)
    ])
}
