import Foundation
@testable import OneSealOutbox
import OneSealStore
import OneSealTestSupport
import Synchronization
import Testing

/// A pass over the destinations one NOTIFY named (#21): one claim, deliveries at once, one commit.
@Suite("Outbox relay passes")
struct RelayPassTests {
    @Test("the destinations a NOTIFY names are claimed together, delivered at once and marked in one transaction")
    func namedDestinationsShareOnePass() async throws {
        try await withTestDatabase(prefix: "obxgroup") { client in
            try await prepareSchema(client)
            let destinations = ["a@1", "b@1", "c@1"]
            try await enqueue(makeEvents(destinations: destinations, perDestination: 3), on: client, chunk: 9)
            let log = DeliveryLog()
            let started = Arrivals()
            let claimableDuringDelivery = Mutex<Set<String>>([])
            let relay = OutboxRelay(client: client, configuration: OutboxRelayTests.fast, logger: quietLogger) { _, events in
                // Each delivery waits until all three have started: a pass that sent one after the
                // other would never get there and fail this delivery.
                guard await started.arriveAndWait(for: 3) else { throw DeliveryFailed() }
                // From another connection, while all three are being delivered: none can be claimed.
                let free = try await client.query("SELECT destination FROM outbox_destinations FOR UPDATE SKIP LOCKED")
                let names = Set(try free.map { try $0.decode("destination", as: String.self) })
                claimableDuringDelivery.withLock { $0.formUnion(names) }
                await log.record(events)
            }
            let passes = try await relay.relayOnce(destinations: destinations + ["a@1"])
            #expect(passes == Dictionary(uniqueKeysWithValues: destinations.map { ($0, OutboxRelay.Pass(handled: 3, more: false)) }))
            #expect(claimableDuringDelivery.withLock { $0 }.isEmpty)
            #expect(await log.firstDeliveryOrder() == expectedOrder(destinations, perDestination: 3))
            // now() is the transaction's start: one time for all nine marks is one transaction.
            let marks = try await client.query("SELECT count(DISTINCT delivered_at) AS times, count(*) FILTER (WHERE delivered_at IS NULL) AS pending FROM outbox").one()
            #expect(try marks.decode("times", as: Int.self) == 1)
            #expect(try marks.decode("pending", as: Int.self) == 0)
        }
    }

    @Test("a named destination that failed before gets a pass of its own; the healthy ones are not held by it")
    func failingDestinationIsRelayedAlone() async throws {
        try await withTestDatabase(prefix: "obxalone") { client in
            try await prepareSchema(client)
            let destinations = ["a@1", "b@1", "c@1"]
            try await enqueue(makeEvents(destinations: destinations, perDestination: 2), on: client, chunk: 6)
            try await client.execute("UPDATE outbox_destinations SET attempts = 1, last_error = 'refused' WHERE destination = 'b@1'")
            let claimableDuringB = Mutex<Set<String>>([])
            let relay = OutboxRelay(client: client, configuration: OutboxRelayTests.fast, logger: quietLogger) { destination, _ in
                guard destination == "b@1" else { return }
                let free = try await client.query("SELECT destination FROM outbox_destinations FOR UPDATE SKIP LOCKED")
                let names = Set(try free.map { try $0.decode("destination", as: String.self) })
                claimableDuringB.withLock { $0.formUnion(names) }
            }
            let passes = try await relay.relayOnce(destinations: destinations)
            #expect(passes.mapValues(\.handled) == ["a@1": 2, "b@1": 2, "c@1": 2])
            #expect(claimableDuringB.withLock { $0 } == ["a@1", "c@1"], "a and c were committed before b's pass")
            let times = try await client.query(
                "SELECT destination, count(DISTINCT delivered_at) AS times FROM outbox GROUP BY destination ORDER BY destination")
            #expect(try times.map { try $0.decode("times", as: Int.self) } == [1, 1, 1])
            let distinct = try await client.query("SELECT count(DISTINCT delivered_at) AS times FROM outbox").one()
            #expect(try distinct.decode("times", as: Int.self) == 2)
            let b = try await client.query("SELECT attempts, last_error FROM outbox_destinations WHERE destination = 'b@1'").one()
            #expect(try b.decode("attempts", as: Int.self) == 0)
            #expect(try b.decode("last_error", as: String?.self) == nil)
        }
    }

    @Test("one destination's failure in a shared pass leaves the others delivered and it alone backing off")
    func oneFailureInASharedPass() async throws {
        try await withTestDatabase(prefix: "obxshared") { client in
            try await prepareSchema(client)
            let destinations = ["a@1", "b@1", "c@1"]
            try await enqueue(makeEvents(destinations: destinations, perDestination: 2), on: client, chunk: 6)
            let relay = OutboxRelay(client: client, configuration: OutboxRelayTests.fast, logger: quietLogger) { destination, _ in
                if destination == "b@1" { throw DeliveryFailed() }
            }
            let passes = try await relay.relayOnce(destinations: destinations)
            #expect(passes == [
                "a@1": OutboxRelay.Pass(handled: 2, more: false), "b@1": OutboxRelay.Pass(handled: 0, more: false),
                "c@1": OutboxRelay.Pass(handled: 2, more: false),
            ])
            let pending = try await client.query(
                "SELECT destination, attempts FROM outbox WHERE delivered_at IS NULL ORDER BY seq")
            #expect(try pending.map { try $0.decode("destination", as: String.self) } == ["b@1", "b@1"])
            #expect(try pending.map { try $0.decode("attempts", as: Int.self) } == [1, 0], "only b's head was attempted")
            let b = try await client.query("SELECT attempts, next_attempt_at > now() AS backing_off FROM outbox_destinations WHERE destination = 'b@1'").one()
            #expect(try b.decode("attempts", as: Int.self) == 1)
            #expect(try b.decode("backing_off", as: Bool.self))
        }
    }
}

/// The relay's work list as a state machine, action by action.
@Suite("Relay work")
struct RelayWorkTests {
    @Test("a NOTIFY's destinations make one job, first named first, at most destinationsPerPass")
    func namesBecomeOnePass() {
        let work = RelayWork(destinationsPerPass: 2)
        #expect(work.next() == nil)
        work.note("a@1\nb@1\nc@1")
        work.note("b@1\nd@1")  // b is named already: once is enough
        #expect(work.next() == .destinations(["a@1", "b@1"]))
        #expect(work.next() == .destinations(["c@1", "d@1"]))
        #expect(work.next() == nil)
    }

    @Test("a destination a worker is on is not handed out again until that worker is done; more queues it again")
    func busyDestinationsWait() {
        let work = RelayWork(destinationsPerPass: 16)
        work.note("a@1\nb@1")
        #expect(work.next() == .destinations(["a@1", "b@1"]))
        work.note("a@1\nc@1")  // a new row for a, while a worker is on it
        #expect(work.next() == .destinations(["c@1"]))
        #expect(work.next() == nil, "a stays named while its worker runs")
        work.finishedPass(over: ["a@1", "b@1"], more: ["b@1"])
        #expect(work.next() == .destinations(["a@1", "b@1"]))
        work.finishedPass(over: ["a@1", "b@1"], more: [])
        work.finishedPass(over: ["c@1"], more: [])
        #expect(work.next() == nil)
    }

    @Test("an empty NOTIFY or a poll asks for one scan at a time, after the named destinations")
    func scans() {
        let work = RelayWork(destinationsPerPass: 16)
        work.note("")
        work.note("a@1")
        #expect(work.next() == .destinations(["a@1"]))
        #expect(work.next() == .scan)
        work.requestScan()
        #expect(work.next() == nil, "one scan runs at a time")
        work.finishedScan(more: false)
        #expect(work.next() == .scan, "the scan asked for while one ran")
        work.finishedScan(more: true)
        #expect(work.next() == .scan)
        work.finishedScan(more: false)
        #expect(work.next() == nil)
    }
}

/// Counts arrivals; each waits (bounded, 10 s) until `count` have arrived.
final class Arrivals: Sendable {
    private let arrived = Mutex(0)

    func arriveAndWait(for count: Int) async -> Bool {
        arrived.withLock { $0 += 1 }
        for _ in 0..<1_000 {
            if arrived.withLock({ $0 }) >= count { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return false
    }
}
