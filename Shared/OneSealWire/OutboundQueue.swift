import GRPCCore
import NIOCore
import Synchronization

/// What the calls of one client connection ask its event loop to do, in order.
enum ClientOutboundOp: Sendable {
    /// A request part; the first (`.metadata`) registers the call and writes its Open.
    case part(RPCRequestPart<[UInt8]>, call: ClientCallInfo)
    case halfClose(token: UInt64)
    case cancel(token: UInt64, reason: String)
}

/// What the handlers of one server connection ask its event loop to do, in order.
enum ServerOutboundOp: Sendable {
    case part(RPCResponsePart<[UInt8]>, streamID: UInt32)
    case finish(streamID: UInt32, error: (any Error)?)
}

/// Hands work from call tasks to a connection's event loop with one hop per batch instead of one
/// per part.
///
/// Every writer of every call on the connection appends here; only the append that finds the
/// queue idle schedules an `execute`, and that one loop task runs everything queued by then and
/// flushes once. Under load the parts of many concurrent calls (Open + Message + HalfClose of a
/// unary call, Headers + Message + Close of its answer) leave in one write, and the cross-thread
/// cost (a closure, NIO's task-queue locks, possibly an eventfd wake-up) is paid per batch.
/// FIFO: the parts of one call keep their order, and so do parts of different calls.
final class OutboundQueue<Op: Sendable>: Sendable {
    private struct Pending {
        var ops: [Op] = []
        /// A drain is scheduled on the loop and has not yet taken the ops.
        var scheduled = false
    }

    private let pending = Mutex(Pending())
    private let eventLoop: any EventLoop
    /// Runs on the event loop with everything queued since the last drain.
    private let perform: @Sendable ([Op]) -> Void

    init(eventLoop: any EventLoop, perform: @escaping @Sendable ([Op]) -> Void) {
        self.eventLoop = eventLoop
        self.perform = perform
    }

    func enqueue(_ op: Op) {
        let schedule = self.pending.withLock { pending -> Bool in
            pending.ops.append(op)
            guard !pending.scheduled else { return false }
            pending.scheduled = true
            return true
        }
        if schedule { self.eventLoop.execute { self.drain() } }
    }

    private func drain() {
        let ops = self.pending.withLock { pending -> [Op] in
            pending.scheduled = false
            var ops: [Op] = []
            ops.reserveCapacity(pending.ops.count)
            swap(&ops, &pending.ops)
            return ops
        }
        if !ops.isEmpty { self.perform(ops) }
    }
}
