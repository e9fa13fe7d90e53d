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
        // A graceful shutdown cancels the loop (its sleep throws CancellationError): that is this
        // service's normal end, not a failure of the service group.
        do {
            try await self.loop(pending: pending, oldest: oldest, pool: pool)
        } catch is CancellationError {
            return
        }
    }

    private func loop(pending: Gauge, oldest: Gauge, pool: Gauge) async throws {
        try await cancelWhenGracefulShutdown {
            let clock = ContinuousClock()
            var lastPurge = clock.now - purgeEvery
            while !Task.isCancelled {
                do {
                    let lag = try await Outbox.lag(on: database)
                    pending.record(lag.pendingCount)
                    oldest.record(lag.oldestPendingAge)
                    pool.record(database.openConnectionCount)
                    if clock.now - lastPurge >= purgeEvery {
                        let seconds = Double(keepDelivered.components.seconds)
                        let purged = try await Outbox.purgeDelivered(olderThan: seconds, on: database)
                        lastPurge = clock.now
                        if purged > 0 { logger.info("purged delivered outbox events", metadata: ["count": "\(purged)"]) }
                    }
                } catch is CancellationError {
                    return
                } catch {
                    logger.warning("outbox maintenance pass failed", metadata: ["error": "\(error)"])
                }
                try await Task.sleep(for: interval)
            }
        }
    }
}
