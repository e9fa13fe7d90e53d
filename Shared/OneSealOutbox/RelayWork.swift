import Synchronization

/// What the relay's workers of this replica have to do: the destinations NOTIFYs named (first
/// named, first served), whether a full scan is due, and which destinations a worker is on now.
///
/// A named destination is taken off the list when a worker starts on it, before it reads the
/// rows: a row committed after that read sends a NOTIFY that names it again, so nothing written
/// is left waiting for the poll. A destination a worker of this replica is on is not handed to
/// a second worker (that one's claim would be skipped and the name dropped, while the first may
/// have read before the new row); it stays named until the first is done.
///
/// A paced destination (``OutboxRelay/Configuration/pace``) is handed out at most once per its
/// pace: named again sooner, it waits, and what is written meanwhile goes in the same batch. A
/// pass that left rows behind (`more`) is followed at once, so a backlog drains at full speed.
final class RelayWork: Sendable {
    enum Job: Sendable, Hashable {
        case destination(String)
        case scan
    }

    /// What a worker does next: a job, or wait for a wake-up — at the latest `until`, when a
    /// paced destination named meanwhile falls due (nil: nothing is pending).
    enum Next: Sendable, Hashable {
        case job(Job)
        case idle(until: ContinuousClock.Instant?)
    }

    private struct State {
        var named: [String] = []
        var isNamed: Set<String> = []
        var busy: Set<String> = []
        var scanDue = false
        var scanning = false
        /// When a worker last started on each paced destination.
        var lastStart: [String: ContinuousClock.Instant] = [:]
        /// Paced destinations whose last pass left rows behind: due at once.
        var backlogged: Set<String> = []
    }

    private let state = Mutex(State())
    private let pace: @Sendable (String) -> Duration

    init(pace: @escaping @Sendable (String) -> Duration = { _ in .zero }) {
        self.pace = pace
    }

    /// A NOTIFY on the outbox channel: its payload names destinations one per line; an empty
    /// payload (a writer that did not name them, or too many to fit) asks for a full scan.
    func note(_ payload: String) {
        let destinations = payload.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        state.withLock { state in
            if destinations.isEmpty {
                state.scanDue = true
                return
            }
            for destination in destinations where state.isNamed.insert(destination).inserted {
                state.named.append(destination)
            }
        }
    }

    func requestScan() {
        state.withLock { $0.scanDue = true }
    }

    /// The next job for a worker at `now`: the first named destination no worker is on and whose
    /// pace allows it, else a scan if one is due and none runs, else idle until the first paced
    /// destination falls due.
    func next(at now: ContinuousClock.Instant) -> Next {
        state.withLock { state -> Next in
            var due: ContinuousClock.Instant?
            for (index, destination) in state.named.enumerated() where !state.busy.contains(destination) {
                let interval = pace(destination)
                if interval > .zero, !state.backlogged.contains(destination), let last = state.lastStart[destination], last + interval > now {
                    due = min(due ?? last + interval, last + interval)
                    continue
                }
                state.named.remove(at: index)
                state.isNamed.remove(destination)
                state.busy.insert(destination)
                state.backlogged.remove(destination)
                if interval > .zero { state.lastStart[destination] = now }
                return .job(.destination(destination))
            }
            if state.scanDue && !state.scanning {
                state.scanDue = false
                state.scanning = true
                return .job(.scan)
            }
            return .idle(until: due)
        }
    }

    /// A scan's pass worked on `destination`, starting at `start`: it counts towards the pace.
    func passed(_ destination: String, at start: ContinuousClock.Instant) {
        guard pace(destination) > .zero else { return }
        state.withLock { $0.lastStart[destination] = start }
    }

    /// A worker is done with `job`; `more`: the destination (or, for a scan, some destination) may
    /// still hold due rows, so the job is queued again.
    func finished(_ job: Job, more: Bool) {
        state.withLock { state in
            switch job {
            case .destination(let destination):
                state.busy.remove(destination)
                if more { state.backlogged.insert(destination) }
                if more, state.isNamed.insert(destination).inserted { state.named.append(destination) }
            case .scan:
                state.scanning = false
                if more { state.scanDue = true }
            }
        }
    }
}
