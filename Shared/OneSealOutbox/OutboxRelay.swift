import Foundation
import Logging
import OneSealCore
import OneSealStore
import ServiceLifecycle

/// Delivers outbox rows to their destinations: at least once, in order per destination.
///
/// Each pass locks due destination rows with `FOR UPDATE SKIP LOCKED` (so replicas work on
/// different destinations and never deliver the same rows twice at once), reads each destination's
/// oldest undelivered rows, calls `deliver` (for several destinations at once), and marks them
/// delivered in the same transaction — one commit for the destinations a pass took (#21).
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
            var more: Set<String> = []
            var failed: Set<String> = []
            do {
                switch job {
                case .destinations(let destinations):
                    let passes = try await relayOnce(destinations: destinations)
                    more = Set(passes.filter(\.value.more).keys)
                    failed = Set(passes.filter(\.value.failed).keys)
                case .scan:
                    let started = ContinuousClock.now
                    let (destination, handled) = try await scanOnce()
                    // A pass found by a scan counts towards the destination's pace like any other.
                    if let destination {
                        work.passed(destination, at: started)
                        if handled > 0 { more = [destination] }
                    }
                }
            } catch is CancellationError {
                work.finished(job)
                return
            } catch {
                logger.warning("outbox relay pass failed", metadata: ["error": "\(error)"])
                if case .destinations(let destinations) = job { failed = Set(destinations) }
            }
            work.finished(job, more: more, failed: failed)
        }
    }

    /// What one pass did: how many events left the queue (delivered or dead-lettered), and whether
    /// the destination may still hold due rows (a full page was read, the byte budget cut the batch,
    /// or a dead letter was set aside) — false when it was drained or now backs off.
    public struct Pass: Sendable, Hashable {
        public var handled: Int
        public var more: Bool
        /// Delivery failed (the destination backs off): its next pass goes alone (``RelayWork``).
        public var failed: Bool

        public init(handled: Int, more: Bool, failed: Bool = false) {
            self.handled = handled
            self.more = more
            self.failed = failed
        }
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
            guard let row = claimed.first else { return (nil, 0) }
            let destination = Claimed(destination: try row.decode("destination"), failures: try row.decode("attempts", as: Int.self))
            return (destination.destination, try await relay([destination], in: tx)[destination.destination]?.handled ?? 0)
        }
    }

    /// Runs one pass on `destination` only, which a NOTIFY said has new rows: claims its row by
    /// primary key (skipped when another worker or replica holds it — that one reads the new rows
    /// — or while it backs off) and delivers one batch.
    @discardableResult
    public func relayOnce(destination: String) async throws -> Pass {
        try await relayOnce(destinations: [destination])[destination] ?? Pass(handled: 0, more: false)
    }

    /// One pass over several destinations NOTIFYs named, in one transaction: claims each one's row
    /// by primary key (skipping those another worker or replica holds, or that back off), reads a
    /// batch of each, sends the batches at once, and marks what was delivered in one statement —
    /// one commit for them all (#21). A destination that fails backs off on its own; the others'
    /// deliveries commit. Every destination asked for has a `Pass` in the answer.
    public func relayOnce(destinations: [String]) async throws -> [String: Pass] {
        try await client.withTransaction { tx -> [String: Pass] in
            let rows = try await tx.query(
                """
                SELECT destination, attempts FROM outbox_destinations
                WHERE destination = ANY(\(SQLArray(destinations))) AND next_attempt_at <= now()
                ORDER BY destination
                FOR UPDATE SKIP LOCKED
                """)
            let claimed = try rows.map { Claimed(destination: try $0.decode("destination"), failures: try $0.decode("attempts", as: Int.self)) }
            var passes = claimed.isEmpty ? [:] : try await relay(claimed, in: tx)
            for destination in destinations where passes[destination] == nil { passes[destination] = Pass(handled: 0, more: false) }
            return passes
        }
    }

    /// A destination whose row this pass has locked, with its failures so far.
    private struct Claimed {
        var destination: String
        var failures: Int
    }

    /// One claimed destination's part of a pass, read before anything is sent.
    private struct Prepared {
        var claimed: Claimed
        /// Events that left the queue before sending (heads too large for any batch).
        var handled: Int
        /// What is sent: the longest in-order prefix that fits the byte budget.
        var batch: [OutboxEvent]
        /// A full page was read or the budget cut the batch.
        var more: Bool
    }

    /// One batch of each destination in `claimed`, whose rows `tx` has locked: reads them in one
    /// statement, sends each destination's batch (all at once), then records in `tx` what happened.
    private func relay(_ claimed: [Claimed], in tx: PostgresConnection) async throws -> [String: Pass] {
        let batchSize = configuration.batchSize
        let rows = try await tx.query(
            """
            SELECT o.seq, o.id, o.destination, o.type, o.aggregate_id, o.payload, o.traceparent, o.occurred_at
            FROM unnest(\(SQLArray(claimed.map(\.destination)))::text[]) AS d(name)
            CROSS JOIN LATERAL (
                SELECT seq, id, destination, type, aggregate_id, payload, traceparent,
                       COALESCE(occurred_at, created_at) AS occurred_at FROM outbox
                WHERE destination = d.name AND delivered_at IS NULL
                ORDER BY seq LIMIT \(batchSize)) AS o
            ORDER BY o.destination, o.seq
            """)
        var queues: [String: [(event: OutboxEvent, size: Int)]] = [:]
        for row in rows {
            let event = OutboxEvent(
                id: try row.decode("id"), destination: try row.decode("destination"), type: try row.decode("type"),
                aggregateID: try row.decode("aggregate_id"), payload: try row.decode("payload"),
                traceparent: try row.decode("traceparent"), occurredAt: try row.decode("occurred_at", as: Date.self),
                sequence: try row.decode("seq", as: Int64.self))
            queues[event.destination, default: []].append((event, configuration.encodedSize(event)))
        }
        var prepared: [Prepared] = []
        for destination in claimed {
            var queue = queues[destination.destination] ?? []
            let fullPage = queue.count == batchSize
            var handled = 0
            // A head too large for any batch would be refused forever: set it aside, go on behind it.
            while let head = queue.first, head.size > configuration.maximumBatchBytes {
                try await deadLetter(
                    head.event, size: head.size,
                    reason: "too large: \(head.size) bytes encoded, a batch may hold \(configuration.maximumBatchBytes)", in: tx)
                queue.removeFirst()
                handled += 1
            }
            var batch: [OutboxEvent] = []
            var bytes = 0
            for (event, size) in queue {
                guard batch.isEmpty || bytes + size <= configuration.maximumBatchBytes else { break }
                batch.append(event)
                bytes += size
            }
            prepared.append(Prepared(claimed: destination, handled: handled, batch: batch, more: fullPage || batch.count < queue.count))
        }
        // A cancelled relay starts no delivery: its transaction is about to roll back, so what it
        // sent would be sent again by whoever claims the destination next.
        try Task.checkCancellation()
        let outcomes = await send(prepared.filter { !$0.batch.isEmpty })
        if outcomes.values.contains(where: { $0 is CancellationError }) { throw CancellationError() }  // roll back: the rows stay undelivered
        var passes: [String: Pass] = [:]
        var delivered: [OutboxEvent] = []
        for part in prepared {
            let destination = part.claimed.destination
            guard !part.batch.isEmpty else {
                if part.handled > 0 { try await resetDestination(destination, in: tx) }
                passes[destination] = Pass(handled: part.handled, more: part.more)
                continue
            }
            if let error = outcomes[destination] {
                passes[destination] = try await recover(part, from: error, in: tx)
                continue
            }
            delivered += part.batch
            if part.claimed.failures > 0 || part.handled > 0 { try await resetDestination(destination, in: tx) }
            passes[destination] = Pass(handled: part.handled + part.batch.count, more: part.more)
        }
        try Task.checkCancellation()
        if !delivered.isEmpty { try await markDelivered(delivered, in: tx) }
        return passes
    }

    /// Sends each part's batch, all at once; the error of each destination whose delivery failed.
    private func send(_ parts: [Prepared]) async -> [String: any Error] {
        if parts.count == 1, let part = parts.first {
            do {
                try await deliver(part.claimed.destination, part.batch)
                return [:]
            } catch {
                return [part.claimed.destination: error]
            }
        }
        return await withTaskGroup(of: (String, (any Error)?).self) { group in
            for part in parts {
                group.addTask {
                    do {
                        try await deliver(part.claimed.destination, part.batch)
                        return (part.claimed.destination, nil)
                    } catch {
                        return (part.claimed.destination, error)
                    }
                }
            }
            var failed: [String: any Error] = [:]
            for await (destination, error) in group {
                if let error { failed[destination] = error }
            }
            return failed
        }
    }

    /// A destination whose batch failed with `error`: records the failure of its head (backing off,
    /// or dead-lettering it), or — when the consumer refused something in a batch of several but
    /// not which event — delivers them one at a time, in order, so the refusal lands on the event
    /// that earned it and the ones before it are not held (those it already applied are
    /// acknowledged as duplicates).
    private func recover(_ part: Prepared, from error: any Error, in tx: PostgresConnection) async throws -> Pass {
        let destination = part.claimed.destination
        var handled = part.handled
        guard error is DeliveryRefused, part.batch.count > 1 else {
            if try await recordFailure(of: part.batch[0], error: error, destinationFailures: part.claimed.failures, in: tx) {
                try await resetDestination(destination, in: tx)
                return Pass(handled: handled + 1, more: true, failed: true)
            }
            return Pass(handled: handled, more: false, failed: true)
        }
        for event in part.batch {
            do {
                try await deliver(destination, [event])
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                if try await recordFailure(of: event, error: error, destinationFailures: part.claimed.failures, in: tx) {
                    handled += 1
                    continue
                }
                return Pass(handled: handled, more: false, failed: true)
            }
            try Task.checkCancellation()
            try await markDelivered([event], in: tx)
            handled += 1
        }
        try await resetDestination(destination, in: tx)
        return Pass(handled: handled, more: part.more)
    }

    /// Sent with the pass's next statement or its COMMIT (#21): nothing waits for it, and if it
    /// fails the pass commits nothing, so the rows are delivered again (consumers deduplicate).
    private func markDelivered(_ events: [OutboxEvent], in tx: PostgresConnection) async throws {
        let seqs = events.compactMap(\.sequence)
        try await tx.executeWithNext(
            "UPDATE outbox SET delivered_at = now(), attempts = attempts + 1, last_error = NULL WHERE seq = ANY(\(SQLArray(seqs)))")
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
