import OneSealStore

/// The outbox and inbox tables. Services append these to their own migration list (versions
/// 900_001+ are reserved for them) or call `OutboxMigrations.apply(on:)`.
public enum OutboxMigrations {
    public static let all: [Migration] = [
        Migration(
            version: 900_001, name: "oneseal_outbox_inbox",
            sql: """
                CREATE TABLE IF NOT EXISTS outbox (
                    seq bigserial PRIMARY KEY,
                    id uuid NOT NULL UNIQUE,
                    destination text NOT NULL,
                    type text NOT NULL,
                    aggregate_id text NOT NULL,
                    payload bytea NOT NULL,
                    traceparent text,
                    created_at timestamptz NOT NULL DEFAULT now(),
                    attempts integer NOT NULL DEFAULT 0,
                    next_attempt_at timestamptz NOT NULL DEFAULT now(),
                    delivered_at timestamptz,
                    last_error text
                );
                CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (destination, seq) WHERE delivered_at IS NULL;
                -- One row per destination: the relay locks it (FOR UPDATE SKIP LOCKED) to own that
                -- destination's queue, which keeps order and lets replicas share destinations.
                CREATE TABLE IF NOT EXISTS outbox_destinations (
                    destination text PRIMARY KEY,
                    attempts integer NOT NULL DEFAULT 0,
                    next_attempt_at timestamptz NOT NULL DEFAULT now(),
                    last_error text
                );
                CREATE TABLE IF NOT EXISTS inbox (
                    consumer text NOT NULL,
                    event_id uuid NOT NULL,
                    processed_at timestamptz NOT NULL DEFAULT now(),
                    PRIMARY KEY (consumer, event_id)
                );
                """),
        Migration(
            version: 900_002, name: "oneseal_outbox_occurred_at",
            sql: """
                -- When the event happened, if not when it was written: an event passed on (a county's
                -- evaluation forwarding to its city) keeps its first time. NULL = created_at.
                ALTER TABLE outbox ADD COLUMN IF NOT EXISTS occurred_at timestamptz;
                """),
        Migration(
            version: 900_003, name: "oneseal_outbox_dead_letters",
            sql: """
                -- Refusals by the consumer (not outages) counted per event, and when the first failure
                -- of any kind happened: the relay dead-letters an event after too many refusals.
                ALTER TABLE outbox ADD COLUMN IF NOT EXISTS refusals integer NOT NULL DEFAULT 0;
                ALTER TABLE outbox ADD COLUMN IF NOT EXISTS first_failed_at timestamptz;
                -- Events that can never be delivered as they are (too large for one frame, refused
                -- permanently or too often). Moved here so the events behind them are not blocked;
                -- kept with their outbox seq (the id operators replay by) until replayed or discarded.
                CREATE TABLE IF NOT EXISTS outbox_dead_letters (
                    seq bigint PRIMARY KEY,
                    id uuid NOT NULL UNIQUE,
                    destination text NOT NULL,
                    type text NOT NULL,
                    aggregate_id text NOT NULL,
                    payload bytea NOT NULL,
                    traceparent text,
                    occurred_at timestamptz,
                    created_at timestamptz NOT NULL,
                    attempts integer NOT NULL,
                    size integer NOT NULL,
                    reason text NOT NULL,
                    first_failed_at timestamptz NOT NULL,
                    dead_at timestamptz NOT NULL DEFAULT now()
                );
                -- The purge deletes delivered rows by age.
                CREATE INDEX IF NOT EXISTS outbox_delivered ON outbox (delivered_at) WHERE delivered_at IS NOT NULL;
                """),
    ]

    /// Applies the outbox/inbox migrations on their own (for services without other migrations).
    public static func apply(on client: PostgresClient) async throws {
        try await Migrator.apply(all, on: client)
    }
}
