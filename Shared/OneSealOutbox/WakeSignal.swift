import Synchronization

/// Wakes idle relay workers when work may be available (a NOTIFY arrived), or after a timeout (and
/// intake's WatchApplication streams when their application changed).
/// A signal sent while nobody waits is remembered once, so a wake-up between "found nothing" and
/// "start waiting" is not lost.
public final class WakeSignal: Sendable {
    private struct State {
        var pending = false
        var shutdown = false
        var nextID = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    public var isShutdown: Bool { state.withLock { $0.shutdown } }

    public func signal() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            if state.waiters.isEmpty {
                state.pending = true
                return []
            }
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    public func shutdown() {
        state.withLock { $0.shutdown = true }
        signal()
    }

    /// Forgets a signal no one has waited for yet (the waiter is about to look for itself).
    public func clear() {
        state.withLock { $0.pending = false }
    }

    /// Returns on a signal, after `timeout`, or on cancellation — whichever comes first.
    public func wait(timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: timeout) }
            group.addTask { await self.waitForSignal() }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForSignal() async {
        let id = state.withLock { state -> Int in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.pending || state.shutdown || Task.isCancelled {
                        state.pending = false
                        return true
                    }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }
}
