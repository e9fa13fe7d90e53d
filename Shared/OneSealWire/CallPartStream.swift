import GRPCCore
import Synchronization

/// The inbound parts of one call (request parts on the server, response parts on the client):
/// the event loop produces them, exactly one task consumes them.
///
/// Why not `AsyncThrowingStream`: the stdlib type is not specialised across the module boundary,
/// and with one per call its yield/next/finish paid for generic-metadata look-ups and a second
/// allocation on every call (the largest single item in the profile, docs/benchmarks.md). This is
/// the same contract cut to what a call needs: an unbounded buffer, one consumer, one stored
/// continuation, all state under one `Mutex`.
///
/// Behaves like `AsyncThrowingStream` where the transport relies on it: elements yielded after
/// `finish` are dropped; buffered elements are delivered before the end (or the error); the error
/// is thrown once, then `nil`; cancelling the consuming task while it waits ends the sequence
/// (`nil`), and so does every later `next()` once the buffer is empty.
final class CallPartStream<Element: Sendable>: Sendable {

    private enum End {
        case finished
        case failed(any Error)
    }

    private struct State {
        /// Buffered elements; `head` is the next one to hand out (an index, not `removeFirst`,
        /// so that a burst costs no shifting).
        var buffer: [Element] = []
        var head = 0
        var end: End?
        /// The producer called `finish` (the call is over on the wire).
        var producerFinished = false
        /// The consumer's owner called `abandon`.
        var abandoned = false
        /// The consumer, suspended in `next()` with an empty buffer.
        var waiter: UnsafeContinuation<Element?, any Error>?

        mutating func take() -> Element? {
            guard self.head < self.buffer.count else { return nil }
            let element = self.buffer[self.head]
            self.head += 1
            if self.head == self.buffer.count {
                self.buffer.removeAll(keepingCapacity: true)
                self.head = 0
            }
            return element
        }

        /// What `next()` answers without waiting: an element, the end, or nil (must wait).
        mutating func immediate() -> Result<Element?, any Error>? {
            if let element = self.take() { return .success(element) }
            switch self.end {
            case .none: return nil
            case .finished: return .success(nil)
            case .failed(let error):
                self.end = .finished
                return .failure(error)
            }
        }
    }

    private let state = Mutex(State())

    init() {}

    /// A stream that already holds `first` (the server's request metadata).
    init(first: Element) {
        self.state.withLock { $0.buffer.append(first) }
    }

    /// Hands `element` to the consumer, or buffers it. Dropped once the stream has ended.
    func yield(_ element: Element) {
        let waiter = self.state.withLock { state -> UnsafeContinuation<Element?, any Error>? in
            guard case .none = state.end else { return nil }
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.buffer.append(element)
            return nil
        }
        waiter?.resume(returning: element)
    }

    /// Ends the stream after the buffered elements; with an error, the consumer gets it after them.
    func finish(throwing error: (any Error)? = nil) {
        let waiter = self.state.withLock { state -> UnsafeContinuation<Element?, any Error>? in
            state.producerFinished = true
            guard case .none = state.end else { return nil }
            if let waiter = state.waiter {
                // A waiting consumer means the buffer is empty: the end is delivered now.
                state.waiter = nil
                state.end = .finished
                return waiter
            }
            state.end = error.map { .failed($0) } ?? .finished
            return nil
        }
        guard let waiter else { return }
        if let error {
            waiter.resume(throwing: error)
        } else {
            waiter.resume(returning: nil)
        }
    }

    /// The consumer's owner is leaving (the client's caller returned): ends the stream and says
    /// whether the producer had not finished it, i.e. whether the call is still open on the wire
    /// and must be cancelled there. A consumer's task cancellation ending `next()` does not count
    /// as finished. After this, `isClosed` is true, so a request part still on its way to the
    /// event loop does not open the call.
    func abandon() -> Bool {
        let (open, waiter) = self.state.withLock { state -> (Bool, UnsafeContinuation<Element?, any Error>?) in
            guard !state.abandoned else { return (false, nil) }
            state.abandoned = true
            if case .none = state.end { state.end = .finished }
            defer { state.waiter = nil }
            return (!state.producerFinished, state.waiter)
        }
        waiter?.resume(returning: nil)
        return open
    }

    /// Whether the producer finished the stream or its consumer abandoned it.
    var isClosed: Bool {
        self.state.withLock { $0.producerFinished || $0.abandoned }
    }

    func next() async throws -> Element? {
        if let now = self.state.withLock({ $0.immediate() }) { return try now.get() }
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Element?, any Error>) in
                let now = self.state.withLock { state -> Result<Element?, any Error>? in
                    if let now = state.immediate() { return now }
                    if Task.isCancelled {
                        state.end = .finished
                        return .success(nil)
                    }
                    state.waiter = continuation
                    return nil
                }
                if let now { continuation.resume(with: now) }
            }
        } onCancel: {
            let waiter = self.state.withLock { state -> UnsafeContinuation<Element?, any Error>? in
                if case .none = state.end { state.end = .finished }
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(returning: nil)
        }
    }
}

// The sequences GRPCCore iterates, through an `any AsyncIteratorProtocol` existential. They are
// concrete (not `CallPartStream: AsyncSequence`), so the witnesses GRPCCore calls are specialised:
// with the generic conformance every `next()` ran unspecialised code that looked up the generic
// metadata of the stream's state at run time (≈ 5 % of all CPU in `perf`).

/// The response parts of a client call, as GRPCCore reads them.
struct ResponsePartSequence: AsyncSequence, Sendable {
    typealias Element = RPCResponsePart<[UInt8]>
    typealias Failure = any Error

    let stream: CallPartStream<Element>

    struct AsyncIterator: AsyncIteratorProtocol {
        let stream: CallPartStream<Element>

        mutating func next() async throws -> Element? {
            try await self.stream.next()
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(stream: self.stream)
    }
}

/// The request parts of a server call, as GRPCCore reads them.
struct RequestPartSequence: AsyncSequence, Sendable {
    typealias Element = RPCRequestPart<[UInt8]>
    typealias Failure = any Error

    let stream: CallPartStream<Element>

    struct AsyncIterator: AsyncIteratorProtocol {
        let stream: CallPartStream<Element>

        mutating func next() async throws -> Element? {
            try await self.stream.next()
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(stream: self.stream)
    }
}
