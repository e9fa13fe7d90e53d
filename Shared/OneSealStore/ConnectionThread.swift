import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A dedicated OS thread per pooled connection, usable as a Swift `TaskExecutor`.
///
/// `withConnection` prefers this executor for the lease, so the caller's closure runs on the
/// connection's own thread and libpq calls made there execute inline — blocking only this
/// thread, never a NIO event loop or the cooperative pool — instead of paying a round trip to a
/// thread pool per statement. Calls made from anywhere else (e.g. an actor-isolated caller) still
/// go through the blocking thread pool.
final class ConnectionThread: TaskExecutor, Sendable {
    private let queue = Mutex<(jobs: [UnownedJob], stopped: Bool)>(([], false))
    private let condition = NSCondition()
    private let threadID = Atomic<UInt>(0)

    init() {
        let thread = Thread { [self] in self.loop() }
        thread.name = "oneseal-pg-connection"
        thread.start()
    }

    /// True when called on this executor's thread.
    var isCurrent: Bool {
        threadID.load(ordering: .acquiring) == UInt(bitPattern: pthreadID())
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        let accepted = queue.withLock { state -> Bool in
            guard !state.stopped else { return false }
            state.jobs.append(job)
            return true
        }
        condition.signal()
        condition.unlock()
        if !accepted {
            // The connection is closed and its thread gone (or going); a task that still prefers
            // this executor (e.g. an unstructured task started inside a lease) runs elsewhere.
            globalConcurrentExecutor.enqueue(ExecutorJob(job))
        }
    }

    /// Lets the thread exit once its queue is empty.
    func stop() {
        condition.lock()
        queue.withLock { $0.stopped = true }
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        threadID.store(UInt(bitPattern: pthreadID()), ordering: .releasing)
        // Two buffers swapped back and forth, so taking the queued jobs allocates nothing.
        var batch: [UnownedJob] = []
        batch.reserveCapacity(4)
        while true {
            condition.lock()
            var stopped = false
            while true {
                stopped = queue.withLock { state in
                    swap(&batch, &state.jobs)
                    return state.stopped
                }
                if !batch.isEmpty || stopped { break }
                condition.wait()
            }
            condition.unlock()
            for job in batch { job.runSynchronously(on: asUnownedTaskExecutor()) }
            if stopped && batch.isEmpty { return }
            batch.removeAll(keepingCapacity: true)
        }
    }
}

private func pthreadID() -> Int {
    #if canImport(Glibc)
    return Int(bitPattern: UInt(pthread_self()))
    #else
    return Int(bitPattern: pthread_self())
    #endif
}
