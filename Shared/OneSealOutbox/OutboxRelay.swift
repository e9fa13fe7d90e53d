import Foundation
import Logging
import OneSealStore
import ServiceLifecycle

/// Delivers outbox rows to their destinations: at least once, in order per destination.
///
/// Each pass locks one due destination row with `FOR UPDATE SKIP LOCKED` (so replicas work on
/// different destinations and never deliver the same rows twice at once), reads that destination's
/// oldest undelivered rows, calls `deliver`, and marks them delivered in the same transaction.
/// If `deliver` throws, the rows stay undelivered, the destination backs off (exponential, capped,
/// jittered) and later rows of that destination wait behind the failed head; other destinations
/// are unaffected. If the process dies after delivery but before commit, the rows are delivered
/// again — consumers deduplicate with ``Inbox``.
///
/// The relay wakes on `NOTIFY outbox` (sent by ``Outbox/enqueue(_:in:)`` at commit) and polls
/// every `pollInterval` as a fallback.
public struct OutboxRelay: Service {
    public struct Configuration: Sendable {
        /// Max rows handed to one `deliver` call.
        public var batchSize: Int
        /// Fallback poll period when no notification arrives.
        public var pollInterval: Duration
        /// First retry delay of a failing destination; doubles per failure up to `maxBackoff`.
        public var initialBackoff: Duration
        public var maxBackoff: Duration
        /// Destinations worked on in parallel by this replica.
        public var concurrency: Int

        public init(
            batchSize: Int = 100, pollInterval: Duration = .seconds(1), initialBackoff: Duration = .milliseconds(200),
            maxBackoff: Duration = .seconds(60), concurrency: Int = 2
        ) {
            self.batchSize = max(1, batchSize)
            self.pollInterval = pollInterval
            self.initialBackoff = initialBackoff
            self.maxBackoff = maxBackoff
            self.concurrency = max(1, concurrency)
        }
    }

    /// Sends one destination's batch (in order); throwing leaves the batch for a later retry.
    public typealias Deliver = @Sendable (_ destination: String, _ events: [OutboxEvent]) async throws -> Void

    public let client: PostgresClient
    public let configuration: Configuration
    let logger: Logger
    let deliver: Deliver

    public init(client: PostgresClient, configuration: Configuration = Configuration(), logger: Logger = Logger(label: "oneseal.outbox"), deliver: @escaping Deliver) {
        self.client = client
        self.configuration = configuration
        self.logger = logger
        self.deliver = deliver
    }

    /// Relays until graceful shutdown or cancellation. On graceful shutdown a batch whose delivery
    /// is in progress finishes and commits; on cancellation it is rolled back (and redelivered later).
    public func run() async throws {
        let wake = WakeSignal()
        await withTaskGroup(of: Void.self) { outer in
            outer.addTask { await listenLoop(wake: wake) }
            await withTaskGroup(of: Void.self) { workers in
                workers.addTask {
                    try? await gracefulShutdown()  // returns on graceful shutdown, throws on cancellation
                    wake.shutdown()
                }
                for _ in 0..<configuration.concurrency {
                    workers.addTask { await workLoop(wake: wake) }
                }
            }
            outer.cancelAll()
        }
    }

    /// Turns NOTIFYs on the outbox channel into wake-ups; if LISTEN fails, polling still delivers.
    private func listenLoop(wake: WakeSignal) async {
        while !Task.isCancelled {
            do {
                let notifications = try await client.listen(channel: Outbox.channel)
                wake.signal()  // catch up on anything enqueued before LISTEN was active
                for await _ in notifications { wake.signal() }
            } catch {
                logger.warning("outbox relay cannot LISTEN; polling only", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: configuration.pollInterval)
        }
    }

    private func workLoop(wake: WakeSignal) async {
        while !Task.isCancelled && !wake.isShutdown {
            let didWork: Bool
            do {
                didWork = try await relayOnce() > 0
            } catch is CancellationError {
                return
            } catch {
                logger.warning("outbox relay pass failed", metadata: ["error": "\(error)"])
                didWork = false
            }
            if !didWork {
                await wake.wait(timeout: configuration.pollInterval)
            }
        }
    }

    /// Runs one pass: claims one due destination, delivers one batch. Returns the number of events
    /// delivered (0 when nothing was due or delivery failed). Useful for tests and for draining.
    @discardableResult
    public func relayOnce() async throws -> Int {
        let batchSize = configuration.batchSize
        return try await client.withTransaction { tx -> Int in
            let claimed = try await tx.query(
                """
                SELECT d.destination, d.attempts FROM outbox_destinations d
                WHERE d.next_attempt_at <= now()
                  AND EXISTS (SELECT 1 FROM outbox o WHERE o.destination = d.destination AND o.delivered_at IS NULL)
                ORDER BY d.next_attempt_at
                LIMIT 1
                FOR UPDATE SKIP LOCKED
                """)
            guard let destinationRow = claimed.first else { return 0 }
            let destination = try destinationRow.decode("destination", as: String.self)
            let failures = try destinationRow.decode("attempts", as: Int.self)
            let rows = try await tx.query(
                """
                SELECT seq, id, destination, type, aggregate_id, payload, traceparent,
                       COALESCE(occurred_at, created_at) AS occurred_at FROM outbox
                WHERE destination = \(destination) AND delivered_at IS NULL
                ORDER BY seq LIMIT \(batchSize)
                """)
            var events: [OutboxEvent] = []
            var seqs: [Int64] = []
            for row in rows {
                let seq = try row.decode("seq", as: Int64.self)
                seqs.append(seq)
                events.append(
                    OutboxEvent(
                        id: try row.decode("id"), destination: try row.decode("destination"), type: try row.decode("type"),
                        aggregateID: try row.decode("aggregate_id"), payload: try row.decode("payload"),
                        traceparent: try row.decode("traceparent"), occurredAt: try row.decode("occurred_at", as: Date.self),
                        sequence: seq))
            }
            guard !events.isEmpty else { return 0 }
            do {
                try await deliver(destination, events)
            } catch is CancellationError {
                throw CancellationError()  // roll back: the rows stay undelivered
            } catch {
                let delay = backoff(afterFailures: failures + 1)
                logger.warning(
                    "outbox delivery failed; backing off",
                    metadata: ["destination": "\(destination)", "delay": "\(delay)", "error": "\(error)"])
                let message = String(describing: error)
                try await tx.execute(
                    "UPDATE outbox SET attempts = attempts + 1, last_error = \(message) WHERE seq = \(seqs[0])")
                try await tx.execute(
                    """
                    UPDATE outbox_destinations SET attempts = attempts + 1, last_error = \(message),
                        next_attempt_at = now() + make_interval(secs => \(delay))
                    WHERE destination = \(destination)
                    """)
                return 0
            }
            try Task.checkCancellation()
            try await tx.execute(
                "UPDATE outbox SET delivered_at = now(), attempts = attempts + 1, last_error = NULL WHERE seq = ANY(\(SQLArray(seqs)))")
            if failures > 0 {
                try await tx.execute(
                    "UPDATE outbox_destinations SET attempts = 0, last_error = NULL, next_attempt_at = now() WHERE destination = \(destination)")
            }
            return events.count
        }
    }

    /// Full-jitter exponential backoff in seconds: uniform in [cap/2, cap], cap = min(max, initial·2^(n−1)).
    func backoff(afterFailures failures: Int) -> Double {
        let initial = configuration.initialBackoff.seconds
        let ceiling = min(configuration.maxBackoff.seconds, initial * pow(2, Double(min(failures - 1, 30))))
        return Double.random(in: (ceiling / 2)...max(ceiling, ceiling / 2 + 0.000_001))
    }
}

extension Duration {
    var seconds: Double {
        let (s, attoseconds) = components
        return Double(s) + Double(attoseconds) / 1e18
    }
}
