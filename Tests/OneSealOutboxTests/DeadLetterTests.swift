import Foundation
import OneSealOutbox
import OneSealStore
import OneSealTestSupport
import Synchronization
import Testing

/// Issue #15 item 11: an event that can never be delivered must not jam its destination. A batch
/// stays under the peer's frame limit; an event too large alone, or refused by the consumer, is
/// set aside in `outbox_dead_letters` and the events behind it go on; an operator can replay it.
@Suite("Outbox dead letters and batch size")
struct DeadLetterTests {
    /// A peer whose frames hold 64 KiB, as the relay is told (ONESEAL_MAX_FRAME_BYTES works the same).
    static let frame = 64 * 1024

    static func configuration(maximumRefusals: Int = 10, batchSize: Int = 7) -> OutboxRelay.Configuration {
        OutboxRelay.Configuration(
            batchSize: batchSize, pollInterval: .milliseconds(200), initialBackoff: .milliseconds(5), maxBackoff: .milliseconds(50),
            concurrency: 2, maximumBatchBytes: OutboxRelay.batchLimit(forFrameSize: frame), maximumRefusals: maximumRefusals)
    }

    /// What the real peer does with a request over its frame limit: refuses all of it
    /// (RESOURCE_EXHAUSTED and a GoAway) — an error that says nothing about any one event.
    static func refuseOverFrame(_ batch: [OutboxEvent]) throws {
        if batch.map(OutboxRelay.estimatedSize(of:)).reduce(0, +) > frame { throw DeliveryFailed() }
    }

    static func event(_ destination: String, _ aggregateID: String, bytes: Int = 16) -> OutboxEvent {
        OutboxEvent(destination: destination, type: "case.accepted", aggregateID: aggregateID, payload: Array(repeating: 0x61, count: bytes))
    }

    /// Fails on the relay before #15: the 1 MB event's batch was refused whole and retried for
    /// ever, so nothing behind it reached the consumer.
    @Test("one oversized event does not block the events behind it: they are delivered, it is dead-lettered")
    func oversizedEventIsDeadLetteredAndLaterEventsAreDelivered() async throws {
        try await withTestDatabase(prefix: "obxbig") { client in
            try await prepareSchema(client)
            var events = (0..<10).map { Self.event("approval@371302", String($0)) }
            events[2] = Self.event("approval@371302", "2", bytes: 1_000_000)
            try await enqueue(events, on: client, chunk: 1)
            let log = DeliveryLog()
            let relay = OutboxRelay(client: client, configuration: Self.configuration(), logger: quietLogger) { _, batch in
                try Self.refuseOverFrame(batch)
                await log.record(batch)
            }
            let running = Task { try await relay.run() }
            let drained = await waitForDrain(client)
            running.cancel()
            _ = await running.result
            #expect(drained, "the queue behind the large event must drain")
            #expect(await log.firstDeliveryOrder() == ["approval@371302": ["0", "1", "3", "4", "5", "6", "7", "8", "9"]])
            let letters = try await DeadLetters.list(on: client)
            #expect(letters.map(\.eventID) == [events[2].id])
            #expect(letters.first?.reason.hasPrefix("too large") == true)
            #expect((letters.first?.size ?? 0) > 1_000_000)
            #expect(letters.first?.destination == "approval@371302")
            #expect(try await DeadLetters.count(on: client) == 1)
        }
    }

    @Test("many medium events totalling more than a frame go out in several batches, each under the limit, in order")
    func mediumEventsAreSplitIntoBatchesUnderTheFrameLimit() async throws {
        try await withTestDatabase(prefix: "obxsplit") { client in
            try await prepareSchema(client)
            let events = (0..<40).map { Self.event("evaluation@371300", String($0), bytes: 10_000) }  // 400 kB in all
            try await enqueue(events, on: client, chunk: 8)
            let log = DeliveryLog()
            let batches = Mutex<[Int]>([])
            let relay = OutboxRelay(client: client, configuration: Self.configuration(batchSize: 100), logger: quietLogger) { _, batch in
                try Self.refuseOverFrame(batch)
                batches.withLock { $0.append(batch.map(OutboxRelay.estimatedSize(of:)).reduce(0, +)) }
                await log.record(batch)
            }
            let running = Task { try await relay.run() }
            let drained = await waitForDrain(client)
            running.cancel()
            _ = await running.result
            #expect(drained)
            let sizes = batches.withLock { $0 }
            #expect(sizes.count >= 7, "400 kB through 60 kB batches takes at least 7 calls")
            #expect(sizes.allSatisfy { $0 <= OutboxRelay.batchLimit(forFrameSize: Self.frame) })
            #expect(await log.firstDeliveryOrder() == expectedOrder(["evaluation@371300"], perDestination: 40))
            #expect(try await DeadLetters.count(on: client) == 0)
        }
    }

    /// A permanent refusal inside a batch: the relay finds the event by delivering one at a time,
    /// sets it aside at once, and delivers the rest in order. A counted refusal holds its
    /// destination (order kept) until the rule trips. An outage dead-letters nothing.
    @Test("a refused event goes to the dead letters by its rule; an outage never does")
    func refusedEventsAreDeadLetteredByTheirRule() async throws {
        try await withTestDatabase(prefix: "obxrefuse") { client in
            try await prepareSchema(client)
            let destinations = ["intake@371302", "supervision@371300", "down@371300"]
            let events = makeEvents(destinations: destinations, perDestination: 12)
            try await enqueue(events, on: client)
            let log = DeliveryLog()
            let refusedTimes = Counter()
            let relay = OutboxRelay(client: client, configuration: Self.configuration(maximumRefusals: 3), logger: quietLogger) { destination, batch in
                switch destination {
                case "intake@371302" where batch.contains { $0.aggregateID == "4" }:
                    throw DeliveryRefused(rule: .permanent, reason: "intake@371302 answered invalidArgument: bad envelope")
                case "supervision@371300" where batch.contains { $0.aggregateID == "6" }:
                    if batch.count == 1 { _ = refusedTimes.increment() }
                    throw DeliveryRefused(rule: .counted, reason: "supervision@371300 answered failedPrecondition: not yet")
                case "down@371300":
                    throw DeliveryFailed()
                default:
                    await log.record(batch)
                }
            }
            let running = Task { try await relay.run() }
            let delivered = await log.waitUntilDistinct(22)
            // The down destination keeps failing for a while longer, and must still dead-letter nothing.
            var downAttempts = 0
            for _ in 0..<300 where downAttempts < 8 {
                downAttempts = try await client.query("SELECT COALESCE(max(attempts), 0) AS n FROM outbox WHERE destination = 'down@371300'").one().decode("n")
                try await Task.sleep(for: .milliseconds(50))
            }
            running.cancel()
            _ = await running.result
            #expect(delivered)
            let expectedIDs = (0..<12).map(String.init)
            let order = await log.firstDeliveryOrder()
            #expect(order["intake@371302"] == expectedIDs.filter { $0 != "4" })
            #expect(order["supervision@371300"] == expectedIDs.filter { $0 != "6" })
            #expect(order["down@371300"] == nil)
            let refusals = refusedTimes.increment() - 1
            #expect(refusals == 3, "refused exactly maximumRefusals times, one at a time")
            let letters = try await DeadLetters.list(on: client)
            #expect(Set(letters.map(\.destination)) == ["intake@371302", "supervision@371300"])
            let permanent = try #require(letters.first { $0.destination == "intake@371302" })
            #expect(permanent.aggregateID == "4" && permanent.attempts == 1 && permanent.reason.contains("invalidArgument"))
            let counted = try #require(letters.first { $0.destination == "supervision@371300" })
            #expect(counted.aggregateID == "6" && counted.reason.hasPrefix("refused 3 times"))
            #expect(counted.firstFailedAt <= counted.deadAt)
            #expect(downAttempts >= 8)
            #expect(try await Outbox.lag(on: client).pendingCount == 12, "an outage keeps every event, in order")
        }
    }

    @Test("replay puts a dead letter back under its old place; it is delivered when the consumer accepts it")
    func replayDeliversTheDeadLetter() async throws {
        try await withTestDatabase(prefix: "obxreplay") { client in
            try await prepareSchema(client)
            let events = (0..<5).map { Self.event("certificate@371300", String($0)) }
            try await enqueue(events, on: client)
            let log = DeliveryLog()
            let fixed = Flag()
            let relay = OutboxRelay(client: client, configuration: Self.configuration(), logger: quietLogger) { _, batch in
                if !fixed.isSet, batch.contains(where: { $0.aggregateID == "1" }) {
                    throw DeliveryRefused(rule: .permanent, reason: "refused: unknown type")
                }
                try await applyEffects(batch, consumer: "certificate", on: client)
                await log.record(batch)
            }
            let running = Task { try await relay.run() }
            #expect(await log.waitUntilDistinct(4))
            #expect(await waitForDrain(client))
            let letter = try #require(try await DeadLetters.list(on: client).first)
            #expect(letter.eventID == events[1].id && letter.attempts == 1 && letter.type == "case.accepted")
            #expect(try await DeadLetters.replay(id: letter.id + 1_000_000, on: client) == nil, "no such dead letter")

            fixed.set()  // the consumer was fixed; the operator replays
            #expect(try await DeadLetters.replay(id: letter.id, on: client) == events[1].id)
            #expect(await log.waitUntilDistinct(5))
            #expect(await waitForDrain(client))
            running.cancel()
            _ = await running.result
            #expect(try await DeadLetters.count(on: client) == 0)
            let replayed = try #require(await log.deliveries.last)
            #expect(replayed.id == events[1].id, "same event id, so a consumer that applied it once skips it")
            #expect(replayed.sequence == letter.id, "its place in the source's outbox is kept")
            #expect(await log.firstDeliveryOrder() == ["certificate@371300": ["0", "2", "3", "4", "1"]])
            let effects = try await client.query("SELECT count(*) AS n FROM effects").one()
            #expect(try effects.decode("n", as: Int.self) == 5)
            #expect(try await DeadLetters.replay(id: letter.id, on: client) == nil, "replayed once only")
        }
    }

    @Test("discard deletes a dead letter for good")
    func discardDeletesTheDeadLetter() async throws {
        try await withTestDatabase(prefix: "obxdiscard") { client in
            try await prepareSchema(client)
            try await enqueue([Self.event("a@1", "0", bytes: 200_000)], on: client)
            let relay = OutboxRelay(client: client, configuration: Self.configuration(), logger: quietLogger) { _, _ in }
            #expect(try await relay.relayOnce() == 1)
            let letter = try #require(try await DeadLetters.list(on: client).first)
            #expect(try await DeadLetters.discard(id: letter.id, on: client) == letter.eventID)
            #expect(try await DeadLetters.count(on: client) == 0)
            #expect(try await DeadLetters.discard(id: letter.id, on: client) == nil)
        }
    }

    /// Decision 75: with nothing to keep, the pass that delivers an event deletes its row in the
    /// pass's transaction; a failing destination's rows and the dead letters stay, in order.
    @Test("not kept: the delivering pass deletes the rows it delivered, and only those")
    func deliveredRowsAreDeletedByTheDeliveringPass() async throws {
        try await withTestDatabase(prefix: "obxdelete") { client in
            try await prepareSchema(client)
            try await enqueue(makeEvents(destinations: ["up@1", "down@1"], perDestination: 3) + [Self.event("up@1", "big", bytes: 100_000)], on: client)
            var configuration = Self.configuration()
            configuration.keepsDelivered = false
            let delivered = Mutex<[String]>([])
            let relay = OutboxRelay(client: client, configuration: configuration, logger: quietLogger) { destination, events in
                if destination == "down@1" { throw DeliveryFailed() }
                delivered.withLock { $0 += events.map(\.aggregateID) }
            }
            for _ in 0..<20 { try await relay.relayOnce() }
            #expect(delivered.withLock { $0.count } == 3)
            let left = try await client.query("SELECT destination, delivered_at IS NULL AS pending FROM outbox ORDER BY seq").map {
                (try $0.decode("destination", as: String.self), try $0.decode("pending", as: Bool.self))
            }
            #expect(left.count == 3 && left.allSatisfy { $0.0 == "down@1" && $0.1 }, "only the undelivered rows are left")
            #expect(try await Outbox.lag(on: client).pendingCount == 3)
            #expect(try await DeadLetters.count(on: client) == 1, "dead letters wait for an operator")
        }
    }

    /// Delivered rows carry personal data and are dead weight once the consumer's inbox has the
    /// event id: they go after the configured time, and only they.
    @Test("delivered rows are purged after the configured time; undelivered and dead-lettered ones stay")
    func deliveredRowsArePurgedAfterTheConfiguredTime() async throws {
        try await withTestDatabase(prefix: "obxpurge") { client in
            try await prepareSchema(client)
            try await enqueue(makeEvents(destinations: ["up@1", "down@1"], perDestination: 3) + [Self.event("up@1", "big", bytes: 100_000)], on: client)
            let relay = OutboxRelay(client: client, configuration: Self.configuration(), logger: quietLogger) { destination, _ in
                if destination == "down@1" { throw DeliveryFailed() }
            }
            for _ in 0..<20 { try await relay.relayOnce() }  // up@1 drains; down@1 keeps failing
            let delivered: SQLQuery = "SELECT count(*) AS n FROM outbox WHERE delivered_at IS NOT NULL"
            #expect(try await client.query(delivered).one().decode("n", as: Int.self) == 3)
            #expect(try await Outbox.purgeDelivered(olderThan: 600, on: client) == 0, "not yet: kept for the configured time")
            try await Task.sleep(for: .milliseconds(1200))
            #expect(try await Outbox.purgeDelivered(olderThan: 1, on: client) == 3)
            #expect(try await client.query(delivered).one().decode("n", as: Int.self) == 0)
            #expect(try await Outbox.lag(on: client).pendingCount == 3, "undelivered rows are never purged")
            #expect(try await DeadLetters.count(on: client) == 1, "dead letters wait for an operator")
        }
    }
}
