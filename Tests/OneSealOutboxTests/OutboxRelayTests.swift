import Foundation
import OneSealOutbox
import OneSealStore
import OneSealTestSupport
import Synchronization
import Testing

@Suite("Outbox relay")
struct OutboxRelayTests {
    static let fast = OutboxRelay.Configuration(
        batchSize: 7, pollInterval: .milliseconds(200), initialBackoff: .milliseconds(5), maxBackoff: .milliseconds(50), concurrency: 2)

    @Test func enqueueIsTransactionalAndLagIsReported() async throws {
        try await withTestDatabase(prefix: "obx") { client in
            try await prepareSchema(client)
            await #expect(throws: DeliveryFailed.self) {
                try await client.withTransaction { tx in
                    try await Outbox.enqueue(makeEvents(destinations: ["x@1"], perDestination: 2), in: tx)
                    throw DeliveryFailed()
                }
            }
            #expect(try await Outbox.lag(on: client).pendingCount == 0)
            try await enqueue(makeEvents(destinations: ["x@1"], perDestination: 3), on: client)
            let lag = try await Outbox.lag(on: client)
            #expect(lag.pendingCount == 3)
            #expect(lag.oldestPendingAge >= 0)
        }
    }

    @Test func relayDeliversEverythingInPerDestinationOrder() async throws {
        try await withTestDatabase(prefix: "obxorder") { client in
            try await prepareSchema(client)
            let destinations = ["supervision@371300", "evaluation@371300", "intake@371302"]
            let log = DeliveryLog()
            let relay = OutboxRelay(client: client, configuration: Self.fast, logger: quietLogger) { _, events in await log.record(events) }
            let running = Task { try await relay.run() }
            // Enqueue while the relay runs, so NOTIFY wake-ups and polling both matter.
            let events = makeEvents(destinations: destinations, perDestination: 40)
            try await enqueue(events, on: client, chunk: 4)
            let done = await log.waitUntilDistinct(events.count)
            // The last batch is marked delivered in the transaction that ran the delivery: wait for
            // its commit before stopping the relay (stopping it earlier would roll that back, and
            // the batch would rightly be delivered again later).
            var pending = -1
            for _ in 0..<600 {
                pending = try await Outbox.lag(on: client).pendingCount
                if pending == 0 { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            running.cancel()
            _ = await running.result
            #expect(done)
            #expect(pending == 0)
            #expect(await log.deliveries.count == events.count)
            #expect(await log.firstDeliveryOrder() == expectedOrder(destinations, perDestination: 40))
            let delivered = try await log.deliveries
            let original = Dictionary(uniqueKeysWithValues: events.map { ($0.id, $0) })
            let asWritten = delivered.map { event -> OutboxEvent in
                var event = event
                event.occurredAt = nil
                event.sequence = nil
                return event
            }
            #expect(asWritten.allSatisfy { original[$0.id] == $0 }, "payload, type and traceparent survive the round trip")
            // The relay tells when each event was written and where it stands in the outbox.
            #expect(delivered.allSatisfy { $0.occurredAt.map { abs($0.timeIntervalSinceNow) < 3600 } ?? false })
            for destination in destinations {
                let sequences = delivered.filter { $0.destination == destination }.compactMap(\.sequence)
                #expect(sequences.count == 40 && sequences == sequences.sorted() && Set(sequences).count == 40)
            }
        }
    }

    @Test("an event passed on keeps the time it first happened; a new one gets its transaction's time")
    func occurredAtSurvivesPassingOn() async throws {
        try await withTestDatabase(prefix: "obxtime") { client in
            try await prepareSchema(client)
            let monthEnd = Date(timeIntervalSince1970: 1_793_462_399)  // 2026-10-31 23:59:59 +08:00
            let passedOn = OutboxEvent(destination: "evaluation@371300", type: "t", aggregateID: "a", payload: [1], occurredAt: monthEnd)
            let fresh = OutboxEvent(destination: "evaluation@371300", type: "t", aggregateID: "a", payload: [2])
            try await enqueue([passedOn, fresh], on: client)
            let log = DeliveryLog()
            let relay = OutboxRelay(client: client, configuration: Self.fast, logger: quietLogger) { _, events in await log.record(events) }
            let running = Task { try await relay.run() }
            let done = await log.waitUntilDistinct(2)
            running.cancel()
            _ = await running.result
            #expect(done)
            let byID = Dictionary(try await log.deliveries.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
            #expect(byID[passedOn.id]?.occurredAt == monthEnd)
            let written = try #require(byID[fresh.id]?.occurredAt)
            #expect(abs(written.timeIntervalSinceNow) < 3600)
        }
    }

    @Test func twoRelaysDeliverEachEventOnce() async throws {
        try await withTestDatabase(prefix: "obxtwo") { client, database in
            try await prepareSchema(client)
            let destinations = (1...6).map { "dest\($0)@371300" }
            let events = makeEvents(destinations: destinations, perDestination: 30)
            try await enqueue(events, on: client, chunk: 9)
            let log = DeliveryLog()
            let clients = [database.makeClient(maxConnections: 4), database.makeClient(maxConnections: 4)]
            let relays = clients.map { own in
                OutboxRelay(client: own, configuration: Self.fast, logger: quietLogger) { _, batch in
                    await log.record(batch)
                    await Task.yield()
                }
            }
            let running = relays.map { relay in Task { try await relay.run() } }
            let done = await log.waitUntilDistinct(events.count)
            // The last batch is recorded before its relay commits "delivered": stopping the relays
            // then would roll it back, and a relay that claims it next would rightly send it again
            // (at-least-once). Stop them only once every row is marked delivered.
            let drained = await waitForDrain(client)
            for task in running { task.cancel() }
            for task in running { _ = await task.result }
            for own in clients { await own.shutdown() }
            #expect(done)
            #expect(drained)
            #expect(await log.deliveries.count == events.count, "no event may be delivered twice")
            #expect(await log.firstDeliveryOrder() == expectedOrder(destinations, perDestination: 30))
        }
    }

    @Test("a destination a NOTIFY names is claimed by name: only its rows, and whether more are left")
    func relayOnceByDestination() async throws {
        try await withTestDatabase(prefix: "obxnamed") { client in
            try await prepareSchema(client)
            try await enqueue(makeEvents(destinations: ["a@1", "b@1"], perDestination: 10), on: client)
            let log = DeliveryLog()
            let relay = OutboxRelay(client: client, configuration: Self.fast, logger: quietLogger) { _, events in await log.record(events) }
            let first = try await relay.relayOnce(destination: "a@1")  // a page of 7 of its 10
            #expect(first.handled == 7 && first.more)
            let second = try await relay.relayOnce(destination: "a@1")
            #expect(second.handled == 3 && !second.more)
            let drained = try await relay.relayOnce(destination: "a@1")
            #expect(drained.handled == 0 && !drained.more)
            let unknown = try await relay.relayOnce(destination: "nobody@1")
            #expect(unknown.handled == 0 && !unknown.more)
            #expect(await log.deliveries.map(\.destination) == Array(repeating: "a@1", count: 10))
            #expect(await log.firstDeliveryOrder() == expectedOrder(["a@1"], perDestination: 10))
        }
    }

    /// The poll is an hour away: only the NOTIFYs' names can bring these events, several
    /// destinations per transaction and a destination written by many transactions.
    @Test func notifiedDestinationsAreDeliveredWithoutPolling() async throws {
        try await withTestDatabase(prefix: "obxnotify") { client in
            try await prepareSchema(client)
            var configuration = Self.fast
            configuration.pollInterval = .seconds(3600)
            let log = DeliveryLog()
            let relay = OutboxRelay(client: client, configuration: configuration, logger: quietLogger) { _, events in await log.record(events) }
            let destinations = ["x@1", "y@1", "z@1"]
            let events = makeEvents(destinations: destinations, perDestination: 30)
            #expect(try await relayWhileListening(relay, log: log, client: client, events, chunk: 4))
            #expect(await log.deliveries.count == 1 + events.count)
            var order = await log.firstDeliveryOrder()
            order["early@1"] = nil
            #expect(order == expectedOrder(destinations, perDestination: 30))
        }
    }

    /// A paced destination (the evaluation feed): of what five transactions write within its
    /// pace, the first goes at once and the rest wait and go as one batch, in order, while an
    /// unpaced destination written by the same transactions is not held back.
    @Test func pacedDestinationGathersOneBatch() async throws {
        try await withTestDatabase(prefix: "obxpace") { client in
            try await prepareSchema(client)
            var configuration = Self.fast
            configuration.pollInterval = .seconds(3600)
            configuration.pace = OutboxRelay.pacing(["paced": .seconds(3)])
            let log = DeliveryLog()
            let batches = Mutex<[String: [Int]]>([:])
            let relay = OutboxRelay(client: client, configuration: configuration, logger: quietLogger) { destination, events in
                batches.withLock { $0[destination, default: []].append(events.count) }
                await log.record(events)
            }
            // Five transactions, each writing one event to each destination.
            let events = makeEvents(destinations: ["paced@1", "plain@1"], perDestination: 5)
            #expect(try await relayWhileListening(relay, log: log, client: client, events, chunk: 2))
            let sizes = batches.withLock { $0 }
            // At once: the first transaction's event (with any written before its pass read);
            // within the pace nothing more; then the rest together. (Unpaced, five transactions
            // a few milliseconds apart go as three to five batches.)
            #expect((1...2).contains(sizes["paced@1", default: []].count))
            #expect(sizes["paced@1", default: []].reduce(0, +) == 5)
            #expect(sizes["plain@1", default: []].reduce(0, +) == 5)
            var order = await log.firstDeliveryOrder()
            order["early@1"] = nil
            #expect(order == expectedOrder(["paced@1", "plain@1"], perDestination: 5))
        }
    }

    /// The delivery closure applies the effect at the consumer and then "loses the ack" (throws)
    /// for some batches: the relay redelivers, and the inbox keeps the effect exactly once.
    @Test func failedAcksAreRedeliveredAndTheInboxMakesTheEffectExactlyOnce() async throws {
        try await withTestDatabase(prefix: "obxfail") { client in
            try await prepareSchema(client)
            let destinations = ["a@1", "b@1", "c@1"]
            let events = makeEvents(destinations: destinations, perDestination: 25)
            try await enqueue(events, on: client)
            let log = DeliveryLog()
            let calls = Counter()
            let relay = OutboxRelay(client: client, configuration: Self.fast, logger: quietLogger) { _, batch in
                let call = calls.increment()
                if call % 4 == 1 { throw DeliveryFailed() }  // RPC failed before the consumer saw it
                try await applyEffects(batch, consumer: "supervision", on: client)
                await log.record(batch)
                if call % 3 == 0 { throw DeliveryFailed() }  // consumer committed, ack lost
            }
            let running = Task { try await relay.run() }
            let drained = await waitForDrain(client)
            running.cancel()
            _ = await running.result
            #expect(drained)
            #expect(await log.deliveries.count > events.count, "some batches must have been delivered twice")
            let effects = try await client.query("SELECT count(*) AS n, count(DISTINCT event_id) AS d FROM effects").one()
            #expect(try effects.decode("n", as: Int.self) == events.count)
            #expect(try effects.decode("d", as: Int.self) == events.count)
            // Effects happened in per-destination order.
            let rows = try await client.query("SELECT destination, aggregate_id FROM effects ORDER BY n")
            var order: [String: [String]] = [:]
            for row in rows { order[try row.decode("destination"), default: []].append(try row.decode("aggregate_id")) }
            #expect(order == expectedOrder(destinations, perDestination: 25))
            let attempts = try await client.query("SELECT max(attempts) AS m FROM outbox").one()
            #expect(try attempts.decode("m", as: Int.self) >= 2)
        }
    }

    /// The relay task is cancelled after the consumer applied a batch but before the relay
    /// committed "delivered": a new relay redelivers that batch and the inbox absorbs it.
    @Test func relayCancelledBeforeCommitRedeliversAndEffectStaysExactlyOnce() async throws {
        try await withTestDatabase(prefix: "obxkill") { client in
            try await prepareSchema(client)
            let destinations = ["x@1", "y@1"]
            let events = makeEvents(destinations: destinations, perDestination: 20)
            try await enqueue(events, on: client)
            let log = DeliveryLog()
            let calls = Counter()
            let (stuck, stuckContinuation) = AsyncStream.makeStream(of: Void.self)
            let first = OutboxRelay(client: client, configuration: Self.fast, logger: quietLogger) { _, batch in
                try await applyEffects(batch, consumer: "evaluation", on: client)
                await log.record(batch)
                if calls.increment() == 3 {
                    stuckContinuation.yield()
                    try await Task.sleep(for: .seconds(3600))  // "dies" here: cancelled before commit
                }
            }
            let running = Task { try await first.run() }
            var iterator = stuck.makeAsyncIterator()
            await iterator.next()
            running.cancel()
            _ = await running.result
            let lagAfterKill = try await Outbox.lag(on: client).pendingCount
            #expect(lagAfterKill > 0)

            let second = OutboxRelay(client: client, configuration: Self.fast, logger: quietLogger) { _, batch in
                try await applyEffects(batch, consumer: "evaluation", on: client)
                await log.record(batch)
            }
            let resumed = Task { try await second.run() }
            let drained = await waitForDrain(client)
            resumed.cancel()
            _ = await resumed.result
            #expect(drained)
            #expect(await log.deliveries.count > events.count, "the interrupted batch must have been delivered again")
            let effects = try await client.query("SELECT count(*) AS n, count(DISTINCT event_id) AS d FROM effects").one()
            #expect(try effects.decode("n", as: Int.self) == events.count)
            #expect(try effects.decode("d", as: Int.self) == events.count)
        }
    }

    /// A failing head blocks later rows of its own destination only.
    @Test func failingDestinationDoesNotBlockOthers() async throws {
        try await withTestDatabase(prefix: "obxblock") { client in
            try await prepareSchema(client)
            let events = makeEvents(destinations: ["down@1", "up@1"], perDestination: 10)
            try await enqueue(events, on: client)
            let log = DeliveryLog()
            let downIsUp = Flag()
            let relay = OutboxRelay(client: client, configuration: Self.fast, logger: quietLogger) { destination, batch in
                if destination == "down@1" && !downIsUp.isSet { throw DeliveryFailed() }
                await log.record(batch)
            }
            let running = Task { try await relay.run() }
            let upDone = await log.waitUntilDistinct(10)
            #expect(upDone)
            #expect(await log.deliveries.allSatisfy { $0.destination == "up@1" })
            let failedHead = try await client.query(
                "SELECT aggregate_id, last_error FROM outbox WHERE destination = 'down@1' AND attempts > 0 ORDER BY seq")
            #expect(failedHead.count <= 1, "only the head of the failing destination is attempted")
            downIsUp.set()
            let allDone = await log.waitUntilDistinct(events.count)
            running.cancel()
            _ = await running.result
            #expect(allDone)
            #expect(await log.firstDeliveryOrder() == expectedOrder(["down@1", "up@1"], perDestination: 10))
        }
    }

    @Test func inboxReportsDuplicates() async throws {
        try await withTestDatabase(prefix: "inbox") { client in
            try await prepareSchema(client)
            let id = UUID()
            let first = try await client.withTransaction { try await Inbox.markProcessed(eventID: id, consumer: "c", in: $0) }
            let again = try await client.withTransaction { try await Inbox.markProcessed(eventID: id, consumer: "c", in: $0) }
            let otherConsumer = try await client.withTransaction { try await Inbox.markProcessed(eventID: id, consumer: "d", in: $0) }
            #expect(first)
            #expect(!again)
            #expect(otherConsumer)
            // Rolled back with the effect: the id is not recorded.
            let rolledBack = UUID()
            _ = try? await client.withTransaction { tx in
                _ = try await Inbox.markProcessed(eventID: rolledBack, consumer: "c", in: tx)
                throw DeliveryFailed()
            }
            #expect(try await client.withTransaction { try await Inbox.markProcessed(eventID: rolledBack, consumer: "c", in: $0) })
        }
    }

    @Test("a batch's receipts in one statement: the ids new to the consumer, each once; rolled back with the effects")
    func inboxMarksABatchInOneStatement() async throws {
        try await withTestDatabase(prefix: "inboxbatch") { client in
            try await prepareSchema(client)
            let seen = UUID()
            _ = try await client.withTransaction { try await Inbox.markProcessed(eventID: seen, consumer: "c", in: $0) }
            let (a, b) = (UUID(), UUID())
            let fresh = try await client.withTransaction { try await Inbox.markProcessed(eventIDs: [a, seen, b, a], consumer: "c", in: $0) }
            #expect(fresh == [a, b])
            #expect(try await client.withTransaction { try await Inbox.markProcessed(eventIDs: [a, b, seen], consumer: "c", in: $0) }.isEmpty)
            #expect(try await client.withTransaction { try await Inbox.markProcessed(eventIDs: [a], consumer: "d", in: $0) } == [a])
            #expect(try await client.withTransaction { try await Inbox.markProcessed(eventIDs: [], consumer: "c", in: $0) }.isEmpty)
            let rolledBack = UUID()
            _ = try? await client.withTransaction { tx in
                _ = try await Inbox.markProcessed(eventIDs: [rolledBack], consumer: "c", in: tx)
                throw DeliveryFailed()
            }
            #expect(try await client.withTransaction { try await Inbox.markProcessed(eventIDs: [rolledBack], consumer: "c", in: $0) } == [rolledBack])
        }
    }
}

/// Waits (bounded; checks the database, not the clock) until the outbox has no undelivered rows.
/// Runs `relay` until it listens (an `early@1` event, found by its catch-up scan, has arrived:
/// what follows comes by name), enqueues `events` in transactions of `chunk`, and stops it once
/// they all arrived and the outbox is drained. True when each of those happened in time.
func relayWhileListening(_ relay: OutboxRelay, log: DeliveryLog, client: PostgresClient, _ events: [OutboxEvent], chunk: Int) async throws -> Bool {
    let running = Task { try await relay.run() }
    try await enqueue(makeEvents(destinations: ["early@1"], perDestination: 1), on: client)
    let listening = await log.waitUntilDistinct(1, limit: .seconds(60))
    try await enqueue(events, on: client, chunk: chunk)
    let done = await log.waitUntilDistinct(1 + events.count, limit: .seconds(60))
    let drained = await waitForDrain(client)
    running.cancel()
    _ = await running.result
    return listening && done && drained
}

func waitForDrain(_ client: PostgresClient, checks: Int = 900) async -> Bool {
    for _ in 0..<checks {
        if let lag = try? await Outbox.lag(on: client), lag.pendingCount == 0 { return true }
        try? await Task.sleep(for: .milliseconds(100))
    }
    return false
}

final class Counter: Sendable {
    private let value = Mutex(0)
    func increment() -> Int { value.withLock { $0 += 1; return $0 } }
}

final class Flag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .acquiring) }
    func set() { value.store(true, ordering: .releasing) }
}
