import Foundation
import GRPCCore
import Logging
import OneSealAuth
import OneSealOutbox
import OneSealProto
import OneSealServiceKit
import OneSealStore
import OneSealTestSupport
import OneSealWire
import Testing

/// Issue #15 item 11 over the real path: outbox → relay → OneSeal TCP (with a frame limit) →
/// EventSink. Before the fix a batch over the peer's frame limit was refused whole and retried
/// for ever; now batches are sized with the exact encoding, an event too large alone or refused
/// with INVALID_ARGUMENT is dead-lettered, and everything else arrives in order.
@Suite("Event delivery: frame limit and dead letters")
struct EventDeadLetterTests {
    /// Applies every event, except that it refuses aggregate "bad" as malformed.
    struct PickyConsumer: EventConsumer {
        func consume(_ event: Events_EventEnvelope, in transaction: PostgresConnection) async throws {
            if event.aggregateID == "bad" { throw RPCError(code: .invalidArgument, message: "payload: not a known message") }
            try await transaction.execute("INSERT INTO received (event_id, aggregate_id) VALUES (\(event.eventID), \(event.aggregateID))")
        }
    }

    @Test("large and refused events are dead-lettered over real RPC; the rest arrive in order in frame-sized batches")
    func frameLimitAndRefusalOverRealRPC() async throws {
        let key = TokenSigningKey.generate(issuer: "371302")
        var wire = WireConfiguration()
        wire.maximumFrameSize = 256 * 1024
        try await withTestDatabase(prefix: "dlsource") { source in
            try await withTestDatabase(prefix: "dlsink") { sink in
                try await OutboxMigrations.apply(on: source)
                try await OutboxMigrations.apply(on: sink)
                try await sink.execute("CREATE TABLE received (seq bigserial, event_id text, aggregate_id text)")
                let transport = OneSealServerTransport(host: "127.0.0.1", port: 0, configuration: wire)
                let server = GRPCServer(
                    transport: transport,
                    services: [EventSinkService(consumerName: "approval", database: sink, consumer: PickyConsumer())],
                    interceptors: [AuthServerInterceptor(verifier: TokenVerifier(trusting: [TrustedTokenKey(key.publicKey, node: "371302")]), policy: EventDelivery.sinkPolicy, localNode: "371302", serviceCertificates: .notRequired)]
                )
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await server.serve() }
                    let port = try await transport.listeningAddress.port!
                    try await withGRPCClient(transport: OneSealClientTransport(host: "127.0.0.1", port: port, configuration: wire)) { client in
                        let delivery = EventDelivery(
                            sourceService: "intake", sourceNode: "371302", clients: ["approval@371302": client],
                            token: { try key.mint(subject: "intake@371302", role: .peerNode, node: "371302") }
                        )
                        // 16 × 60 kB (about 1 MB, four frames' worth), a 300 kB event (over one
                        // frame), and one the consumer refuses.
                        var events = (0..<16).map { index in
                            OutboxEvent(destination: "approval@371302", type: "intake.v1.ApplicationAccepted", aggregateID: "case-\(index)",
                                        payload: Array(repeating: UInt8(index), count: 60_000))
                        }
                        events.insert(OutboxEvent(destination: "approval@371302", type: "intake.v1.ApplicationAccepted", aggregateID: "huge",
                                                  payload: Array(repeating: 7, count: 300_000)), at: 3)
                        events.insert(OutboxEvent(destination: "approval@371302", type: "intake.v1.ApplicationAccepted", aggregateID: "bad",
                                                  payload: [1]), at: 9)
                        for event in events {
                            try await source.withTransaction { try await Outbox.enqueue([event], in: $0) }
                        }
                        var configuration = OutboxRelay.Configuration(batchSize: 100)
                        configuration.maximumBatchBytes = OutboxRelay.batchLimit(forFrameSize: wire.maximumFrameSize)
                        configuration.encodedSize = { delivery.encodedSize(of: $0) }
                        let relay = OutboxRelay(client: source, configuration: configuration) { destination, batch in
                            try await delivery.deliver(to: destination, batch)
                        }
                        var rounds = 0
                        while try await Outbox.lag(on: source).pendingCount > 0, rounds < 50 {
                            try await relay.relayOnce()
                            rounds += 1
                        }
                        #expect(try await Outbox.lag(on: source).pendingCount == 0, "nothing is stuck behind the large or refused event")
                        let rows = try await sink.query("SELECT aggregate_id FROM received ORDER BY seq")
                        #expect(try rows.map { try $0.decode("aggregate_id", as: String.self) } == (0..<16).map { "case-\($0)" })
                        let letters = try await DeadLetters.list(on: source)
                        #expect(letters.map(\.aggregateID) == ["huge", "bad"])
                        #expect(letters.first?.reason.hasPrefix("too large") == true)
                        #expect(letters.last?.reason.contains("invalidArgument") == true || letters.last?.reason.contains("INVALID_ARGUMENT") == true)
                        #expect(EventDelivery.refusalRule(for: .invalidArgument) == .permanent)
                        #expect(EventDelivery.refusalRule(for: .failedPrecondition) == .counted)
                        #expect(EventDelivery.refusalRule(for: .unavailable) == nil)
                        #expect(EventDelivery.refusalRule(for: .permissionDenied) == nil)
                    }
                    server.beginGracefulShutdown()
                    try await group.waitForAll()
                }
            }
        }
    }

    /// Item 8: delivered rows carry personal data; the node purges them minutes after delivery
    /// (ONESEAL_OUTBOX_KEEP_DELIVERED_SECONDS), not a week.
    @Test("the maintenance job purges delivered rows after the configured time, and the setting is read from the environment")
    func maintenancePurgesDeliveredRowsAfterTheConfiguredTime() async throws {
        // Decision 75: by default the delivering pass deletes the row; a setting above zero keeps it.
        #expect(try NodeConfiguration.fromEnvironment(service: "intake", environment: ["ONESEAL_INSECURE_LOOPBACK": "1"]).outboxKeepDelivered == .zero)
        #expect(try NodeConfiguration.fromEnvironment(service: "intake", environment: ["ONESEAL_INSECURE_LOOPBACK": "1", "ONESEAL_OUTBOX_KEEP_DELIVERED_SECONDS": "30"]).outboxKeepDelivered == .seconds(30))
        #expect(throws: NodeConfiguration.Invalid.self) {
            try NodeConfiguration.fromEnvironment(service: "intake", environment: ["ONESEAL_INSECURE_LOOPBACK": "1", "ONESEAL_OUTBOX_KEEP_DELIVERED_SECONDS": "a week"])
        }
        try await withTestDatabase(prefix: "dlpurge") { database in
            try await OutboxMigrations.apply(on: database)
            let events = (0..<4).map { OutboxEvent(destination: $0 < 3 ? "up@1" : "down@1", type: "t", aggregateID: "\($0)", payload: [1]) }
            try await database.withTransaction { try await Outbox.enqueue(events, in: $0) }
            let relay = OutboxRelay(client: database) { destination, _ in
                if destination == "down@1" { throw RPCError(code: .unavailable, message: "down") }
            }
            for _ in 0..<6 { try await relay.relayOnce() }
            let delivered: SQLQuery = "SELECT count(*) AS n FROM outbox WHERE delivered_at IS NOT NULL"
            #expect(try await database.query(delivered).one().decode("n", as: Int.self) == 3)
            let maintenance = OutboxMaintenance(
                database: database, interval: .milliseconds(100), purgeEvery: .milliseconds(100), keepDelivered: .seconds(60),
                logger: Logger(label: "test"))
            let running = Task { try await maintenance.run() }
            // Several purge passes while the rows are younger than the setting: all kept. (Ages
            // are moved in the database, not waited for, so a loaded machine cannot make it flaky.)
            try await Task.sleep(for: .milliseconds(800))
            #expect(try await database.query(delivered).one().decode("n", as: Int.self) == 3, "kept for the configured time")
            try await database.execute("UPDATE outbox SET delivered_at = delivered_at - interval '61 seconds' WHERE delivered_at IS NOT NULL")
            var left = 3
            for _ in 0..<100 where left > 0 {
                try await Task.sleep(for: .milliseconds(100))
                left = try await database.query(delivered).one().decode("n", as: Int.self)
            }
            running.cancel()
            _ = await running.result
            #expect(left == 0, "purged once older than the configured time")
            #expect(try await Outbox.lag(on: database).pendingCount == 1, "the undelivered row stays")
        }
    }

    /// The operator's view: `oneseal outbox dead-letters` lists a dead letter without its payload,
    /// `replay` puts it back in the outbox, an unknown id is a usage error (exit 64).
    @Test("oneseal outbox dead-letters lists, replay moves back, discard deletes")
    func cliListsAndReplaysDeadLetters() async throws {
        try await withTestDatabase(prefix: "dlcli") { client, database in
            try await OutboxMigrations.apply(on: client)
            let big = OutboxEvent(destination: "approval@371302", type: "intake.v1.ApplicationSubmitted", aggregateID: "A-1",
                                  payload: Array(repeating: 0x41, count: 5_000_000))
            let small = OutboxEvent(destination: "approval@371302", type: "intake.v1.ApplicationSubmitted", aggregateID: "A-2", payload: [2])
            try await client.withTransaction { try await Outbox.enqueue([big, small], in: $0) }
            let relay = OutboxRelay(client: client) { _, _ in }
            while try await relay.relayOnce() > 0 {}
            let target = ["--service", "intake", "--node", "371302", "--database", database.conninfo]

            let listed = try await CLIResult.run(["outbox", "dead-letters", "--json"] + target)
            #expect(listed.status == 0, "\(listed)")
            let rows = try listed.array()
            #expect(rows.count == 1)
            #expect(rows.first?["event_id"] as? String == big.id.uuidString)
            #expect(rows.first?["destination"] as? String == "approval@371302")
            #expect(rows.first?["type"] as? String == "intake.v1.ApplicationSubmitted")
            #expect((rows.first?["size"] as? Int ?? 0) > 5_000_000)
            #expect((rows.first?["reason"] as? String)?.hasPrefix("too large") == true)
            #expect(rows.first?["first_failed_at"] is String)
            #expect(rows.first?["payload"] == nil, "no payloads on the operator's screen")
            let id = try #require(rows.first?["id"] as? Int)
            let text = try await CLIResult.run(["outbox", "dead-letters"] + target)
            #expect(text.status == 0 && text.stdout.contains("\(id)  intake.v1.ApplicationSubmitted  → approval@371302"), "\(text)")

            let unknown = try await CLIResult.run(["outbox", "replay", "--id", "\(id + 1000)"] + target)
            #expect(unknown.status == 64 && unknown.stderr.contains("no dead letter"), "\(unknown)")
            let replayed = try await CLIResult.run(["outbox", "replay", "--id", "\(id)"] + target)
            #expect(replayed.status == 0, "\(replayed)")
            #expect(try await DeadLetters.count(on: client) == 0)
            #expect(try await Outbox.lag(on: client).pendingCount == 1, "back in the outbox")
            while try await relay.relayOnce() > 0 {}  // still too large: dead again
            let discarded = try await CLIResult.run(["outbox", "discard", "--id", "\(id)"] + target)
            #expect(discarded.status == 0, "\(discarded)")
            #expect(try await DeadLetters.count(on: client) == 0)
        }
    }

    /// The operator's RPC: `oneseal.events.v1.OutboxAdmin` served with the real auth interceptor,
    /// called by the CLI binary over OneSeal TCP with a token minted from the node's key. Only an
    /// operator of this node may list, replay or discard.
    @Test("OutboxAdmin over RPC: operator lists (paged), replays and discards; other roles and nodes are refused")
    func outboxAdminOverRPC() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("oneseal-outbox-admin-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let key = TokenSigningKey.generate(issuer: "371302")
        let keyFile = directory.appendingPathComponent("node.key").path
        _ = FileManager.default.createFile(atPath: keyFile, contents: Data((key.base64 + "\n").utf8), attributes: [.posixPermissions: 0o600])
        try await withTestDatabase(prefix: "dladmin") { database in
            try await OutboxMigrations.apply(on: database)
            let events = (0..<3).map { index in
                OutboxEvent(destination: "approval@371302", type: "intake.v1.ApplicationSubmitted", aggregateID: "A-\(index)",
                            payload: Array(repeating: 0x41, count: 300_000))
            }
            try await database.withTransaction { try await Outbox.enqueue(events, in: $0) }
            let relay = OutboxRelay(client: database, configuration: .init(maximumBatchBytes: 100_000)) { _, _ in }
            while try await relay.relayOnce() > 0 {}
            #expect(try await DeadLetters.count(on: database) == 3)

            let transport = OneSealServerTransport(host: "127.0.0.1", port: 0)
            let server = GRPCServer(
                transport: transport, services: [OutboxAdminService(database: database)],
                interceptors: [AuthServerInterceptor(
                    verifier: TokenVerifier(trusting: [TrustedTokenKey(key.publicKey, node: "371302"), TrustedTokenKey(key.publicKey, node: "371300")]),
                    policy: OutboxAdminService.policy, localNode: "371302", serviceCertificates: .notRequired)])
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await server.serve() }
                let port = try await transport.listeningAddress.port!
                let target = ["--service", "intake", "--node", "371302", "--address", "127.0.0.1:\(port)", "--key", keyFile, "--timeout", "60"]

                try await withGRPCClient(transport: OneSealClientTransport(host: "127.0.0.1", port: port)) { client in
                    let admin = Events_OutboxAdmin.Client(wrapping: client)
                    func metadata(_ role: Role, node: String = "371302") throws -> Metadata {
                        var metadata = Metadata()
                        metadata.addString("Bearer \(try key.mint(subject: "ops-7", role: role, node: node))", forKey: "authorization")
                        return metadata
                    }
                    var request = Events_ListDeadLettersRequest()
                    request.page.pageSize = 2
                    let first = try await admin.listDeadLetters(request, metadata: try metadata(.operator))
                    #expect(first.deadLetters.map(\.aggregateID) == ["A-0", "A-1"])
                    #expect(first.page.totalSize == 3 && !first.page.nextPageToken.isEmpty)
                    request.page.pageToken = first.page.nextPageToken
                    let second = try await admin.listDeadLetters(request, metadata: try metadata(.operator))
                    #expect(second.deadLetters.map(\.aggregateID) == ["A-2"] && second.page.nextPageToken.isEmpty)
                    #expect(first.deadLetters.first?.reason.hasPrefix("too large") == true)
                    await #expect { _ = try await admin.listDeadLetters(.init(), metadata: try metadata(.officer)) } throws: {
                        ($0 as? RPCError)?.code == .permissionDenied
                    }
                    // Another node's operator (its token accepted, the node scope refuses it).
                    await #expect { _ = try await admin.listDeadLetters(.init(), metadata: try metadata(.operator, node: "371300")) } throws: {
                        ($0 as? RPCError)?.code == .permissionDenied
                    }
                    await #expect { _ = try await admin.listDeadLetters(.init(), metadata: Metadata()) } throws: {
                        ($0 as? RPCError)?.code == .unauthenticated
                    }
                    await #expect { _ = try await admin.replayDeadLetter(.with { $0.id = 999_999 }, metadata: try metadata(.operator)) } throws: {
                        ($0 as? RPCError)?.code == .notFound
                    }
                }

                let listed = try await runBesideServer(["outbox", "dead-letters", "--json"] + target)
                #expect(listed.status == 0, "\(listed)")
                let rows = try listed.array()
                #expect(rows.map { $0["aggregate_id"] as? String } == ["A-0", "A-1", "A-2"])
                #expect(rows.allSatisfy { $0["payload"] == nil })
                let id = try #require(rows.first?["id"] as? Int)
                let replayed = try await runBesideServer(["outbox", "replay", "--id", "\(id)", "--json"] + target)
                #expect(replayed.status == 0, "\(replayed)")
                let replayedEvent = try replayed.object()["event_id"] as? String
                #expect(replayedEvent == events[0].id.uuidString)
                #expect(try await Outbox.lag(on: database).pendingCount == 1)
                let discarded = try await runBesideServer(["outbox", "discard", "--id", "\(id + 1)"] + target)
                #expect(discarded.status == 0, "\(discarded)")
                let missing = try await runBesideServer(["outbox", "discard", "--id", "\(id + 1)"] + target)
                #expect(missing.status == 2 && missing.stderr.contains("no dead letter"), "\(missing)")
                let officer = try await runBesideServer(["outbox", "dead-letters", "--role", "officer"] + target)
                #expect(officer.status == 2, "\(officer)")
                #expect(try await DeadLetters.list(on: database).map(\.aggregateID) == ["A-2"])

                server.beginGracefulShutdown()
                try await group.waitForAll()
            }
        }
    }
}

/// Runs the `oneseal` binary while this process serves its calls: the pipes are read and the exit
/// awaited on Dispatch threads, not on the cooperative pool (`CLIResult.run` blocks two of its
/// threads, which on a 2-core machine leaves none for the in-process server the CLI is calling).
func runBesideServer(_ arguments: [String]) async throws -> CLIResult {
    /// The child and what it wrote, handed between Dispatch threads (one writer per field, read
    /// after `group.wait()`).
    final class Run: @unchecked Sendable {
        let process = Process()
        let out = Pipe()
        let err = Pipe()
        var outData = Data()
        var errData = Data()
    }
    let run = Run()
    run.process.executableURL = ServiceProcess.buildDirectory.appendingPathComponent("oneseal")
    run.process.arguments = arguments
    run.process.environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin", "ONESEAL_INSECURE_LOOPBACK": "1"]
    run.process.standardOutput = run.out
    run.process.standardError = run.err
    try run.process.run()
    return await withCheckedContinuation { continuation in
        DispatchQueue.global().async {
            let group = DispatchGroup()
            group.enter()
            DispatchQueue.global().async {
                run.outData = run.out.fileHandleForReading.readDataToEndOfFile()
                group.leave()
            }
            run.errData = run.err.fileHandleForReading.readDataToEndOfFile()
            group.wait()
            run.process.waitUntilExit()
            continuation.resume(returning: CLIResult(
                status: run.process.terminationStatus, stdout: String(decoding: run.outData, as: UTF8.self),
                stderr: String(decoding: run.errData, as: UTF8.self)))
        }
    }
}
