import GRPCCore
import Logging
import NIOCore
import NIOSSL
import OneSealProto

/// The client end of one OneSeal TCP connection: carries many calls, each a stream of frames.
///
/// Calls are created with a local token before they have a stream id: the id is allocated when
/// the call's Open frame is written, on the event loop, so ids reach the server strictly
/// increasing whatever order the calling tasks run in. All state lives on the event loop; other
/// threads reach it through `NIOLoopBound` hops. The protocol and the connection's life are the
/// state machine's (`ClientConnectionStateMachine`); this handler keeps the calls' streams and the
/// channel, and carries out what the machine answers.
final class ClientConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = InboundFrame
    typealias OutboundOut = ByteBuffer

    typealias Inbound = CallPartStream<RPCResponsePart<[UInt8]>>

    private struct PendingCall {
        var inbound: Inbound
        var streamID: UInt32?
    }

    private var state: ClientConnectionStateMachine
    private let encoder: FrameEncoder
    private let configuration: WireConfiguration
    private let logger: Logger
    /// Called once, on the loop, when no new call may start here (GoAway received or connection closed).
    private let onUnusable: @Sendable (_ reason: String) -> Void
    private var calls: [UInt64: PendingCall] = [:]
    private var tokensByStream: [UInt32: UInt64] = [:]
    private var context: ChannelHandlerContext?
    private var loopBoundSelf: NIOLoopBound<ClientConnectionHandler>?
    private var pending: ByteBuffer?
    private var flushScheduled = false
    private var keepalive: RepeatedTask?
    private(set) var remotePeer = "unknown"
    private(set) var localPeer = "unknown"

    init(
        configuration: WireConfiguration,
        logger: Logger,
        onUnusable: @escaping @Sendable (_ reason: String) -> Void
    ) {
        self.configuration = configuration
        self.state = ClientConnectionStateMachine(metadataLimits: configuration.metadataLimits)
        self.encoder = FrameEncoder(maximumFrameSize: configuration.maximumFrameSize)
        self.logger = logger
        self.onUnusable = onUnusable
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        self.loopBoundSelf = bound
        self.remotePeer = context.channel.remoteAddress.map(ServerConnectionHandler.describe) ?? "unknown"
        self.localPeer = context.channel.localAddress.map(ServerConnectionHandler.describe) ?? "unknown"
        if let interval = self.configuration.keepaliveInterval {
            let amount = TimeAmount(interval)
            self.keepalive = context.eventLoop.scheduleRepeatedTask(initialDelay: amount, delay: amount) { _ in
                bound.value.keepaliveTick()
            }
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        self.keepalive?.cancel()
        self.keepalive = nil
        // `loopBoundSelf` holds this handler: without letting go here, every connection's handler
        // (and all it holds) would outlive its channel.
        self.loopBoundSelf = nil
    }

    // MARK: Calls (always on the event loop)

    /// Registers a call when its first part arrives, in the same loop task that writes its Open:
    /// no round trip to the loop before a call starts. False (and the call ended with
    /// UNAVAILABLE) when this connection takes no new calls; false without a word when the caller
    /// already left.
    private func register(_ call: ClientCallInfo) -> Bool {
        guard !call.inbound.isClosed else { return false }
        guard self.state.acceptsNewCalls else {
            call.inbound.yield(.status(Status(code: .unavailable, message: "connection to \(self.remotePeer) is closing; retry"), [:]))
            call.inbound.finish()
            return false
        }
        self.calls[call.token] = PendingCall(inbound: call.inbound, streamID: nil)
        return true
    }

    func send(_ part: RPCRequestPart<[UInt8]>, call info: ClientCallInfo) {
        let (token, method, timeout) = (info.token, info.method, info.timeout)
        if case .metadata = part, self.calls[token] == nil, !self.register(info) { return }
        guard var call = self.calls[token] else { return }
        switch part {
        case .metadata(let metadata):
            guard call.streamID == nil else { return }
            switch self.state.openStream() {
            case .failure(let error):
                self.calls[token] = nil
                call.inbound.yield(.status(Status(code: .unavailable, message: error.message), [:]))
                call.inbound.finish()
                return
            case .success(let id):
                call.streamID = id
                self.calls[token] = call
                self.tokensByStream[id] = token
                let micros = timeout.map { max(1, UInt64(clamping: $0.components.seconds) &* 1_000_000 &+ UInt64($0.components.attoseconds / 1_000_000_000_000)) } ?? 0
                var metadata = metadata
                metadata.removeAllValues(forKey: "grpc-timeout")
                self.write(.open(streamID: id, method: method, metadata: metadata, timeoutMicros: micros), failing: token)
            }
        case .message(let bytes):
            guard let id = call.streamID, self.state.canSend(on: id) else { return }
            self.write(.message(streamID: id, bytes: bytes), failing: token)
        }
    }

    /// The request side is complete (`finish()` of the writer).
    func halfClose(token: UInt64) {
        guard let id = self.calls[token]?.streamID, self.state.halfClose(id) else { return }
        self.write(.halfClose(streamID: id), failing: token)
    }

    /// The caller abandoned the call (error in the request writer, or its scope ended early).
    func cancel(token: UInt64, reason: String) {
        guard let call = self.calls.removeValue(forKey: token) else { return }
        if let id = call.streamID {
            self.tokensByStream[id] = nil
            if let frame = self.state.cancel(id, reason: reason) { self.write(.other(frame), failing: nil) }
        }
        call.inbound.yield(.status(Status(code: .cancelled, message: reason), [:]))
        call.inbound.finish()
        self.closeIfIdleAndDraining()
    }

    /// Everything the calls queued since the last batch (see `OutboundQueue`); one flush at the end.
    func perform(_ ops: [ClientOutboundOp]) {
        for op in ops {
            switch op {
            case .part(let part, let call):
                self.send(part, call: call)
            case .halfClose(let token):
                self.halfClose(token: token)
            case .cancel(let token, let reason):
                self.cancel(token: token, reason: reason)
            }
        }
    }

    /// Stop taking calls; close once the open ones are done (transport shutdown).
    func beginGracefulClose() {
        if let reason = self.state.beginGracefulClose() { self.onUnusable(reason) }
        self.closeIfIdleAndDraining()
    }

    private func write(_ frame: OutboundFrame, failing token: UInt64?) {
        do {
            try self.encoder.encode(frame, into: &self.pendingBuffer)
            self.scheduleFlush()
        } catch {
            // Only an oversized request can fail to encode: end that call, keep the connection.
            guard let token, let call = self.calls.removeValue(forKey: token) else { return }
            if let id = call.streamID {
                self.tokensByStream[id] = nil
                if let cancel = self.state.cancel(id, reason: "request too large") {
                    try? self.encoder.encode(cancel, into: &self.pendingBuffer)
                    self.scheduleFlush()
                }
            }
            call.inbound.yield(.status(Status(code: .resourceExhausted, message: "request \(error)"), [:]))
            call.inbound.finish()
        }
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = self.unwrapInboundIn(data)
        switch self.state.receive(frame) {
        case .deliver(let id, let part):
            guard let token = self.tokensByStream[id], let call = self.calls[token] else { return }
            call.inbound.yield(part)
            if case .status = part {
                call.inbound.finish()
                self.calls[token] = nil
                self.tokensByStream[id] = nil
                self.closeIfIdleAndDraining()
            }
        case .failStream(let id, let status, let cancel):
            self.logger.warning("server sent invalid metadata; call failed", metadata: ["peer": "\(self.remotePeer)", "stream": "\(id)", "reason": "\(status.message)"])
            self.write(.other(cancel), failing: nil)
            self.endStream(id, status: status)
            self.closeIfIdleAndDraining()
        case .write(let frame):
            self.write(.other(frame), failing: nil)
        case .pingAcknowledged:
            break  // the machine stopped waiting for it
        case .goAway(let failed, _, let reason):
            self.logger.info("server sent GoAway", metadata: ["peer": "\(self.remotePeer)", "reason": "\(reason)"])
            for id in failed {
                self.endStream(id, status: Status(code: .unavailable, message: "server is going away (\(reason)); the call was not processed, retry"))
            }
            self.failUnopenedCalls(reason: "server is going away (\(reason)); retry")
            if let reason = self.state.becomeUnusable(reason: reason) { self.onUnusable(reason) }
            self.closeIfIdleAndDraining()
        case .closeConnection(let reason):
            self.logger.warning("closing connection", metadata: ["peer": "\(self.remotePeer)", "reason": "\(reason)"])
            var goAway = Wire_GoAway()
            goAway.code = Int32(Status.Code.internalError.rawValue)
            goAway.reason = reason
            self.write(.other(Wire_Frame(streamID: 0, kind: .goAway(goAway))), failing: nil)
            self.flushPending()
            context.close(promise: nil)
        case .none:
            break
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.flushPending()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.keepalive?.cancel()
        _ = self.state.connectionClosed()
        let calls = self.calls
        self.calls.removeAll()
        self.tokensByStream.removeAll()
        for call in calls.values {
            call.inbound.yield(.status(Status(code: .unavailable, message: "connection to \(self.remotePeer) was lost"), [:]))
            call.inbound.finish()
        }
        if let reason = self.state.becomeUnusable(reason: "connection closed") { self.onUnusable(reason) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A server that closes TCP without TLS close_notify is routine (it restarted, it dropped
        // an idle connection): reconnecting is the answer, not a warning.
        var level = Logger.Level.warning
        if case .uncleanShutdown? = error as? NIOSSLError { level = .debug }
        self.logger.log(level: level, "connection error", metadata: ["peer": "\(self.remotePeer)", "error": "\(error)"])
        context.close(promise: nil)
    }

    private func endStream(_ id: UInt32, status: Status) {
        guard let token = self.tokensByStream.removeValue(forKey: id), let call = self.calls.removeValue(forKey: token) else { return }
        call.inbound.yield(.status(status, [:]))
        call.inbound.finish()
    }

    /// Calls registered but not yet opened can never be opened here after a GoAway.
    private func failUnopenedCalls(reason: String) {
        for (token, call) in self.calls where call.streamID == nil {
            self.calls[token] = nil
            call.inbound.yield(.status(Status(code: .unavailable, message: reason), [:]))
            call.inbound.finish()
        }
    }

    private func closeIfIdleAndDraining() {
        guard self.calls.isEmpty, self.state.shouldCloseIdle, let context = self.context else { return }
        self.flushPending()
        context.close(promise: nil)
    }

    // MARK: Keepalive

    private func keepaliveTick() {
        guard let context = self.context else { return }
        switch self.state.keepaliveTick(now: .now(), timeout: TimeAmount(self.configuration.keepaliveTimeout)) {
        case .write(let ping):
            self.write(.other(ping), failing: nil)
        case .closeConnection:
            self.logger.warning("keepalive ping unanswered; closing connection", metadata: ["peer": "\(self.remotePeer)"])
            context.close(promise: nil)
        case .none:
            break
        }
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

    private func scheduleFlush() {
        guard !self.flushScheduled, let bound = self.loopBoundSelf else { return }
        self.flushScheduled = true
        bound.eventLoop.execute { bound.value.flushPending() }
    }

    private func flushPending() {
        self.flushScheduled = false
        guard let context = self.context, let buffer = self.pending, buffer.readableBytes > 0 else { return }
        self.pending = nil
        context.writeAndFlush(self.wrapOutboundOut(buffer), promise: nil)
    }
}

/// What a call's writer needs to know about it on the event loop.
struct ClientCallInfo: Sendable {
    /// Names the call on its connection until (and after) it has a stream id.
    var token: UInt64
    var method: String
    var timeout: Duration?
    /// Where the response parts go; the first request part registers it.
    var inbound: ClientConnectionHandler.Inbound
}

/// The request half of a client call: parts go, in order, through the connection's outbound
/// queue to its event loop.
struct ClientStreamWriter: ClosableRPCWriterProtocol {
    typealias Element = RPCRequestPart<[UInt8]>

    let call: ClientCallInfo
    let outbound: OutboundQueue<ClientOutboundOp>

    func write(_ element: Element) async throws {
        self.outbound.enqueue(.part(element, call: self.call))
    }

    func write(contentsOf elements: some Sequence<Element>) async throws {
        for element in elements { self.outbound.enqueue(.part(element, call: self.call)) }
    }

    func finish() async {
        self.outbound.enqueue(.halfClose(token: self.call.token))
    }

    func finish(throwing error: any Error) async {
        self.outbound.enqueue(.cancel(token: self.call.token, reason: "client failed the request: \(error)"))
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
