import Synchronization

/// What the relay's workers of this replica have to do: the destinations NOTIFYs named (first
/// named, first served), whether a full scan is due, and which destinations a worker is on now.
///
/// A named destination is taken off the list when a worker starts on it, before it reads the
/// rows: a row committed after that read sends a NOTIFY that names it again, so nothing written
/// is left waiting for the poll. A destination a worker of this replica is on is not handed to
/// a second worker (that one's claim would be skipped and the name dropped, while the first may
/// have read before the new row); it stays named until the first is done.
final class RelayWork: Sendable {
    enum Job: Sendable, Hashable {
        case destination(String)
        case scan
    }

    private struct State {
        var named: [String] = []
        var isNamed: Set<String> = []
        var busy: Set<String> = []
        var scanDue = false
        var scanning = false
    }

    private let state = Mutex(State())

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

    /// The next job for a worker, nil when there is nothing to do: the first named destination no
    /// worker is on, else a scan if one is due and none runs.
    func next() -> Job? {
        state.withLock { state -> Job? in
            if let index = state.named.firstIndex(where: { !state.busy.contains($0) }) {
                let destination = state.named.remove(at: index)
                state.isNamed.remove(destination)
                state.busy.insert(destination)
                return .destination(destination)
            }
            if state.scanDue && !state.scanning {
                state.scanDue = false
                state.scanning = true
                return .scan
            }
            return nil
        }
    }

    /// A worker is done with `job`; `more`: the destination (or, for a scan, some destination) may
    /// still hold due rows, so the job is queued again.
    func finished(_ job: Job, more: Bool) {
        state.withLock { state in
            switch job {
            case .destination(let destination):
                state.busy.remove(destination)
                if more, state.isNamed.insert(destination).inserted { state.named.append(destination) }
            case .scan:
                state.scanning = false
                if more { state.scanDue = true }
            }
        }
    }
}
