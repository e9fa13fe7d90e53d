import Foundation
import GRPCCore
import OneSealAuth
import OneSealOutbox
import OneSealProto
import OneSealServiceKit
import OneSealStore
import OneSealTestSupport
import OneSealWire
import Synchronization
import Testing

/// Outbox → relay → OneSeal TCP → EventSink → inbox + effect, across two real databases.
@Suite("Event delivery between services")
struct EventDeliveryTests {
    /// Records every event it applies, without any uniqueness, so a double effect would show.
    struct RecordingConsumer: EventConsumer {
        func consume(_ event: Events_EventEnvelope, in transaction: PostgresConnection) async throws {
            try await transaction.execute(
                "INSERT INTO received (event_id, type, aggregate_id, source_node) VALUES (\(event.eventID), \(event.type), \(event.aggregateID), \(event.sourceNode))"
            )
        }
    }

    @Test("every event arrives once in effect, in order, and redelivery changes nothing")
    func endToEnd() async throws {
        let key = TokenSigningKey.generate(issuer: "371302")
        try await withTestDatabase(prefix: "source") { source in
            try await withTestDatabase(prefix: "sink") { sink in
                try await OutboxMigrations.apply(on: source)
                try await OutboxMigrations.apply(on: sink)
                try await sink.execute("CREATE TABLE received (seq bigserial, event_id text, type text, aggregate_id text, source_node text)")

                try await Self.withSink(sink, consumer: RecordingConsumer(), trusting: key) { client in
                    let delivery = EventDelivery(
                        sourceService: "intake", sourceNode: "371302", clients: ["evaluation@371300": client],
                        token: { try key.mint(subject: "intake@371302", role: .peerNode, node: "371302") }
                    )
                    let events = (0..<30).map { index in
                        OutboxEvent(destination: "evaluation@371300", type: "intake.v1.ApplicationAccepted", aggregateID: "case-\(index)", payload: [UInt8(index)])
                    }
                    for event in events {
                        try await source.withTransaction { try await Outbox.enqueue([event], in: $0) }
                    }
                    let relay = OutboxRelay(client: source, configuration: .init(batchSize: 7)) { destination, batch in
                        try await delivery.deliver(to: destination, batch)
                    }
                    var rounds = 0
                    while try await Outbox.lag(on: source).pendingCount > 0, rounds < 50 {
                        try await relay.relayOnce()
                        rounds += 1
                    }
                    #expect(try await Outbox.lag(on: source).pendingCount == 0)

                    // A lost acknowledgement means the sender delivers the same events again.
                    try await delivery.deliver(to: "evaluation@371300", Array(events.prefix(10)))

                    let rows = try await sink.query("SELECT event_id, aggregate_id, source_node FROM received ORDER BY seq")
                    #expect(rows.count == 30)
                    #expect(try rows.map { try $0.decode("event_id", as: String.self) } == events.map(\.id.uuidString))
                    #expect(try rows.allSatisfy { try $0.decode("source_node", as: String.self) == "371302" })

                    // Only OneSeal services may deliver, and ids must be UUIDs.
                    let clerk = EventDelivery(
                        sourceService: "x", sourceNode: "371302", clients: ["evaluation@371300": client],
                        token: { try key.mint(subject: "clerk", role: .windowClerk, node: "371302") }
                    )
                    await #expect { try await clerk.deliver(to: "evaluation@371300", Array(events.prefix(1))) } throws: {
                        ($0 as? RPCError)?.code == .permissionDenied
                    }
                    var bad = Events_DeliverRequest()
                    var envelope = try delivery.envelope(for: events[0])
                    envelope.eventID = "not-a-uuid"
                    bad.events = [envelope]
                    var metadata = Metadata()
                    metadata.addString("Bearer \(try key.mint(subject: "s", role: .peerNode, node: "371302"))", forKey: "authorization")
                    await #expect { _ = try await Events_EventSink.Client(wrapping: client).deliver(bad, metadata: metadata) } throws: {
                        ($0 as? RPCError)?.code == .invalidArgument && ($0 as? RPCError)?.message.contains("events[0].event_id") == true
                    }
                }
            }
        }
    }

    /// An event sink for `consumer` on a free port of this machine, accepting `key`'s county
    /// tokens as the city's evaluation, and a client to it.
    static func withSink(
        _ sink: PostgresClient, consumer: some EventConsumer, trusting key: TokenSigningKey, gatherer: DeliveryGatherer? = nil,
        _ body: @Sendable (GRPCClient<OneSealClientTransport>) async throws -> Void
    ) async throws {
        let transport = OneSealServerTransport(host: "127.0.0.1", port: 0)
        var service = EventSinkService(consumerName: "evaluation", database: sink, consumer: consumer)
        service.gatherer = gatherer
        let server = GRPCServer(
            transport: transport,
            services: [service],
            interceptors: [AuthServerInterceptor(verifier: TokenVerifier(trusting: [TrustedTokenKey(key.publicKey, node: "371302")]), policy: EventDelivery.sinkPolicy, localNode: "371300", serviceCertificates: .notRequired)]
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.serve() }
            let port = try await transport.listeningAddress.port!
            try await withGRPCClient(transport: OneSealClientTransport(host: "127.0.0.1", port: port)) { client in try await body(client) }
            server.beginGracefulShutdown()
            try await group.waitForAll()
        }
    }

    /// A sink's database with the table `TransactionRecordingConsumer` writes, and a peer's key.
    static func withRecordingDatabase(_ body: (PostgresClient, TokenSigningKey) async throws -> Void) async throws {
        let key = TokenSigningKey.generate(issuer: "371302")
        try await withTestDatabase(prefix: "sink") { sink in
            try await OutboxMigrations.apply(on: sink)
            try await sink.execute("CREATE TABLE received (seq bigserial, event_id text, aggregate_id text, txid bigint)")
            try await body(sink, key)
        }
    }

    /// What `TransactionRecordingConsumer` recorded, in order.
    static func received(in sink: PostgresClient) async throws -> [(aggregate: String, txid: Int64)] {
        try await sink.query("SELECT aggregate_id, txid FROM received ORDER BY seq").map {
            (try $0.decode("aggregate_id", as: String.self), try $0.decode("txid", as: Int64.self))
        }
    }

    /// Records each event with the transaction it was applied in, and fails — after writing — on
    /// the aggregate "poison", so a partial effect of a failed event would show.
    struct TransactionRecordingConsumer: EventConsumer {
        struct Poisoned: Error {}
        func consume(_ event: Events_EventEnvelope, in transaction: PostgresConnection) async throws {
            try await transaction.execute("INSERT INTO received (event_id, aggregate_id, txid) VALUES (\(event.eventID), \(event.aggregateID), txid_current())")
            if event.aggregateID == "poison" { throw Poisoned() }
        }
    }

    @Test("a delivered batch is one transaction (#21); an event that fails rolls back alone, the ones before it commit, a redelivery applies only the rest")
    func batchInOneTransaction() async throws {
        try await Self.withRecordingDatabase { sink, key in
            try await Self.withSink(sink, consumer: TransactionRecordingConsumer(), trusting: key) { client in
                let delivery = EventDelivery(
                    sourceService: "intake", sourceNode: "371302", clients: ["evaluation@371300": client],
                    token: { try key.mint(subject: "intake@371302", role: .peerNode, node: "371302") })
                func event(_ aggregate: String) -> OutboxEvent {
                    OutboxEvent(destination: "evaluation@371300", type: "intake.v1.ApplicationAccepted", aggregateID: aggregate, payload: [1])
                }
                func received() async throws -> [(aggregate: String, txid: Int64)] { try await Self.received(in: sink) }
                let first = (0..<20).map { event("a\($0)") }
                try await delivery.deliver(to: "evaluation@371300", first)
                var rows = try await received()
                #expect(rows.map(\.aggregate) == first.map(\.aggregateID))
                #expect(Set(rows.map(\.txid)).count == 1, "twenty events, one transaction")

                let poisoned = [event("b0"), event("b1"), event("poison"), event("b3")]
                await #expect(throws: (any Error).self) { try await delivery.deliver(to: "evaluation@371300", poisoned) }
                rows = try await received()
                #expect(rows.map(\.aggregate) == first.map(\.aggregateID) + ["b0", "b1"], "the poison's own write rolled back, b3 not reached")
                #expect(try await sink.query("SELECT count(*) FROM inbox").one().decode(at: 0, as: Int.self) == 22)

                // The relay sends the batch again (b0, b1 are duplicates now) without the poison.
                try await delivery.deliver(to: "evaluation@371300", [poisoned[0], poisoned[1], poisoned[3]])
                rows = try await received()
                #expect(rows.map(\.aggregate) == first.map(\.aggregateID) + ["b0", "b1", "b3"])
                #expect(Set(rows.map(\.txid)).count == 3)
            }
        }
    }

    @Test("a gathering sink applies the batches of several lanes arriving together in one transaction; a poison among them fails only its own batch")
    func gatheredBatches() async throws {
        try await Self.withRecordingDatabase { sink, key in
            let applying = EventSinkService(consumerName: "evaluation", database: sink, consumer: TransactionRecordingConsumer())
            let gatherer = DeliveryGatherer(window: .milliseconds(300)) { events in
                _ = try await sink.withTransaction { try await applying.applyTogether(events, in: $0) }
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await gatherer.run() }
                // Running: a gathered call no longer answers "apply it yourself" at once.
                while await gatherer.gathered([]) == false { try await Task.sleep(for: .milliseconds(10)) }
                let settled = gatherer.gatheredTransactions
                try await Self.withSink(sink, consumer: TransactionRecordingConsumer(), trusting: key, gatherer: gatherer) { client in
                    /// One relay per lane: its own source, its own events.
                    @Sendable func lane(_ name: String, _ aggregates: [String]) async throws {
                        let delivery = EventDelivery(
                            sourceService: name, sourceNode: "371302", clients: ["evaluation@371300": client],
                            token: { try key.mint(subject: "\(name)@371302", role: .peerNode, node: "371302") })
                        try await delivery.deliver(to: "evaluation@371300", aggregates.map {
                            OutboxEvent(destination: "evaluation@371300", type: "intake.v1.ApplicationAccepted", aggregateID: $0, payload: [1])
                        })
                    }
                    func received() async throws -> [(aggregate: String, txid: Int64)] { try await Self.received(in: sink) }
                    // Three lanes at once: one transaction for all nine events.
                    try await withThrowingTaskGroup(of: Void.self) { lanes in
                        for source in ["intake", "approval", "certificate"] {
                            lanes.addTask { try await lane(source, (0..<3).map { "\(source)-\($0)" }) }
                        }
                        try await lanes.waitForAll()
                    }
                    var rows = try await received()
                    #expect(rows.count == 9 && Set(rows.map(\.txid)).count == 1, "three batches, one transaction")
                    #expect(gatherer.gatheredTransactions == settled + 1)

                    // A poison in one lane's batch: the gathered transaction rolls back whole, each
                    // batch is applied alone — the others in full, the poisoned one up to it, and
                    // only its caller is told of the failure.
                    let outcomes = try await withThrowingTaskGroup(of: (String, Bool).self) { lanes in
                        lanes.addTask { (try? await lane("intake", ["i-a", "i-b"])) == nil ? ("intake", false) : ("intake", true) }
                        lanes.addTask { (try? await lane("approval", ["a-a", "poison", "a-c"])) == nil ? ("approval", false) : ("approval", true) }
                        lanes.addTask { (try? await lane("certificate", ["c-a"])) == nil ? ("certificate", false) : ("certificate", true) }
                        return try await lanes.reduce(into: [String: Bool]()) { $0[$1.0] = $1.1 }
                    }
                    #expect(outcomes == ["intake": true, "approval": false, "certificate": true])
                    rows = try await received()
                    #expect(Set(rows.dropFirst(9).map(\.aggregate)) == ["i-a", "i-b", "a-a", "c-a"], "the poison's write and what follows it rolled back")
                    #expect(try await sink.query("SELECT count(*) FROM inbox").one().decode(at: 0, as: Int.self) == 13)
                    #expect(gatherer.gatheredTransactions == settled + 1, "the failed gathering committed nothing")
                }
                group.cancelAll()
            }
            // Stopped: a caller is told at once to apply its batch itself.
            #expect(await gatherer.gathered([]) == false)
        }
    }

    @Test("a prompt source's batch does not wait for the window: it goes at once, with what is waiting")
    func promptSourceGoesAtOnce() async throws {
        let applied = Mutex<[[String]]>([])
        let gatherer = DeliveryGatherer(window: .seconds(5), prompt: ["approval"]) { events in
            applied.withLock { $0.append(events.map(\.0.sourceService)) }
        }
        func batch(_ source: String) -> DeliveryGatherer.Events {
            [(Events_EventEnvelope.with { $0.eventID = UUID().uuidString; $0.sourceService = source; $0.type = "t" }, UUID())]
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await gatherer.run() }
            // Running once a gathered call is queued rather than refused (an empty one, not
            // prompt: it waits for the approval batch below).
            let clock = ContinuousClock()
            let start = clock.now
            async let waiting: Bool = {
                while true {
                    if await gatherer.gathered(batch("intake")) { return true }
                    try await Task.sleep(for: .milliseconds(10))
                }
            }()
            try await Task.sleep(for: .milliseconds(200))
            #expect(await gatherer.gathered(batch("approval")))
            #expect(try await waiting)
            #expect(clock.now - start < .seconds(3), "not held for the 5 s window")
            #expect(applied.withLock { $0 } == [["intake", "approval"]])
            group.cancelAll()
        }
    }
}
