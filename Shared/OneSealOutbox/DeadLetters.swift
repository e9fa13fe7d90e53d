import Foundation
import OneSealStore

/// A delivery failure the consumer answered about *this event* (as opposed to an outage, which
/// says nothing about the event). The delivery closure throws it; the relay reacts per ``Rule``.
/// Any other error is an outage or a configuration fault: retried with backoff for as long as it
/// lasts, never dead-lettered, because it would hit every event of the destination alike and
/// dead-lettering them would scatter the whole queue out of order (the
/// `oneseal_outbox_oldest_pending_seconds` alert covers that case).
public struct DeliveryRefused: Error, CustomStringConvertible, Sendable {
    public enum Rule: Sendable, Hashable {
        /// The event can never be accepted as it is (malformed, out of range): dead-lettered at once.
        case permanent
        /// The consumer refused it, but a later try may succeed (a precondition another source's
        /// event will satisfy, a consumer bug that gets fixed): dead-lettered after
        /// ``OutboxRelay/Configuration/maximumRefusals`` refusals in a row.
        case counted
    }

    public var rule: Rule
    public var reason: String

    public init(rule: Rule, reason: String) {
        self.rule = rule
        self.reason = reason
    }

    public var description: String { reason }
}

/// One dead-lettered event as operators see it (no payload: it may hold personal data).
public struct DeadLetter: Sendable, Hashable {
    /// The event's outbox `seq`, kept while it is dead: the id operators replay it by, and its
    /// place in the destination's order when replayed.
    public var id: Int64
    public var eventID: UUID
    public var destination: String
    public var type: String
    public var aggregateID: String
    /// Bytes the event takes in a delivery request (what the batch limit is measured in).
    public var size: Int
    public var attempts: Int
    public var reason: String
    public var firstFailedAt: Date
    public var deadAt: Date
}

/// The dead-letter table: listing, replaying and discarding events the relay set aside.
public enum DeadLetters {
    /// Dead letters with an id above `after`, oldest first, at most `limit`.
    public static func list(after: Int64 = 0, limit: Int = 10_000, on client: PostgresClient) async throws -> [DeadLetter] {
        let rows = try await client.query(
            """
            SELECT seq, id, destination, type, aggregate_id, size, attempts, reason, first_failed_at, dead_at
            FROM outbox_dead_letters WHERE seq > \(after) ORDER BY seq LIMIT \(limit)
            """)
        return try rows.map { row in
            DeadLetter(
                id: try row.decode("seq"), eventID: try row.decode("id"), destination: try row.decode("destination"),
                type: try row.decode("type"), aggregateID: try row.decode("aggregate_id"), size: try row.decode("size"),
                attempts: try row.decode("attempts"), reason: try row.decode("reason"),
                firstFailedAt: try row.decode("first_failed_at"), deadAt: try row.decode("dead_at"))
        }
    }

    /// How many events are dead-lettered (the `oneseal_outbox_dead_letters` gauge).
    public static func count(on client: PostgresClient) async throws -> Int {
        try await client.query("SELECT count(*) AS n FROM outbox_dead_letters").one().decode("n", as: Int.self)
    }

    /// Moves dead letter `id` back into the outbox under its original `seq` and event id, and
    /// wakes the relay. Because its seq is older than anything still pending for its destination,
    /// it is delivered next, ahead of later events that have not gone out yet; events that were
    /// delivered while it was dead stay delivered (that is the order given up by dead-lettering).
    /// The same event id means a consumer that did apply it once skips it (inbox). Returns the
    /// event id, nil when there is no such dead letter.
    @discardableResult
    public static func replay(id: Int64, on client: PostgresClient) async throws -> UUID? {
        try await client.withTransaction { tx in
            let moved = try await tx.query(
                """
                WITH dead AS (DELETE FROM outbox_dead_letters WHERE seq = \(id) RETURNING *)
                INSERT INTO outbox (seq, id, destination, type, aggregate_id, payload, traceparent, occurred_at, created_at)
                SELECT seq, id, destination, type, aggregate_id, payload, traceparent, occurred_at, created_at FROM dead
                RETURNING id, destination
                """)
            guard let row = moved.first else { return nil }
            let destination = try row.decode("destination", as: String.self)
            // The destination may be in backoff from the failures that led here: try it now.
            try await tx.execute(
                """
                INSERT INTO outbox_destinations (destination) VALUES (\(destination))
                ON CONFLICT (destination) DO UPDATE SET attempts = 0, last_error = NULL, next_attempt_at = now()
                """)
            try await PostgresClient.notify(channel: Outbox.channel, payload: destination, on: tx)
            return try row.decode("id", as: UUID.self)
        }
    }

    /// Deletes dead letter `id` for good (an operator decided it must never be delivered). Returns
    /// the event id, nil when there is no such dead letter.
    @discardableResult
    public static func discard(id: Int64, on client: PostgresClient) async throws -> UUID? {
        try await client.query("DELETE FROM outbox_dead_letters WHERE seq = \(id) RETURNING id").first?.decode("id", as: UUID.self)
    }

    /// Moves outbox row `seq` to the dead-letter table in `tx` (the relay's transaction).
    static func move(seq: Int64, size: Int, reason: String, in tx: PostgresConnection) async throws {
        try await tx.execute(
            """
            WITH moved AS (DELETE FROM outbox WHERE seq = \(seq) AND delivered_at IS NULL RETURNING *)
            INSERT INTO outbox_dead_letters
                (seq, id, destination, type, aggregate_id, payload, traceparent, occurred_at, created_at, attempts, size, reason, first_failed_at)
            SELECT seq, id, destination, type, aggregate_id, payload, traceparent, occurred_at, created_at, attempts, \(size), \(reason),
                   COALESCE(first_failed_at, now())
            FROM moved
            """)
    }
}
