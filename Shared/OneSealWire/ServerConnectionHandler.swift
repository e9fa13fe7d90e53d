import GRPCCore
import Logging
import Metrics
import NIOCore
import NIOSSL
import OneSealProto
import OneSealTLS
import Synchronization
import X509

/// One call accepted on a connection, handed from the event loop to the transport's `listen` loop.
struct AcceptedServerStream: Sendable {
    var stream: RPCStream<ServerTransportInbound, ServerTransportOutbound>
    var cancellation: StreamCancellation
    var remotePeer: String
    var localPeer: String
    /// The client certificate verified in this connection's TLS handshake (nil: none, or no TLS).
    var peerCertificate: Certificate?
}

typealias ServerTransportInbound = RPCAsyncSequence<RPCRequestPart<[UInt8]>, any Error>
typealias ServerTransportOutbound = RPCWriter<RPCResponsePart<[UInt8]>>.Closable

/// Connects the cancellation of a call on the wire (Cancel frame, deadline, lost connection) with
/// the GRPCCore handle of its handler and the task running it, whichever exist first.
final class StreamCancellation: Sendable {
    private struct State {
        var handle: ServerContext.RPCCancellationHandle?
        var task: Task<Void, Never>?
        var cancelled = false
    }

    private let state = Mutex(State())

    /// The task running the call; cancelled at once if the call already was.
    func attach(_ task: Task<Void, Never>) {
        let cancelNow = self.state.withLock { state -> Bool in
            state.task = task
            return state.cancelled
        }
        if cancelNow { task.cancel() }
    }

    /// The call's GRPCCore handle; cancelled at once if the call already was.
    func register(_ handle: ServerContext.RPCCancellationHandle) {
        let cancelNow = self.state.withLock { state -> Bool in
            state.handle = handle
            return state.cancelled
        }
        if cancelNow { handle.cancel() }
    }

    /// The transport ends the call: flag the RPC as cancelled and cancel its task.
    func cancel() {
        let (handle, task) = self.state.withLock { state in
            state.cancelled = true
            return (state.handle, state.task)
        }
        handle?.cancel()
        task?.cancel()
    }

    /// The RPC was cancelled through its GRPCCore handle: cancel the task too.
    func cancelTask() {
        let task = self.state.withLock { state in
            state.cancelled = true
            return state.task
        }
        task?.cancel()
    }
}

/// The server end of one OneSeal TCP connection: decodes frames (below it in the pipeline), asks
/// the state machine what they mean, feeds calls to GRPCCore, and writes responses.
///
/// Writes from handler tasks hop onto the event loop and are coalesced: frames written in the same
/// loop tick share one buffer and one flush, which is what keeps small unary calls cheap.
final class ServerConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = InboundFrame
    typealias OutboundOut = ByteBuffer

    private struct StreamEntry {
        var inbound: CallPartStream<RPCRequestPart<[UInt8]>>
        var cancellation: StreamCancellation
        /// Fires when the call's `Open.timeout_micros` passes; cancelled when the call ends first.
        var deadline: Scheduled<Void>?
        /// The call holds one unit of the server's stream budget, given back when it is forgotten.
        var holdsBudget: Bool
    }

    private var state: ServerConnectionStateMachine
    private let encoder: FrameEncoder
    private let logger: Logger
    private let accept: @Sendable (AcceptedServerStream) -> Bool
    /// Filled by the TLS handshake, which completes before the first frame can be read.
    private let peerCertificate: PeerCertificateBox?
    private let budget: ServerStreamBudget
    private let metrics: WireMetrics
    private let idleTimeout: TimeAmount?
    private var refusalLog: RefusalLogLimiter
    /// When the connection last did something that keeps it alive: accepted, a complete frame
    /// read, or a call ending. The idle timer counts from here.
    private var lastActivity = NIODeadline.now()
    private var idleTimer: Scheduled<Void>?
    private var streams: [UInt32: StreamEntry] = [:]
    private var context: ChannelHandlerContext?
    private var loopBoundSelf: NIOLoopBound<ServerConnectionHandler>?
    /// The handlers' way onto the event loop (batched; see `OutboundQueue`).
    private var outbound: OutboundQueue<ServerOutboundOp>?
    private var pending: ByteBuffer?
    private var flushScheduled = false
    private var closeWhenFlushed = false
    private var remotePeer = "unknown"
    private var localPeer = "unknown"
    /// The descriptors of the methods this connection called, by `Open.method`: parsing the
    /// path and allocating its two strings once per method instead of once per call.
    private var descriptors: [String: MethodDescriptor] = [:]
    /// A client calling ever new method names cannot grow `descriptors` without bound.
    private static let maximumRememberedMethods = 256

    init(
        configuration: WireConfiguration,
        logger: Logger,
        budget: ServerStreamBudget,
        metrics: WireMetrics,
        peerCertificate: PeerCertificateBox? = nil,
        accept: @escaping @Sendable (AcceptedServerStream) -> Bool
    ) {
        self.peerCertificate = peerCertificate
        self.state = ServerConnectionStateMachine(configuration: configuration)
        self.encoder = FrameEncoder(maximumFrameSize: configuration.maximumFrameSize)
        self.logger = logger
        self.budget = budget
        self.metrics = metrics
        self.idleTimeout = configuration.idleTimeout.map(TimeAmount.init)
        self.refusalLog = RefusalLogLimiter(interval: TimeAmount(configuration.refusalLogInterval))
        self.accept = accept
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        self.loopBoundSelf = bound
        self.outbound = OutboundQueue(eventLoop: context.eventLoop) { ops in bound.value.perform(ops) }
        self.remotePeer = context.channel.remoteAddress.map(Self.describe) ?? "unknown"
        self.localPeer = context.channel.localAddress.map(Self.describe) ?? "unknown"
        self.lastActivity = .now()
        self.armIdleTimer(in: self.idleTimeout)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        self.idleTimer?.cancel()
        self.idleTimer = nil
        // `loopBoundSelf` and the outbound queue's closure hold this handler: without letting go
        // here every connection's handler, its stream tables and buffers outlived the connection
        // (#15: memory never came back after the connections closed). Writers of calls still
        // running keep the queue alive until their tasks end; their parts then find no context.
        self.loopBoundSelf = nil
        self.outbound = nil
        self.pending = nil
        self.descriptors = [:]
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = self.unwrapInboundIn(data)
        self.lastActivity = .now()
        switch self.state.receive(frame) {
        case .openStream(let id, let method, let metadata, let timeoutMicros):
            guard self.budget.tryAcquire() else {
                let refusal = self.state.refuse(
                    id, code: .resourceExhausted,
                    message: "too many concurrent streams on this server (maximum \(self.budget.maximum)); retry later"
                )
                self.refuse(refusal)
                return
            }
            self.openStream(id: id, method: method, metadata: metadata, timeoutMicros: timeoutMicros)
        case .deliverMessage(let id, let bytes):
            self.streams[id]?.inbound.yield(.message(bytes))
        case .finishInbound(let id):
            self.streams[id]?.inbound.finish()
        case .cancelStream(let id, let reason):
            // `reason` is escaped by the state machine (WireText).
            self.logger.debug("call cancelled by client", metadata: ["stream": "\(id)", "reason": "\(reason)"])
            self.endStream(id, error: RPCError(code: .cancelled, message: reason))
        case .write(let frame):
            if case .close = frame.kind {
                self.refuse(frame)
            } else {
                self.enqueue(frame)
            }
        case .writeAndCancel(let frame, let id):
            self.refuse(frame)
            self.endStream(id, error: RPCError(code: .internalError, message: "protocol violation by the client"))
        case .peerGoingAway, .none:
            break
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.flushPending()
    }

    func channelInactive(context: ChannelHandlerContext) {
        for id in self.state.connectionClosed() {
            self.endStream(id, error: RPCError(code: .unavailable, message: "connection to the client was lost"))
        }
        // Anything the state machine no longer knew (it never should) is ended all the same, so
        // no handler waits forever and no stream keeps its share of the server's budget.
        for id in Array(self.streams.keys) {
            self.endStream(id, error: RPCError(code: .unavailable, message: "connection to the client was lost"))
        }
        self.idleTimer?.cancel()
        let unlogged = self.refusalLog.finish()
        if unlogged > 0 {
            self.logger.notice(
                "refused frames not logged one by one",
                metadata: ["peer": "\(self.remotePeer)", "count": "\(unlogged)"]
            )
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard !self.closeWhenFlushed else { return }
        // TLS ends the connection itself: a refused certificate (logged with its reason by the
        // transport), a peer that dropped TCP without close_notify, a client that is not TLS. No
        // frame can be sent and none was malformed: not a framing refusal, and not a warning.
        if error is NIOSSLError || error is BoringSSLError {
            self.logger.debug("TLS connection ended", metadata: ["peer": "\(self.remotePeer)", "error": "\(WireText.escaped("\(error)", maximumBytes: 256))"])
            context.close(promise: nil)
            return
        }
        let code: Int32
        var kind = RefusalReason.framing
        if let decoding = error as? FrameDecodingError {
            code = decoding.statusCode
        } else if error is FrameTimeoutError {
            code = Int32(Status.Code.deadlineExceeded.rawValue)
            kind = .frameTimeout
        } else {
            code = Int32(Status.Code.internalError.rawValue)
        }
        let reason = WireText.escaped("\(error)", maximumBytes: 256)
        self.metrics.countRefusal(kind)
        if self.refusalLog.admit(at: .now()).log {
            self.logger.warning("closing connection after a framing error", metadata: ["peer": "\(self.remotePeer)", "error": "\(reason)"])
        }
        self.closeWithGoAway(code: code, reason: reason)
    }

    /// Sends GoAway (the calls up to `highestStreamID` were seen and may have run; anything above
    /// never was) and closes the connection once it is written.
    private func closeWithGoAway(code: Int32, reason: String) {
        var goAway = Wire_GoAway()
        goAway.lastStreamID = self.state.highestStreamID
        goAway.code = code
        goAway.reason = reason
        self.enqueue(Wire_Frame(streamID: 0, kind: .goAway(goAway)))
        self.closeWhenFlushed = true
        self.flushPending()
    }

    // MARK: Refusals and timers

    /// A frame the server refuses (its `Close` is already made): written, counted, and logged at
    /// most once per `refusalLogInterval` (see `RefusalLogLimiter`).
    private func refuse(_ frame: Wire_Frame) {
        var reason = RefusalReason.protocolViolation
        var message = ""
        if case .close(let close) = frame.kind {
            reason = RefusalReason(refusalCode: close.code)
            message = close.message
        }
        self.metrics.countRefusal(reason)
        let (log, suppressed) = self.refusalLog.admit(at: .now())
        if log {
            var metadata: Logger.Metadata = [
                "peer": "\(self.remotePeer)", "stream": "\(frame.streamID)", "kind": "\(reason.rawValue)",
                // Built by the state machine with every wire byte escaped (WireText).
                "reason": "\(message)",
            ]
            if suppressed > 0 { metadata["suppressed"] = "\(suppressed)" }
            self.logger.notice("refused a frame", metadata: metadata)
        }
        self.enqueue(frame)
    }

    private func armIdleTimer(in delay: TimeAmount?) {
        guard let delay, let bound = self.loopBoundSelf else { return }
        self.idleTimer?.cancel()
        self.idleTimer = bound.eventLoop.scheduleTask(in: delay) { bound.value.idleCheck() }
    }

    /// Closes the connection if it has had no call and no frame for `idleTimeout`; otherwise
    /// looks again when that could next be true.
    private func idleCheck() {
        self.idleTimer = nil
        guard let timeout = self.idleTimeout, self.context != nil, !self.closeWhenFlushed else { return }
        guard self.streams.isEmpty, self.state.openStreamCount == 0 else {
            self.armIdleTimer(in: timeout)
            return
        }
        let due = self.lastActivity + timeout
        let now = NIODeadline.now()
        guard now >= due else {
            self.armIdleTimer(in: due - now)
            return
        }
        self.metrics.idleClosed.increment()
        self.logger.debug("closing an idle connection", metadata: ["peer": "\(self.remotePeer)"])
        self.closeWithGoAway(code: 0, reason: "idle for \(Self.describe(timeout)); reconnect when needed")
    }

    static func describe(_ amount: TimeAmount) -> String {
        let millis = amount.nanoseconds / 1_000_000
        return millis % 1_000 == 0 ? "\(millis / 1_000) s" : "\(millis) ms"
    }

    // MARK: Calls

    private func openStream(id: UInt32, method: String, metadata: Metadata, timeoutMicros: UInt64) {
        // The deadline is enforced here, not by GRPCCore's executor (which would end the call
        // with UNKNOWN): no `grpc-timeout` reaches the handler, and the timer below ends the call
        // with DEADLINE_EXCEEDED on the wire before the handler is cancelled.
        var metadata = metadata
        if !metadata.isEmpty { metadata.removeAllValues(forKey: "grpc-timeout") }
        let inbound = CallPartStream<RPCRequestPart<[UInt8]>>(first: .metadata(metadata))
        let cancellation = StreamCancellation()
        var deadline: Scheduled<Void>?
        if timeoutMicros > 0, let bound = self.loopBoundSelf {
            let amount = TimeAmount.microseconds(Int64(clamping: timeoutMicros))
            deadline = bound.eventLoop.scheduleTask(in: amount) {
                bound.value.deadlineExpired(id, timeoutMicros: timeoutMicros)
            }
        }
        self.streams[id] = StreamEntry(inbound: inbound, cancellation: cancellation, deadline: deadline, holdsBudget: true)

        let descriptor: MethodDescriptor
        if let known = self.descriptors[method] {
            descriptor = known
        } else if let (service, name) = MethodPath.split(method) {
            descriptor = MethodDescriptor(fullyQualifiedService: String(service), method: String(name))
            if self.descriptors.count < Self.maximumRememberedMethods { self.descriptors[method] = descriptor }
        } else {
            // The state machine let only valid paths through; should one ever slip by, the call
            // ends here with a status instead of a crash.
            let status = Status(code: .unimplemented, message: "method path '\(method)' is not of the form /package.Service/Method")
            self.send(.status(status, [:]), on: id)
            return
        }
        let writer = ServerStreamWriter(streamID: id, outbound: self.outbound!)
        let accepted = AcceptedServerStream(
            stream: RPCStream(
                descriptor: descriptor,
                inbound: RPCAsyncSequence(wrapping: RequestPartSequence(stream: inbound)),
                outbound: RPCWriter.Closable(wrapping: writer)
            ),
            cancellation: cancellation,
            remotePeer: self.remotePeer,
            localPeer: self.localPeer,
            peerCertificate: self.peerCertificate?.certificate
        )
        if !self.accept(accepted) {
            self.send(.status(Status(code: .unavailable, message: "server is shutting down"), [:]), on: id)
        }
    }

    /// Everything the handlers queued since the last batch (see `OutboundQueue`); one flush.
    func perform(_ ops: [ServerOutboundOp]) {
        for op in ops {
            switch op {
            case .part(let part, let id): self.send(part, on: id)
            case .finish(let id, let error): self.finish(id, error: error)
            }
        }
    }

    /// A response part from the call's handler (always on the event loop).
    func send(_ part: RPCResponsePart<[UInt8]>, on id: UInt32) {
        let result = self.state.send(part, on: id)
        do {
            if let leading = result.leading { try self.encoder.encode(leading, into: &self.pendingBuffer) }
            if let frame = result.frame { try self.encoder.encode(frame, into: &self.pendingBuffer) }
        } catch {
            let failure = self.state.failOversizedResponse(on: id, reason: "response \(error)")
            self.encodeLeniently(failure)
            self.removeEntry(id)?.inbound.finish()
            self.scheduleFlush()
            return
        }
        if case .status = part { self.removeEntry(id)?.inbound.finish() }
        if result.closeConnection { self.closeWhenFlushed = true }
        self.scheduleFlush()
    }

    /// The handler of stream `id` returned (`finish`) or failed (`finish(throwing:)`).
    func finish(_ id: UInt32, error: (any Error)?) {
        let result = self.state.finish(id, error: error)
        self.encodeLeniently(result)
        self.removeEntry(id)?.inbound.finish()
        if result.closeConnection { self.closeWhenFlushed = true }
        self.scheduleFlush()
    }

    /// Frames the server itself produced (statuses); nothing of the handler's size can fail here.
    private func encodeLeniently(_ result: ServerConnectionStateMachine.SendResult) {
        if let leading = result.leading { try? self.encoder.encode(leading, into: &self.pendingBuffer) }
        if let frame = result.frame { try? self.encoder.encode(frame, into: &self.pendingBuffer) }
    }

    /// The call's deadline passed: the client gets `Close{DEADLINE_EXCEEDED}` now, the handler is
    /// cancelled, and its late parts find no stream and are dropped.
    private func deadlineExpired(_ id: UInt32, timeoutMicros: UInt64) {
        guard self.streams[id] != nil else { return }
        let result = self.state.expireDeadline(on: id, timeoutMicros: timeoutMicros)
        self.encodeLeniently(result)
        self.logger.debug("call deadline exceeded", metadata: ["stream": "\(id)", "timeout_micros": "\(timeoutMicros)"])
        self.endStream(id, error: RPCError(code: .deadlineExceeded, message: "the call's deadline passed"))
        if result.closeConnection { self.closeWhenFlushed = true }
        self.scheduleFlush()
    }

    private func endStream(_ id: UInt32, error: RPCError) {
        guard let entry = self.removeEntry(id) else { return }
        entry.inbound.finish(throwing: error)
        entry.cancellation.cancel()
    }

    /// Forgets a call's entry and stops its deadline timer.
    private func removeEntry(_ id: UInt32) -> StreamEntry? {
        guard let entry = self.streams.removeValue(forKey: id) else { return nil }
        entry.deadline?.cancel()
        if entry.holdsBudget { self.budget.release() }
        self.lastActivity = .now()
        return entry
    }

    /// Starts a graceful drain of this connection (server shutdown).
    func beginGracefulShutdown() {
        let (goAway, closeNow) = self.state.beginGracefulShutdown(reason: "server is shutting down")
        self.enqueue(goAway)
        if closeNow { self.closeWhenFlushed = true }
        self.flushPending()
    }

    // MARK: Writing

    /// The frames waiting for the next flush. Modified in place: a get/set pair made every encode
    /// copy the whole pending buffer (copy-on-write, as `pending` still held it).
    private var pendingBuffer: ByteBuffer {
        get { self.pending ?? ByteBuffer() }
        _modify {
            if self.pending == nil { self.pending = ByteBuffer() }
            yield &self.pending!
        }
    }

    private func enqueue(_ frame: Wire_Frame) {
        do {
            try self.encoder.encode(frame, into: &self.pendingBuffer)
        } catch {
            self.logger.error("could not encode a control frame", metadata: ["error": "\(error)"])
        }
        self.scheduleFlush()
    }

    private func scheduleFlush() {
        guard !self.flushScheduled, let bound = self.loopBoundSelf else { return }
        self.flushScheduled = true
        bound.eventLoop.execute { bound.value.flushPending() }
    }

    private func flushPending() {
        self.flushScheduled = false
        guard let context = self.context else { return }
        if let buffer = self.pending, buffer.readableBytes > 0 {
            self.pending = nil
            if self.closeWhenFlushed {
                let bound = self.loopBoundSelf!
                context.writeAndFlush(self.wrapOutboundOut(buffer)).whenComplete { _ in
                    bound.value.context?.close(promise: nil)
                }
                return
            }
            context.writeAndFlush(self.wrapOutboundOut(buffer), promise: nil)
        } else if self.closeWhenFlushed {
            context.close(promise: nil)
        }
    }

    static func describe(_ address: SocketAddress) -> String {
        switch address {
        case .v4: return "ipv4:\(address.ipAddress ?? "?"):\(address.port ?? 0)"
        case .v6: return "ipv6:[\(address.ipAddress ?? "?")]:\(address.port ?? 0)"
        case .unixDomainSocket: return "unix:\(address.pathname ?? "?")"
        }
    }
}

/// The outbound half of a server call: parts go, in order, through the connection's outbound
/// queue to its event loop.
struct ServerStreamWriter: ClosableRPCWriterProtocol {
    typealias Element = RPCResponsePart<[UInt8]>

    let streamID: UInt32
    let outbound: OutboundQueue<ServerOutboundOp>

    func write(_ element: Element) async throws {
        self.outbound.enqueue(.part(element, streamID: self.streamID))
    }

    func write(contentsOf elements: some Sequence<Element>) async throws {
        for element in elements { self.outbound.enqueue(.part(element, streamID: self.streamID)) }
    }

    func finish() async {
        self.outbound.enqueue(.finish(streamID: self.streamID, error: nil))
    }

    func finish(throwing error: any Error) async {
        self.outbound.enqueue(.finish(streamID: self.streamID, error: error))
    }
}
