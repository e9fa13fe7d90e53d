import Logging
import Metrics
import OneSealOutbox
import OneSealStore
import ServiceLifecycle

/// Keeps the outbox observable and small, in every replica (each does the same idempotent work):
/// every `interval` it publishes the backlog (`oneseal_outbox_pending_events`,
/// `oneseal_outbox_oldest_pending_seconds`) and the pool size (`oneseal_db_pool_open_connections`);
/// every `purgeEvery` it deletes events delivered more than `keepDelivered` ago, so payloads
/// (which may hold an applicant's details on their way to approval) do not stay at rest longer
/// than their delivery needs.
public struct OutboxMaintenance: Service {
    let database: PostgresClient
    let interval: Duration
    let purgeEvery: Duration
    let keepDelivered: Duration
    let logger: Logger

    public init(
        database: PostgresClient, interval: Duration = .seconds(15), purgeEvery: Duration = .seconds(3600),
        keepDelivered: Duration = .seconds(7 * 24 * 3600), logger: Logger
    ) {
        self.database = database
        self.interval = interval
        self.purgeEvery = purgeEvery
        self.keepDelivered = keepDelivered
        self.logger = logger
    }

    public func run() async throws {
        let pending = Gauge(label: "oneseal_outbox_pending_events")
        let oldest = Gauge(label: "oneseal_outbox_oldest_pending_seconds")
        let pool = Gauge(label: "oneseal_db_pool_open_connections")
        let clock = ContinuousClock()
        var lastPurge = clock.now - purgeEvery
        await repeatUntilShutdown(every: interval, logger: logger, failure: "outbox maintenance pass failed", level: .warning) {
            let lag = try await Outbox.lag(on: database)
            pending.record(lag.pendingCount)
            oldest.record(lag.oldestPendingAge)
            pool.record(database.openConnectionCount)
            if clock.now - lastPurge >= purgeEvery {
                let purged = try await Outbox.purgeDelivered(olderThan: Double(keepDelivered.components.seconds), on: database)
                lastPurge = clock.now
                if purged > 0 { logger.info("purged delivered outbox events", metadata: ["count": "\(purged)"]) }
            }
        }
    }
}
