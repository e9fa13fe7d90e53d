import NIOCore

/// A connection's event loop as a Swift `TaskExecutor`: a task that prefers it runs its
/// nonisolated code on the loop's thread instead of Swift's global pool.
///
/// Why: a unary call crosses between the event loop and the pool several times (the loop reads the
/// request and wakes the handler's task; the handler's writes wake the loop), and on a small
/// machine each crossing is a thread hand-off, often a futex or eventfd wake-up. A call whose
/// task runs on the loop that reads and writes its frames makes none of them. The price: code of
/// such a task blocks the loop's other I/O while it runs, so it suits short handlers that await
/// their slow work (database, other services) rather than compute it. `WireConfiguration.callExecution`
/// chooses.
///
/// NIO 2.101 gives event loops a `SerialExecutor` but not a `TaskExecutor`; this is the small
/// adapter. Jobs are run as the loop's tasks, in order, on the loop's thread.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        self.eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
