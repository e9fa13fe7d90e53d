import Foundation
import Logging
import OneSealCore
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
/// A batch never exceeds `maximumBatchBytes` of encoded events (below the peer's frame limit: a
/// batch over it is refused whole, and retrying the same batch forever would jam the destination).
/// An event that can never be delivered — larger than that limit on its own, refused permanently
/// (``DeliveryRefused/Rule/permanent``), or refused `maximumRefusals` times in a row — is moved to
/// `outbox_dead_letters` with an error log line, and the events behind it go on (``DeadLetters``).
/// Outages and configuration faults (any other error) are retried for as long as they last: they
/// say nothing about the event, and dead-lettering would only scatter the queue out of order.
///
/// The relay wakes on `NOTIFY outbox` (sent by ``Outbox/enqueue(_:in:)`` at commit), whose payload
/// names the destinations that got rows: a worker then claims exactly that destination (one
/// primary-key look-up, ``relayOnce(destination:)``) instead of scanning every destination for
/// work, and a worker with nothing named to do waits without asking the database (#21: the idle
/// checks were most of the relays' commits). Every `pollInterval`, after a (re)LISTEN and for a
/// NOTIFY without names, one worker scans all destinations (``relayOnce()``): the fallback for a
/// lost notification, for destinations whose backoff ran out, and for rows written before the
/// relay listened.
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
        /// Largest sum of `encodedSize` over one batch. The peer refuses a whole request whose frame
        /// is over its limit, so this stays below it with room for the request's own framing
        /// (``OutboxRelay/batchLimit(forFrameSize:)``). An event larger than this on its own can
        /// never be sent and is dead-lettered without trying.
        public var maximumBatchBytes: Int
        /// A refusal that may pass (``DeliveryRefused/Rule/counted``) dead-letters the event after
        /// this many in a row: enough to ride out a consumer that needs another source's event
        /// first, few enough that one bad event does not hold its destination for hours.
        public var maximumRefusals: Int
        /// Bytes one event takes in a delivery request. The default over-estimates (payload and
        /// texts plus a fixed allowance for ids, times and field tags); `EventDelivery` gives the
        /// exact protobuf size.
        public var encodedSize: @Sendable (OutboxEvent) -> Int
        /// The least time between the starts of two passes on one destination (zero: none). Events
        /// written meanwhile wait and go together: one transaction here and one at the consumer
        /// instead of one per pass (#21). For destinations nobody waits on within a second, such as
        /// the evaluation feed (``pacing(_:)``); a pass that left rows behind is followed at once.
        public var pace: @Sendable (_ destination: String) -> Duration = { _ in .zero }
        /// False: the pass that delivers an event deletes its row (decision 75) — the consumer's
        /// inbox holds its id from the same moment, the durable record, and nothing reads a
        /// delivered row again. True: the row is marked delivered and kept for the purge
        /// (`ONESEAL_OUTBOX_KEEP_DELIVERED_SECONDS` > 0, for an operator looking at what just went
        /// out). Marking rewrote the row with its payload and its index entries: ≈ 45 row versions
        /// and 130 index entries of WAL per case (#21).
        public var keepsDelivered = true

        public init(
            batchSize: Int = 100, pollInterval: Duration = .seconds(1), initialBackoff: Duration = .milliseconds(200),
            maxBackoff: Duration = .seconds(60), concurrency: Int = 2,
            maximumBatchBytes: Int = OutboxRelay.batchLimit(forFrameSize: 4 * 1024 * 1024), maximumRefusals: Int = 10,
            encodedSize: @escaping @Sendable (OutboxEvent) -> Int = OutboxRelay.estimatedSize(of:)
        ) {
            self.batchSize = max(1, batchSize)
            self.pollInterval = pollInterval
            self.initialBackoff = initialBackoff
            self.maxBackoff = maxBackoff
            self.concurrency = max(1, concurrency)
            self.maximumBatchBytes = max(1, maximumBatchBytes)
            self.maximumRefusals = max(1, maximumRefusals)
            self.encodedSize = encodedSize
        }
    }

    /// The batch budget for a peer whose frames may hold `frameSize` bytes: 1/16 of the frame (at
    /// most 64 KiB) is left for what wraps the events — the Frame and Message fields, the request's
    /// field tags and length prefixes, which are a few bytes per event.
    public static func batchLimit(forFrameSize frameSize: Int) -> Int {
        frameSize - max(64, min(64 * 1024, frameSize / 16))
    }

    /// A `pace` by the destination's service: `["evaluation": .milliseconds(250)]` paces
    /// `evaluation@371300` and `evaluation@371302`, and no other destination.
    public static func pacing(_ intervals: [String: Duration]) -> @Sendable (String) -> Duration {
        { destination in
            let service = destination.split(separator: "@", maxSplits: 1).first.map(String.init) ?? destination
            return intervals[service] ?? .zero
        }
    }

    /// An upper bound of an event's encoded envelope when the exact encoder is not at hand:
    /// payload and variable texts plus 256 bytes for the event id, source names, times, sequence
    /// and every field's tag and length.
    public static func estimatedSize(of event: OutboxEvent) -> Int {
        event.payload.count + event.type.utf8.count + event.aggregateID.utf8.count + (event.traceparent?.utf8.count ?? 0) + 256
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
        let work = RelayWork(pace: configuration.pace)
        await withTaskGroup(of: Void.self) { outer in
            outer.addTask { await listenLoop(wake: wake, work: work) }
            outer.addTask { await pollLoop(wake: wake, work: work) }
            await withTaskGroup(of: Void.self) { workers in
                workers.addTask {
                    try? await gracefulShutdown()  // returns on graceful shutdown, throws on cancellation
                    wake.shutdown()
                }
                for _ in 0..<configuration.concurrency {
                    workers.addTask { await workLoop(wake: wake, work: work) }
                }
            }
            outer.cancelAll()
        }
    }

    /// Turns NOTIFYs on the outbox channel into named destinations and wake-ups; if LISTEN fails,
    /// polling still delivers.
    private func listenLoop(wake: WakeSignal, work: RelayWork) async {
        while !Task.isCancelled {
            do {
                let notifications = try await client.listen(channel: Outbox.channel)
                // Catch up on anything enqueued before LISTEN was active: its NOTIFY is gone.
                work.requestScan()
                wake.signal()
                for await notification in notifications {
                    switch notification.interruption {
                    case nil: work.note(notification.payload)
                    case .resumed: work.requestScan()  // what was enqueued while it was down went unheard
                    case .lost: continue
                    }
                    wake.signal()
                }
            } catch {
                logger.warning("outbox relay cannot LISTEN; polling only", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: configuration.pollInterval)
        }
    }

    /// One full scan per `pollInterval`, whatever the notifications say.
    private func pollLoop(wake: WakeSignal, work: RelayWork) async {
        while !Task.isCancelled && !wake.isShutdown {
            do { try await Task.sleep(for: configuration.pollInterval) } catch { return }
            work.requestScan()
            wake.signal()
        }
    }

    private func workLoop(wake: WakeSignal, work: RelayWork) async {
        while !Task.isCancelled && !wake.isShutdown {
            let job: RelayWork.Job
            switch work.next(at: .now) {
            case .job(let next):
                job = next
            case .idle(let until):
                let timeout = until.map { min(configuration.pollInterval, max(.zero, $0 - .now)) } ?? configuration.pollInterval
                await wake.wait(timeout: timeout)
                continue
            }
            var more = false
            do {
                switch job {
                case .destination(let destination): more = try await relayOnce(destination: destination).more
                case .scan:
                    let started = ContinuousClock.now
                    let (destination, handled) = try await scanOnce()
                    // A pass found by a scan counts towards the destination's pace like any other.
                    if let destination { work.passed(destination, at: started) }
                    more = handled > 0
                }
            } catch is CancellationError {
                work.finished(job, more: false)
                return
            } catch {
                logger.warning("outbox relay pass failed", metadata: ["error": "\(error)"])
            }
            work.finished(job, more: more)
        }
    }

    /// What one pass did: how many events left the queue (delivered or dead-lettered), and whether
    /// the destination may still hold due rows (a full page was read, the byte budget cut the batch,
    /// or a dead letter was set aside) — false when it was drained or now backs off.
    public struct Pass: Sendable, Hashable {
        public var handled: Int
        public var more: Bool
    }

    /// Runs one pass: claims one due destination that has undelivered rows (a scan over all
    /// destinations), delivers one batch (or dead-letters events that cannot be delivered). Returns
    /// the number of events that left the queue — delivered or dead-lettered (0 when nothing was due
    /// or delivery failed). Useful for tests and for draining.
    @discardableResult
    public func relayOnce() async throws -> Int {
        try await scanOnce().handled
    }

    /// ``relayOnce()``, also saying which destination it claimed (nil: none was due).
    private func scanOnce() async throws -> (destination: String?, handled: Int) {
        try await client.withTransaction { tx -> (destination: String?, handled: Int) in
            let claimed = try await tx.query(
                """
                SELECT d.destination, d.attempts FROM outbox_destinations d
                WHERE d.next_attempt_at <= now()
                  AND EXISTS (SELECT 1 FROM outbox o WHERE o.destination = d.destination AND o.delivered_at IS NULL)
                ORDER BY d.next_attempt_at
                LIMIT 1
                FOR UPDATE SKIP LOCKED
                """)
            guard let destinationRow = claimed.first else { return (nil, 0) }
            let destination = try destinationRow.decode("destination", as: String.self)
            let failures = try destinationRow.decode("attempts", as: Int.self)
            return (destination, try await relay(destination, failures: failures, in: tx).handled)
        }
    }

    /// Runs one pass on `destination` only, which a NOTIFY said has new rows: claims its row by
    /// primary key (skipped when another worker or replica holds it — that one reads the new rows
    /// — or while it backs off) and delivers one batch.
    @discardableResult
    public func relayOnce(destination: String) async throws -> Pass {
        try await client.withTransaction { tx -> Pass in
            let claimed = try await tx.query(
                """
                SELECT attempts FROM outbox_destinations
                WHERE destination = \(destination) AND next_attempt_at <= now()
                FOR UPDATE SKIP LOCKED
                """)
            guard let row = claimed.first else { return Pass(handled: 0, more: false) }
            return try await relay(destination, failures: try row.decode("attempts", as: Int.self), in: tx)
        }
    }

    /// One batch of `destination`, whose row `tx` has locked (`failures`: its failures so far).
    private func relay(_ destination: String, failures: Int, in tx: PostgresConnection) async throws -> Pass {
        let batchSize = configuration.batchSize
        let rows = try await tx.query(
            """
            SELECT seq, id, destination, type, aggregate_id, payload, traceparent,
                   COALESCE(occurred_at, created_at) AS occurred_at FROM outbox
            WHERE destination = \(destination) AND delivered_at IS NULL
            ORDER BY seq LIMIT \(batchSize)
            """)
        var queue: [(event: OutboxEvent, size: Int)] = []
        for row in rows {
            let seq = try row.decode("seq", as: Int64.self)
            let event = OutboxEvent(
                id: try row.decode("id"), destination: try row.decode("destination"), type: try row.decode("type"),
                aggregateID: try row.decode("aggregate_id"), payload: try row.decode("payload"),
                traceparent: try row.decode("traceparent"), occurredAt: try row.decode("occurred_at", as: Date.self),
                sequence: seq)
            queue.append((event, configuration.encodedSize(event)))
        }
        var handled = 0
        // A head too large for any batch would be refused forever: set it aside, go on behind it.
        while let head = queue.first, head.size > configuration.maximumBatchBytes {
            try await deadLetter(
                head.event, size: head.size,
                reason: "too large: \(head.size) bytes encoded, a batch may hold \(configuration.maximumBatchBytes)", in: tx)
            queue.removeFirst()
            handled += 1
        }
        let fullPage = rows.count == batchSize
        guard !queue.isEmpty else {
            if handled > 0 { try await resetDestination(destination, in: tx) }
            return Pass(handled: handled, more: fullPage)
        }
        // The longest in-order prefix that fits the byte budget (at least the head, which fits).
        var batch = [queue[0].event]
        var bytes = queue[0].size
        for (event, size) in queue.dropFirst() {
            guard bytes + size <= configuration.maximumBatchBytes else { break }
            batch.append(event)
            bytes += size
        }
        let more = fullPage || batch.count < queue.count
        // A cancelled relay starts no delivery: its transaction is about to roll back, so what it
        // sent would be sent again by whoever claims the destination next.
        try Task.checkCancellation()
        do {
            try await deliver(destination, batch)
        } catch is CancellationError {
            throw CancellationError()  // roll back: the rows stay undelivered
        } catch {
            guard error is DeliveryRefused, batch.count > 1 else {
                if try await recordFailure(of: batch[0], error: error, destinationFailures: failures, in: tx) {
                    try await resetDestination(destination, in: tx)
                    return Pass(handled: handled + 1, more: true)
                }
                return Pass(handled: handled, more: false)
            }
            // The consumer refused something in the batch, but not which event: deliver them one
            // at a time, in order, so the refusal lands on the event that earned it and the ones
            // before it are not held (those it already applied are acknowledged as duplicates).
            for event in batch {
                do {
                    try await deliver(destination, [event])
                } catch is CancellationError {
                    throw CancellationError()
                } catch {
                    if try await recordFailure(of: event, error: error, destinationFailures: failures, in: tx) {
                        handled += 1
                        continue
                    }
                    return Pass(handled: handled, more: false)
                }
                try Task.checkCancellation()
                try await markDelivered([event], in: tx)
                handled += 1
            }
            try await resetDestination(destination, in: tx)
            return Pass(handled: handled, more: more)
        }
        try Task.checkCancellation()
        try await markDelivered(batch, in: tx)
        if failures > 0 || handled > 0 { try await resetDestination(destination, in: tx) }
        return Pass(handled: handled + batch.count, more: more)
    }

    /// Sent with the pass's next statement or its COMMIT (#21): nothing waits for it, and if it
    /// fails the pass commits nothing, so the rows are delivered again (consumers deduplicate).
    /// Deleted, or marked and kept (`Configuration.keepsDelivered`).
    private func markDelivered(_ events: [OutboxEvent], in tx: PostgresConnection) async throws {
        let seqs = events.compactMap(\.sequence)
        if configuration.keepsDelivered {
            try await tx.executeWithNext(
                "UPDATE outbox SET delivered_at = now(), attempts = attempts + 1, last_error = NULL WHERE seq = ANY(\(SQLArray(seqs)))")
        } else {
            try await tx.executeWithNext("DELETE FROM outbox WHERE seq = ANY(\(SQLArray(seqs)))")
        }
    }

    private func resetDestination(_ destination: String, in tx: PostgresConnection) async throws {
        try await tx.executeWithNext(
            "UPDATE outbox_destinations SET attempts = 0, last_error = NULL, next_attempt_at = now() WHERE destination = \(destination)")
    }

    /// Records a failed delivery of `event` (the head of what was sent). Returns true when the event
    /// was dead-lettered (the destination may go on at once), false when the destination now backs
    /// off with `event` still at its head.
    private func recordFailure(of event: OutboxEvent, error: any Error, destinationFailures failures: Int, in tx: PostgresConnection) async throws -> Bool {
        guard let seq = event.sequence else { return false }
        let message = String(describing: error)
        let refusal = error as? DeliveryRefused
        let counted = try await tx.query(
            """
            UPDATE outbox SET attempts = attempts + 1, last_error = \(message), first_failed_at = COALESCE(first_failed_at, now()),
                refusals = refusals + \(refusal == nil ? 0 : 1)
            WHERE seq = \(seq) RETURNING refusals
            """)
        let refusals = try counted.first?.decode("refusals", as: Int.self) ?? 0
        switch refusal?.rule {
        case .permanent?:
            try await deadLetter(event, size: configuration.encodedSize(event), reason: "refused: \(message)", in: tx)
            return true
        case .counted? where refusals >= configuration.maximumRefusals:
            try await deadLetter(event, size: configuration.encodedSize(event), reason: "refused \(refusals) times, last: \(message)", in: tx)
            return true
        default:
            let delay = backoff(afterFailures: failures + 1)
            logger.warning(
                "outbox delivery failed; backing off",
                metadata: ["destination": "\(event.destination)", "delay": "\(delay)", "error": "\(message)", "refusals": "\(refusals)"])
            try await tx.execute(
                """
                UPDATE outbox_destinations SET attempts = attempts + 1, last_error = \(message),
                    next_attempt_at = now() + make_interval(secs => \(delay))
                WHERE destination = \(event.destination)
                """)
            return false
        }
    }

    /// Moves `event` to the dead letters and says so at error level (an operator must look: the
    /// event's effect is missing at its destination until it is replayed). The payload is not
    /// logged; it may hold personal data.
    private func deadLetter(_ event: OutboxEvent, size: Int, reason: String, in tx: PostgresConnection) async throws {
        guard let seq = event.sequence else { return }
        try await DeadLetters.move(seq: seq, size: size, reason: reason, in: tx)
        logger.error(
            "outbox event dead-lettered; later events of its destination go on without it (oneseal outbox dead-letters / replay)",
            metadata: [
                "id": "\(seq)", "event_id": "\(event.id)", "destination": "\(event.destination)", "type": "\(event.type)",
                "size": "\(size)", "reason": "\(reason)",
            ])
    }

    /// Full-jitter exponential backoff in seconds: uniform in [cap/2, cap], cap = min(max, initial·2^(n−1)).
    func backoff(afterFailures failures: Int) -> Double {
        let initial = configuration.initialBackoff.inSeconds
        let ceiling = min(configuration.maxBackoff.inSeconds, initial * pow(2, Double(min(failures - 1, 30))))
        return Double.random(in: (ceiling / 2)...max(ceiling, ceiling / 2 + 0.000_001))
    }
}
