import Synchronization

/// What the relay's workers of this replica have to do: the destinations NOTIFYs named (first
/// named, first served), whether a full scan is due, and which destinations a worker is on now.
///
/// A worker takes every named destination no other worker is on (up to `destinationsPerPass`) and
/// relays them in one pass, one transaction (#21): the destinations of one event — an approval
/// goes to up to five — arrive in one NOTIFY and leave in one commit.
///
/// A named destination is taken off the list when a worker starts on it, before it reads the
/// rows: a row committed after that read sends a NOTIFY that names it again, so nothing written
/// is left waiting for the poll. A destination a worker of this replica is on is not handed to
/// a second worker (that one's claim would be skipped and the name dropped, while the first may
/// have read before the new row); it stays named until the first is done.
final class RelayWork: Sendable {
    enum Job: Sendable, Hashable {
        /// The destinations to relay in one pass, in the order they were first named.
        case destinations([String])
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
    let destinationsPerPass: Int

    init(destinationsPerPass: Int) {
        self.destinationsPerPass = max(1, destinationsPerPass)
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

    /// The next job for a worker, nil when there is nothing to do: the named destinations no
    /// worker is on (at most `destinationsPerPass`, first named first), else a scan if one is due
    /// and none runs.
    func next() -> Job? {
        state.withLock { state -> Job? in
            var taken: [String] = []
            var kept: [String] = []
            for destination in state.named {
                if taken.count < destinationsPerPass && !state.busy.contains(destination) {
                    taken.append(destination)
                } else {
                    kept.append(destination)
                }
            }
            if !taken.isEmpty {
                state.named = kept
                state.isNamed.subtract(taken)
                state.busy.formUnion(taken)
                return .destinations(taken)
            }
            if state.scanDue && !state.scanning {
                state.scanDue = false
                state.scanning = true
                return .scan
            }
            return nil
        }
    }

    /// A worker is done with the pass over `destinations`; those in `more` may still hold due
    /// rows and are queued again.
    func finishedPass(over destinations: [String], more: Set<String>) {
        state.withLock { state in
            for destination in destinations {
                state.busy.remove(destination)
                if more.contains(destination), state.isNamed.insert(destination).inserted { state.named.append(destination) }
            }
        }
    }

    /// A worker is done with a scan; `more`: some destination may still hold due rows.
    func finishedScan(more: Bool) {
        state.withLock { state in
            state.scanning = false
            if more { state.scanDue = true }
        }
    }
}
