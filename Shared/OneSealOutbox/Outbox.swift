import Foundation
import OneSealStore

/// Writing to the outbox and reading its lag.
public enum Outbox {
    /// The NOTIFY channel the relay listens on.
    public static let channel = "outbox"

    /// Stores `events` in the caller's transaction and notifies the relay on commit. Nothing is
    /// sent if the transaction rolls back — that is the point of the outbox.
    public static func enqueue(_ events: [OutboxEvent], in tx: PostgresConnection) async throws {
        guard !events.isEmpty else { return }
        var destinations: [String] = []
        for event in events where !destinations.contains(event.destination) { destinations.append(event.destination) }
        // One statement (#21): the rows, numbered (`seq`) in the order given — WITH ORDINALITY …
        // ORDER BY keeps each destination's events in the order the caller enqueued them — the
        // destinations' rows, and the NOTIFY (sent by PostgreSQL only on COMMIT). An event to
        // four destinations was four INSERTs, then an upsert and a NOTIFY of their own.
        // Sent with the transaction's next statement or its COMMIT: nothing waits for its answer.
        try await tx.executeWithNext(
            """
            WITH queued AS (
                INSERT INTO outbox (id, destination, type, aggregate_id, payload, traceparent, occurred_at)
                SELECT id, destination, type, aggregate_id, payload, traceparent, occurred_at
                FROM unnest(\(SQLArray(events.map(\.id)))::uuid[], \(SQLArray(events.map(\.destination)))::text[],
                            \(SQLArray(events.map(\.type)))::text[], \(SQLArray(events.map(\.aggregateID)))::text[],
                            \(SQLArray(events.map(\.payload)))::bytea[], \(SQLArray(events.map(\.traceparent)))::text[],
                            \(SQLArray(events.map(\.occurredAt)))::timestamptz[])
                     WITH ORDINALITY AS e(id, destination, type, aggregate_id, payload, traceparent, occurred_at, position)
                ORDER BY position
            ), known AS (
                INSERT INTO outbox_destinations (destination) SELECT unnest(\(SQLArray(destinations))::text[]) ON CONFLICT DO NOTHING
            )
            SELECT pg_notify(\(channel), \(notifyPayload(destinations)))
            """)
    }

    /// The NOTIFY payload for `destinations`: their names, one per line, so a relay claims exactly
    /// those instead of scanning every destination; empty ("scan them all") when the names would
    /// not fit PostgreSQL's 8,000-byte payload or a name could be misread (holds a line break).
    static func notifyPayload(_ destinations: [String]) -> String {
        let payload = destinations.joined(separator: "\n")
        guard payload.utf8.count <= 7_000, !destinations.contains(where: { $0.isEmpty || $0.contains("\n") }) else { return "" }
        return payload
    }

    /// Outbox backlog for metrics and health: undelivered rows and the age of the oldest.
    public static func lag(on client: PostgresClient) async throws -> OutboxLag {
        let row = try await client.query(
            """
            SELECT count(*) AS pending,
                   COALESCE(extract(epoch FROM now() - min(created_at)), 0)::float8 AS oldest
            FROM outbox WHERE delivered_at IS NULL
            """
        ).one()
        return OutboxLag(pendingCount: try row.decode("pending", as: Int.self), oldestPendingAge: try row.decode("oldest", as: Double.self))
    }

    /// Deletes delivered rows older than `age` seconds; returns how many.
    @discardableResult
    public static func purgeDelivered(olderThan age: Double, on client: PostgresClient) async throws -> Int {
        try await client.execute("DELETE FROM outbox WHERE delivered_at < now() - make_interval(secs => \(age))")
    }
}

/// Outbox backlog figures.
public struct OutboxLag: Sendable, Hashable {
    public var pendingCount: Int
    /// Seconds since the oldest undelivered event was written (0 when none).
    public var oldestPendingAge: Double
}

/// Consumer-side deduplication: record the event id in the same transaction as its effect.
public enum Inbox {
    /// Returns true the first time `eventID` is seen by `consumer` (apply the effect), false for a
    /// redelivery (skip it). Must run inside the consumer's transaction so id and effect commit together.
    public static func markProcessed(eventID: UUID, consumer: String, in tx: PostgresConnection) async throws -> Bool {
        try await tx.execute(
            "INSERT INTO inbox (consumer, event_id) VALUES (\(consumer), \(eventID)) ON CONFLICT DO NOTHING") == 1
    }

    /// ``markProcessed(eventID:consumer:in:)`` for many events in one statement: returns the ids
    /// seen by `consumer` for the first time (apply their effects in the same transaction).
    public static func markProcessed(eventIDs: [UUID], consumer: String, in tx: PostgresConnection) async throws -> Set<UUID> {
        guard !eventIDs.isEmpty else { return [] }
        let rows = try await tx.query(
            """
            INSERT INTO inbox (consumer, event_id) SELECT \(consumer), unnest(\(SQLArray(eventIDs))::uuid[])
            ON CONFLICT DO NOTHING RETURNING event_id
            """)
        return Set(try rows.map { try $0.decode("event_id", as: UUID.self) })
    }
}
