import Logging
import Metrics
import OneSealCore
import OneSealOutbox
import OneSealStore
import ServiceLifecycle

/// Keeps the outbox observable and small, in every replica (each does the same idempotent work):
/// every `interval` it publishes the backlog (`oneseal_outbox_pending_events`,
/// `oneseal_outbox_oldest_pending_seconds`), the dead letters (`oneseal_outbox_dead_letters`: events
/// the relay set aside, each a missing effect at its destination until an operator replays it —
/// alert when above 0) and the pool size (`oneseal_db_pool_open_connections`); every `purgeEvery`
/// it deletes events delivered more than `keepDelivered` ago, so payloads (which may hold an
/// applicant's details on their way to approval) do not stay at rest longer than their delivery needs.
/// With `keepDelivered` zero (the default) the relay deletes a row as it delivers it, and the purge
/// only finds rows kept under an earlier setting.
///
/// Purging minutes after delivery is safe: the relay never reads a delivered row again (it selects
/// `delivered_at IS NULL`), and a row is marked delivered only in the transaction that saw the
/// consumer accept it — by then the consumer's inbox holds the event id in the transaction of its
/// effect, so the inbox, not the outbox, is the durable record. Minutes kept (a setting above zero)
/// are only for an operator looking at what just went out.
public struct OutboxMaintenance: Service {
    let database: PostgresClient
    let interval: Duration
    let purgeEvery: Duration
    let keepDelivered: Duration
    let logger: Logger

    /// How long delivered events stay by default (ONESEAL_OUTBOX_KEEP_DELIVERED_SECONDS): none —
    /// the relay's delivering pass deletes them (decision 75); the purge then finds only rows
    /// marked while the setting was above zero.
    public static let defaultKeepDelivered: Duration = .zero

    public init(
        database: PostgresClient, interval: Duration = .seconds(15), purgeEvery: Duration = .seconds(60),
        keepDelivered: Duration = OutboxMaintenance.defaultKeepDelivered, logger: Logger
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
        let dead = Gauge(label: "oneseal_outbox_dead_letters")
        let clock = ContinuousClock()
        var lastPurge = clock.now - purgeEvery
        await repeatUntilShutdown(every: interval, logger: logger, failure: "outbox maintenance pass failed", level: .warning) {
            let lag = try await Outbox.lag(on: database)
            pending.record(lag.pendingCount)
            oldest.record(lag.oldestPendingAge)
            dead.record(try await DeadLetters.count(on: database))
            pool.record(database.openConnectionCount)
            if clock.now - lastPurge >= purgeEvery {
                let purged = try await Outbox.purgeDelivered(olderThan: keepDelivered.inSeconds, on: database)
                lastPurge = clock.now
                if purged > 0 { logger.info("purged delivered outbox events", metadata: ["count": "\(purged)"]) }
            }
        }
    }
}
