import Foundation
import GRPCCore
import IntakeRules
import Logging
import OneSealAuth
import OneSealCore
import OneSealOutbox
import OneSealProto
import OneSealServiceKit
import OneSealStore
import ServiceLifecycle
import Synchronization

/// Tells WatchApplication streams that their application changed, so a waiting front-end is
/// answered once per change instead of polling GetApplication (two commits a poll: the read and
/// its personal-data read log).
///
/// Every UPDATE that moves an application's revision NOTIFYs `intake_application_changed` with its
/// id and the writing transaction's id — migrations 0009 and 0011's trigger, inside the writing
/// transaction, so it costs no commit and no write path can forget it. One LISTEN connection per
/// process hands each notification to the watches of that id. A notification is lost while the LISTEN connection reconnects, so every
/// watch also re-reads its application every `recheckInterval` (a read, never a logged view,
/// unless the revision moved). Graceful shutdown ends every watch (its stream ends OK and the
/// client calls again), so draining the server never waits for a watch's time limit.
///
/// A view handed over by the write (#21): once a watch has read its application (and so knows
/// who reads and whether in full), a change written by this process logs that watch's read in
/// the writing transaction and hands the new state to the watch (`readers`, `handOff`). The
/// trigger's NOTIFY names the transaction that committed it; a watch whose handed state came from
/// that transaction sends it without reading or logging anything more. A handed state whose
/// transaction rolled back is never named by a NOTIFY and is not sent; a change by another
/// process (or by hand) is read as before. A view was a commit of its own: a read and its read-log row.
///
/// A watch's first read spared (#21): the process also keeps the state it last wrote of each
/// application (`wrote`), marked committed when the NOTIFY naming its transaction arrives and
/// forgotten when a NOTIFY names any other. A watch opened at exactly that revision — a front-end
/// that has just accepted, forwarded or delivered and now waits — is authorized on that state and
/// sends nothing, as its read would have found nothing new; the watch is registered before the
/// look, so a change committed meanwhile elsewhere wakes it and is read as usual.
public final class ApplicationWatches: Service, Sendable {
    static let channel = "intake_application_changed"

    /// One watch's wake-up, registered before its first read so no change falls between the two.
    public struct Watch: Sendable {
        let application: UUID
        let number: Int
        let wake: WakeSignal
    }

    /// A state of an application this process wrote, with the writing transaction's id and
    /// whether its NOTIFY (so its COMMIT) has been heard.
    private struct Written {
        var transaction: Substring
        var application: StoredApplication
        var committed = false
    }

    /// A watch that has read its application: who reads (nil: not in full, nothing to log) and
    /// the state a write handed over.
    private struct Reader {
        var entry: ApplicationStore.ReadLogEntry?
        var handed: Written?
    }

    private struct State {
        var nextNumber = 0
        var watches: [UUID: [Int: WakeSignal]] = [:]
        var readers: [Int: Reader] = [:]
        var written: [UUID: Written] = [:]
        var count = 0
        var closed = false
    }

    private let state = Mutex(State())
    let database: PostgresClient
    /// Open watches at most per process (ONESEAL_MAX_WATCHES): each holds a stream and a waiter,
    /// not a database connection; past it a new watch is RESOURCE_EXHAUSTED.
    let limit: Int
    let recheckInterval: Duration
    /// Written states kept at most (the applications being worked on; past it they are
    /// forgotten at once and the next watches read as before).
    let writtenCapacity: Int
    let logger: Logger

    public init(database: PostgresClient, limit: Int = 4096, recheckInterval: Duration = .seconds(15), writtenCapacity: Int = 1024, logger: Logger) {
        self.database = database
        self.limit = limit
        self.writtenCapacity = writtenCapacity
        self.recheckInterval = recheckInterval
        self.logger = logger
    }

    /// How many watches are open now.
    public var count: Int { state.withLock { $0.count } }

    /// Registers a watch of `application`; RESOURCE_EXHAUSTED at the limit, UNAVAILABLE when the
    /// service is shutting down.
    func open(_ application: UUID) throws -> Watch {
        let wake = WakeSignal()
        let number = try state.withLock { state -> Int in
            guard !state.closed else { throw RPCError(code: .unavailable, message: "the intake service is shutting down; call again") }
            guard state.count < limit else {
                throw RPCError(code: .resourceExhausted, message: "this intake service holds its most watches (\(limit)); poll GetApplication or call again later")
            }
            state.nextNumber += 1
            state.count += 1
            state.watches[application, default: [:]][state.nextNumber] = wake
            return state.nextNumber
        }
        return Watch(application: application, number: number, wake: wake)
    }

    func close(_ watch: Watch) {
        state.withLock { state in
            state.readers[watch.number] = nil
            guard state.watches[watch.application]?.removeValue(forKey: watch.number) != nil else { return }
            state.count -= 1
            if state.watches[watch.application]?.isEmpty == true { state.watches[watch.application] = nil }
        }
    }

    /// `watch` has read its application as `entry` says (nil: not in full): from now on a write
    /// of this process may log its read and hand it the new state.
    func reading(_ watch: Watch, as entry: ApplicationStore.ReadLogEntry?) {
        state.withLock { state in
            guard state.watches[watch.application]?[watch.number] != nil else { return }
            state.readers[watch.number] = Reader(entry: entry)
        }
    }

    /// The watches of `application` a write may hand its new state to, with the read each logs.
    func readers(of application: UUID) -> [(number: Int, entry: ApplicationStore.ReadLogEntry?)] {
        state.withLock { state in
            (state.watches[application] ?? [:]).keys.compactMap { number in state.readers[number].map { (number, $0.entry) } }
        }
    }

    /// Hands `application` — written, with the reads of `numbers` logged, by `transaction` — to
    /// those watches; sent once a NOTIFY says that transaction committed.
    func handOff(_ application: StoredApplication, transaction: String, to numbers: [Int]) {
        state.withLock { state in
            for number in numbers where state.readers[number] != nil {
                state.readers[number]?.handed = Written(transaction: Substring(transaction), application: application)
            }
        }
    }

    /// `application` as `transaction` wrote it (not yet known to have committed).
    func wrote(_ application: StoredApplication, transaction: String) {
        guard !transaction.isEmpty else { return }
        state.withLock { state in
            if state.written.count >= writtenCapacity, state.written[application.id] == nil { state.written.removeAll(keepingCapacity: true) }
            state.written[application.id] = Written(transaction: Substring(transaction), application: application)
        }
    }

    /// The state this process last wrote of `application` (nil: none, or another write was heard
    /// since); `committed` once the NOTIFY of its own transaction arrived — only then is it known
    /// to be the current state.
    func lastWritten(_ application: UUID) -> (application: StoredApplication, committed: Bool)? {
        state.withLock { state in state.written[application].map { ($0.application, $0.committed) } }
    }

    /// The state handed to `watch` by a transaction known to have committed, taken once.
    func takeHanded(_ watch: Watch) -> StoredApplication? {
        state.withLock { state in
            guard let handed = state.readers[watch.number]?.handed, handed.committed else { return nil }
            state.readers[watch.number]?.handed = nil
            return handed.application
        }
    }

    /// Wakes the watches of the application a notification names. Its payload is the id and the
    /// committing transaction's id (`<uuid>:<xid>`); a state handed over by that transaction may
    /// now be sent. A bare id (migration 0009's form) only wakes.
    func changed(_ payload: String) {
        let utf8 = payload.utf8
        guard utf8.count >= 36, utf8.count <= 64, let id = UUID(uuidString: String(payload.prefix(36))) else { return }
        let transaction = payload.dropFirst(37)
        let wakes = state.withLock { state -> [WakeSignal] in
            let watches = state.watches[id] ?? [:]
            // The write this process knows is current only while no other transaction is heard.
            if state.written[id]?.transaction == transaction, !transaction.isEmpty {
                state.written[id]?.committed = true
            } else {
                state.written[id] = nil
            }
            if !transaction.isEmpty {
                for number in watches.keys where state.readers[number]?.handed?.transaction == transaction {
                    state.readers[number]?.handed?.committed = true
                }
            }
            return Array(watches.values)
        }
        for wake in wakes { wake.signal() }
    }

    /// Wakes every watch: after a (re)LISTEN, whatever changed meanwhile was not notified, so
    /// no written state is known to be current any more.
    func changedAll() {
        for wake in state.withLock({ state -> [WakeSignal] in
            state.written.removeAll()
            return state.watches.values.flatMap(\.values)
        }) { wake.signal() }
    }

    /// Forgets every written state: no NOTIFY is heard to say another write came.
    func forgetWritten() {
        state.withLock { $0.written.removeAll() }
    }

    /// Ends every watch and refuses new ones (graceful shutdown).
    func shutdown() {
        let wakes = state.withLock { state -> [WakeSignal] in
            state.closed = true
            return state.watches.values.flatMap(\.values)
        }
        for wake in wakes { wake.shutdown() }
    }

    public func run() async throws {
        await withGracefulShutdownHandler {
            await cancelWhenGracefulShutdown { await self.listen() }
        } onGracefulShutdown: {
            self.shutdown()
        }
        shutdown()
        forgetWritten()
    }

    private func listen() async {
        while !Task.isCancelled {
            do {
                let notifications = try await database.listen(channel: Self.channel)
                changedAll()
                for await notification in notifications {
                    switch notification.interruption {
                    case nil: changed(notification.payload)
                    case .resumed: changedAll()
                    case .lost: forgetWritten()  // unheard from now on: nothing known current
                    }
                }
            } catch {
                logger.warning("application watches cannot LISTEN; each watch re-reads on its interval", metadata: ["error": "\(error)"])
            }
            forgetWritten()
            try? await Task.sleep(for: .seconds(1))
        }
    }
}

extension IntakeAPI {
    /// The longest a watch may be asked to last, and the default.
    static let watchSeconds = (default: 600, maximum: 3600)

    public func watchApplication(
        request: Intake_WatchApplicationRequest, response: RPCWriter<Intake_WatchApplicationResponse>, context: ServerContext
    ) async throws {
        let caller = try ServerContext.requireCaller()
        let id = try Self.parseID(request.applicationID)
        var violations: [FieldViolation] = []
        if request.knownRevision < 0 {
            violations.append(FieldViolation(field: "known_revision", description: "must not be negative", reason: "out_of_range"))
        }
        if request.maxWaitSeconds < 0 || request.maxWaitSeconds > Self.watchSeconds.maximum {
            violations.append(FieldViolation(field: "max_wait_seconds", description: "0 (= \(Self.watchSeconds.default)) to \(Self.watchSeconds.maximum)", reason: "out_of_range"))
        }
        guard violations.isEmpty else { throw IntakeRuleError.invalidArgument(violations) }
        let seconds = request.maxWaitSeconds == 0 ? Self.watchSeconds.default : Int(request.maxWaitSeconds)
        let deadline = ContinuousClock.now.advanced(by: .seconds(seconds))

        let watch = try watches.open(id)
        defer { watches.close(watch) }
        var shown = request.knownRevision
        // Whether this caller reads the application in full (a logged read): learnt at the first
        // read, which authorizes before anything is logged.
        var inFull: Bool?
        while true {
            // Who may watch is who may read, checked at every read; a view is sent (and its
            // read logged, in the read's own commit) only when the revision moved.
            let view: Intake_Application?
            if let inFull {
                view = try await laterView(of: id, by: caller, inFull: inFull, shown: shown, handed: watches.takeHanded(watch))
            } else if shown > 0, let known = await knownCurrent(id, revision: shown, watch: watch) {
                // Nothing new to send and nothing read: authorized on the state this process
                // wrote and knows to be current (ApplicationWatches.lastWritten).
                try authorize(.read, on: known, by: caller)
                let full = disclosure(of: known, for: caller) == .full
                inFull = full
                view = nil
                watches.reading(watch, as: full ? readLogEntry(caller, purpose: "watch") : nil)
            } else {
                (view, inFull) = try await database.withTransaction { connection -> (Intake_Application?, Bool) in
                    guard let application = try await ApplicationStore.find(id: id, on: connection) else { throw Self.notFound("no such application") }
                    try authorize(.read, on: application, by: caller)
                    let full = disclosure(of: application, for: caller) == .full
                    guard application.revision != shown else { return (nil, full) }
                    return (try await self.view(application, for: caller, purpose: "watch", on: connection), full)
                }
                watches.reading(watch, as: inFull == true ? readLogEntry(caller, purpose: "watch") : nil)
            }
            if let view {
                try await response.write(.with { $0.application = view })
                shown = view.revision
                if [.notAccepted, .delivered, .withdrawn].contains(view.status) { return }
            }
            let left = deadline - ContinuousClock.now
            guard left > .zero, !watch.wake.isShutdown else { return }
            await watch.wake.wait(timeout: min(left, watches.recheckInterval))
            guard !watch.wake.isShutdown, !Task.isCancelled else { return }
        }
    }

    /// The application as this process last wrote it, when that is `revision` and known current;
    /// a write whose NOTIFY is still on its way is waited for briefly (it follows the COMMIT the
    /// caller's answer followed), on the watch's own wake-up.
    private func knownCurrent(_ id: UUID, revision: Int64, watch: ApplicationWatches.Watch) async -> StoredApplication? {
        for attempt in 0..<2 {
            guard let (known, committed) = watches.lastWritten(id), known.revision == revision else { return nil }
            if committed { return known }
            guard attempt == 0 else { return nil }
            await watch.wake.wait(timeout: .milliseconds(50))
        }
        return nil
    }

    /// A view after the watch's first: the read and its read-log row in one autocommitted
    /// statement, the row written only when the revision moved (#21: a view was four statements
    /// and two round trips more). The first read authorized this caller before any row was
    /// logged, and what the rule compares — the applicant's and agent's blind indexes, the
    /// submitter, the node, the node forwarded to — is fixed once an application exists (or, for
    /// the forwarding, only ever added), so the row is written before the check is repeated here.
    /// Should the repeated check disagree, the call fails (the row then records an attempt by a
    /// caller who was allowed when the watch began), and a read found to be in full after all is
    /// logged on its own before it is sent: never shown unlogged.
    ///
    /// `handed` is a state a committed write of this process handed over with this read already
    /// logged in its transaction (`ApplicationWatches.handOff`): sent without a read, when newer.
    private func laterView(of id: UUID, by caller: Caller, inFull: Bool, shown: Int64, handed: StoredApplication?) async throws -> Intake_Application? {
        let application: StoredApplication
        if let handed, handed.revision > shown {
            application = handed
        } else {
            let entry = inFull ? readLogEntry(caller, purpose: "watch") : nil
            guard let found = try await database.withConnection({
                try await ApplicationStore.find(id: id, loggingRead: entry, unlessRevision: shown, on: $0)
            }) else { throw Self.notFound("no such application") }
            application = found
        }
        try authorize(.read, on: application, by: caller)
        guard application.revision != shown else { return nil }
        let (view, full) = try disclosed(application, for: caller)
        if full, !inFull {
            try await database.withConnection { try await logReads(of: [id], by: caller, purpose: "watch", on: $0) }
        }
        return view
    }
}
