import Synchronization

/// The streams open on one server, over all its connections, against
/// `WireConfiguration.maximumServerStreams`.
///
/// Why: the per-connection limit alone let one client multiply it by as many connections as it
/// liked (16 × 4096 streams took a node from 0.8 to 2.1 GB). Each accepted call takes one unit
/// and gives it back when its connection handler forgets it, whatever way the call ended.
final class ServerStreamBudget: Sendable {
    let maximum: Int
    private let used = Atomic<Int>(0)

    init(maximum: Int) {
        self.maximum = maximum
    }

    /// Takes one unit; false (and nothing taken) when all are in use.
    func tryAcquire() -> Bool {
        var current = self.used.load(ordering: .relaxed)
        while current < self.maximum {
            let (exchanged, original) = self.used.compareExchange(
                expected: current, desired: current + 1, ordering: .acquiringAndReleasing
            )
            if exchanged { return true }
            current = original
        }
        return false
    }

    func release() {
        self.used.subtract(1, ordering: .acquiringAndReleasing)
    }

    /// Units in use now (tests, metrics).
    var inUse: Int { self.used.load(ordering: .relaxed) }
}
