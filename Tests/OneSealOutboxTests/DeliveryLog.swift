import Foundation
import OneSealOutbox
import Logging
import OneSealStore

/// Records what a relay delivered and lets a test wait (bounded) until enough distinct events
/// arrived. The bound only stops a broken test from hanging; nothing is measured by time.
actor DeliveryLog {
    private(set) var deliveries: [OutboxEvent] = []
    private var seen: Set<UUID> = []
    private var waiters: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []

    func record(_ events: [OutboxEvent]) {
        deliveries += events
        for event in events { seen.insert(event.id) }
        let ready = waiters.filter { $0.count <= seen.count }
        waiters.removeAll { $0.count <= seen.count }
        for waiter in ready { waiter.continuation.resume() }
    }

    var distinctCount: Int { seen.count }

    private func waitForDistinct(_ count: Int) async {
        if seen.count >= count { return }
        await withCheckedContinuation { waiters.append((count, $0)) }
    }

    /// True once `count` distinct events were delivered; false if that did not happen within `limit`.
    nonisolated func waitUntilDistinct(_ count: Int, limit: Duration = .seconds(90)) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { await self.waitForDistinct(count); return true }
            group.addTask { try? await Task.sleep(for: limit); return false }
            let first = await group.next()!
            group.cancelAll()
            if !first { await self.releaseAll() }
            return first
        }
    }

    private func releaseAll() {
        for waiter in waiters { waiter.continuation.resume() }
        waiters = []
    }

    /// First-delivery order of aggregate ids per destination (redeliveries ignored).
    func firstDeliveryOrder() -> [String: [String]] {
        var seenIDs: Set<UUID> = []
        var order: [String: [String]] = [:]
        for event in deliveries where seenIDs.insert(event.id).inserted {
            order[event.destination, default: []].append(event.aggregateID)
        }
        return order
    }
}

/// Builds `perDestination` events for each destination, aggregate ids "0", "1", … in order.
func makeEvents(destinations: [String], perDestination: Int) -> [OutboxEvent] {
    var events: [OutboxEvent] = []
    for i in 0..<perDestination {
        for destination in destinations {
            events.append(
                OutboxEvent(
                    destination: destination, type: "case.accepted", aggregateID: String(i),
                    payload: Array("payload-\(destination)-\(i)".utf8), traceparent: "00-\(String(repeating: "a", count: 32))-\(String(repeating: "b", count: 16))-01"))
        }
    }
    return events
}

/// Enqueues events in transactions of `chunk` events, as services would.
func enqueue(_ events: [OutboxEvent], on client: PostgresClient, chunk: Int = 5) async throws {
    var index = 0
    while index < events.count {
        let slice = Array(events[index..<min(index + chunk, events.count)])
        try await client.withTransaction { tx in try await Outbox.enqueue(slice, in: tx) }
        index += chunk
    }
}

func expectedOrder(_ destinations: [String], perDestination: Int) -> [String: [String]] {
    Dictionary(uniqueKeysWithValues: destinations.map { ($0, (0..<perDestination).map(String.init)) })
}

/// The consumer side: records the event in the inbox and applies its effect in one transaction.
func applyEffects(_ events: [OutboxEvent], consumer: String, on client: PostgresClient) async throws {
    try await client.withTransaction { tx in
        for event in events where try await Inbox.markProcessed(eventID: event.id, consumer: consumer, in: tx) {
            try await tx.execute("INSERT INTO effects (event_id, destination, aggregate_id) VALUES (\(event.id), \(event.destination), \(event.aggregateID))")
        }
    }
}

func prepareSchema(_ client: PostgresClient) async throws {
    try await Migrator.apply(
        OutboxMigrations.all + [
            Migration(version: 1, name: "effects", sql: "CREATE TABLE effects (n bigserial PRIMARY KEY, event_id uuid NOT NULL, destination text NOT NULL, aggregate_id text NOT NULL);")
        ], on: client)
}

/// Error a test's delivery closure throws to simulate a failed RPC.
struct DeliveryFailed: Error {}

/// Relay logger for tests: the simulated failures are expected, so only errors are printed.
let quietLogger: Logger = {
    var logger = Logger(label: "oneseal.outbox.test")
    logger.logLevel = .error
    return logger
}()
