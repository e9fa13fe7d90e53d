import GRPCCore
import Logging
import Metrics
import NIOCore
import NIOPosix
import OneSealProto
import OneSealTLS
import X509
import Synchronization

/// The server side of OneSeal TCP for GRPCCore: a `GRPCServer` built on this transport serves the
/// generated service protocols over plain TCP, many calls per connection (see PROTOCOL.md).
///
/// `listen` binds, then runs every accepted call in a task of its own, started by the connection's
/// event loop the moment the Open is read (no hop through a listening task), and returns only when
/// all of them have ended, so nothing outlives it. `beginGracefulShutdown` stops accepting, sends
/// GoAway on every connection, and lets running calls finish before `listen` returns; cancelling
/// `listen` cancels every running call and closes the listening socket.
public final class OneSealServerTransport: ServerTransport {
    public typealias Bytes = [UInt8]

    public let host: String
    public let port: Int
    public let configuration: WireConfiguration
    /// TLS key material (nil: plain TCP, only for tests and `--insecure-loopback`). Read for each
    /// accepted connection, so a reload applies to the next connection and never to a running one.
    public let tls: TLSMaterialSource?

    /// What the transport tells GRPCCore about each call: the peer's verified client certificate,
    /// read by authorization through `PeerCertificateCarrying`.
    public struct Context: PeerCertificateCarrying {
        public var peerCertificate: Certificate?
    }

    private let group: any EventLoopGroup
    private let logger: Logger
    private let address: EventLoopPromise<SocketAddress>
    private let state: Mutex<State>
    /// Calls open on all connections, against `configuration.maximumServerStreams`.
    private let budget: ServerStreamBudget
    private let metrics: WireMetrics

    typealias StreamHandler = @Sendable (_ stream: RPCStream<Inbound, Outbound>, _ context: ServerContext) async -> Void

    private struct State {
        init(refusalLogInterval: TimeAmount) {
            self.connectionRefusalLog = RefusalLogLimiter(interval: refusalLogInterval)
            self.certificateRefusalLog = RefusalLogLimiter(interval: refusalLogInterval)
        }

        var serverChannel: (any Channel)?
        var connections: [ObjectIdentifier: NIOLoopBound<ServerConnectionHandler>] = [:]
        var shuttingDown = false
        /// GRPCCore's handler for accepted calls; set while `listen` accepts calls.
        var streamHandler: StreamHandler?
        /// The task of every running call, to cancel them if `listen` is cancelled.
        var running: [UInt64: Task<Void, Never>] = [:]
        var nextCall: UInt64 = 0
        /// `listen`, waiting for the last call to end once no more are accepted.
        var drained: CheckedContinuation<Void, Never>?
        /// Connections refused for the connection limit: logged at most once per interval.
        var connectionRefusalLog: RefusalLogLimiter
        /// Client certificates refused in handshakes: logged at most once per interval too (a
        /// peer can make handshakes as fast as connections).
        var certificateRefusalLog: RefusalLogLimiter

        /// `listen` may return: no call is running and none can start.
        mutating func takeDrainedIfDone() -> CheckedContinuation<Void, Never>? {
            guard self.streamHandler == nil, self.running.isEmpty else { return nil }
            defer { self.drained = nil }
            return self.drained
        }
    }

    /// - Parameters:
    ///   - host: address to bind, e.g. "0.0.0.0" or "127.0.0.1".
    ///   - port: TCP port; 0 picks a free one (read it back from `listeningAddress`).
    public init(
        host: String,
        port: Int,
        configuration: WireConfiguration = WireConfiguration(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "oneseal.wire.server"),
        metricsFactory: (any MetricsFactory)? = nil,
        tls: TLSMaterialSource? = nil
    ) {
        self.tls = tls
        self.state = Mutex(State(refusalLogInterval: TimeAmount(configuration.refusalLogInterval)))
        self.budget = ServerStreamBudget(maximum: configuration.maximumServerStreams)
        self.metrics = WireMetrics(factory: metricsFactory ?? MetricsSystem.factory)
        self.host = host
        self.port = port
        self.configuration = configuration
        self.group = eventLoopGroup
        self.logger = logger
        self.address = eventLoopGroup.any().makePromise()
    }

    /// The address actually bound; waits until `listen` has bound it.
    public var listeningAddress: SocketAddress {
        get async throws { try await self.address.futureResult.get() }
    }

    public func listen(
        streamHandler: @escaping @Sendable (
            _ stream: RPCStream<Inbound, Outbound>,
            _ context: ServerContext
        ) async -> Void
    ) async throws {
        self.state.withLock { state in
            if !state.shuttingDown { state.streamHandler = streamHandler }
        }
        let channel: any Channel
        do {
            channel = try await self.bind()
        } catch {
            self.address.fail(error)
            self.state.withLock { $0.streamHandler = nil }
            throw RPCError(code: .unavailable, message: "could not listen on \(self.host):\(self.port): \(error)", cause: error)
        }
        // Read once, now: NIO forgets a channel's addresses when it closes, and a shutdown that
        // began while binding closes it below (asynchronously, on its loop), so any later read
        // could find nil.
        guard let localAddress = channel.localAddress else {
            let error = RPCError(
                code: .unavailable,
                message: "could not listen on \(self.host):\(self.port): the listening socket closed before its address could be read"
            )
            self.address.fail(error)
            self.state.withLock { $0.streamHandler = nil }
            channel.close(promise: nil)
            throw error
        }
        self.address.succeed(localAddress)
        let closeNow = self.state.withLock { state -> Bool in
            state.serverChannel = channel
            return state.shuttingDown
        }
        if closeNow { channel.close(promise: nil) }
        self.logger.info("listening", metadata: ["address": "\(localAddress)"])

        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let doneNow = self.state.withLock { state -> Bool in
                    state.drained = continuation
                    return state.takeDrainedIfDone() != nil
                }
                if doneNow { continuation.resume() }
            }
        } onCancel: {
            let (channel, calls, drained) = self.state.withLock { state in
                state.streamHandler = nil
                return (state.serverChannel, Array(state.running.values), state.takeDrainedIfDone())
            }
            channel?.close(promise: nil)
            for call in calls { call.cancel() }
            drained?.resume()
        }
        // Cancelled before the channel was recorded: the handler above could not close it.
        if Task.isCancelled { channel.close(promise: nil) }
        try? await channel.closeFuture.get()
    }

    /// Starts a task for a call the connection just accepted (on its event loop); false when the
    /// transport accepts no more calls.
    private func accept(_ accepted: AcceptedServerStream) -> Bool {
        self.state.withLock { state -> Bool in
            guard let streamHandler = state.streamHandler else { return false }
            let id = state.nextCall
            state.nextCall += 1
            // Created under the lock so that it is in `running` before it can end and remove
            // itself; the task does not wait for anything this lock guards while it runs.
            let task = Task {
                await Self.serve(accepted, with: streamHandler)
                self.callEnded(id)
            }
            state.running[id] = task
            accepted.cancellation.attach(task)
            return true
        }
    }

    /// One call: the handler runs in this task itself; a cancellation of the RPC (Cancel frame,
    /// deadline, lost connection, or anyone calling `context.cancellation.cancel()`) cancels the
    /// task, so sleeps, queries and awaits in the handler stop at once instead of running on.
    private static func serve(_ accepted: AcceptedServerStream, with streamHandler: StreamHandler) async {
        await withServerContextRPCCancellationHandle { handle in
            accepted.cancellation.register(handle)
            var context = ServerContext(
                descriptor: accepted.stream.descriptor,
                remotePeer: accepted.remotePeer,
                localPeer: accepted.localPeer,
                cancellation: handle
            )
            context.transportSpecific = Context(peerCertificate: accepted.peerCertificate)
            let cancellation = accepted.cancellation
            await withRPCCancellationHandler {
                await streamHandler(accepted.stream, context)
            } onCancelRPC: {
                cancellation.cancelTask()
            }
        }
    }

    private func callEnded(_ id: UInt64) {
        let drained = self.state.withLock { state in
            state.running[id] = nil
            return state.takeDrainedIfDone()
        }
        drained?.resume()
    }

    private func bind() async throws -> any Channel {
        let configuration = self.configuration
        let logger = self.logger
        let budget = self.budget
        let metrics = self.metrics
        let tls = self.tls
        return try await ServerBootstrap(group: self.group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [weak self] channel in
                channel.eventLoop.makeCompletedFuture {
                    guard let self else { throw ChannelError.ioOnClosedChannel }
                    let id = ObjectIdentifier(channel)
                    enum Admission { case accept, drain, refuse(logSuppressed: Int?) }
                    let admission = self.state.withLock { state -> Admission in
                        if state.shuttingDown { return .drain }
                        guard state.connections.count < configuration.maximumConnections else {
                            let (log, suppressed) = state.connectionRefusalLog.admit(at: .now())
                            return .refuse(logSuppressed: log ? suppressed : nil)
                        }
                        return .accept
                    }
                    if case .refuse(let suppressed) = admission {
                        // Over the limit: the peer learns why, then the connection closes; it
                        // never gets a handler, a decoder buffer or a stream.
                        metrics.countRefusal(.connectionLimit)
                        if let suppressed {
                            logger.notice(
                                "refused a connection: too many connections",
                                metadata: [
                                    "peer": "\(channel.remoteAddress.map(ServerConnectionHandler.describe) ?? "unknown")",
                                    "maximum": "\(configuration.maximumConnections)", "suppressed": "\(suppressed)",
                                ]
                            )
                        }
                        try channel.pipeline.syncOperations.addHandler(
                            RefuseConnectionHandler(
                                goAway: .goAway(
                                    lastStreamID: 0, code: .resourceExhausted,
                                    reason: "too many connections to this server (maximum \(configuration.maximumConnections)); retry later"
                                )
                            )
                        )
                        return
                    }
                    var peerCertificate: PeerCertificateBox?
                    if let tls {
                        // First in the pipeline: everything after it sees plaintext frames.
                        let box = PeerCertificateBox()
                        let peer = channel.remoteAddress.map(ServerConnectionHandler.describe) ?? "unknown"
                        let (handshake, resumed) = try tls.makeServerHandlers(peer: box) { [weak self] refusal in
                            metrics.countRefusal(.certificate)
                            let (log, suppressed) = self?.state.withLock { $0.certificateRefusalLog.admit(at: .now()) } ?? (false, 0)
                            guard log else { return }
                            logger.warning(
                                "refused a client certificate",
                                metadata: [
                                    "peer": "\(peer)", "reason": "\(refusal.describe(escaping: { WireText.escaped($0) }))",
                                    "suppressed": "\(suppressed)",
                                ]
                            )
                        }
                        try channel.pipeline.syncOperations.addHandler(handshake)
                        try channel.pipeline.syncOperations.addHandler(resumed)
                        peerCertificate = box
                    }
                    let handler = ServerConnectionHandler(
                        configuration: configuration,
                        logger: logger,
                        budget: budget,
                        metrics: metrics,
                        peerCertificate: peerCertificate,
                        accept: { [weak self] accepted in self?.accept(accepted) ?? false }
                    )
                    try channel.pipeline.syncOperations.addHandler(FrameProgressHandler(timeout: TimeAmount(configuration.frameTimeout)))
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(CallFrameDecoder(maximumFrameSize: configuration.maximumFrameSize))
                    )
                    try channel.pipeline.syncOperations.addHandler(handler)
                    guard case .accept = admission else {
                        handler.beginGracefulShutdown()
                        return
                    }
                    self.state.withLock { $0.connections[id] = NIOLoopBound(handler, eventLoop: channel.eventLoop) }
                    // Forgotten when the channel closes, however it closes (even if it never
                    // became active, so the handler never saw channelInactive).
                    channel.closeFuture.whenComplete { [weak self] _ in self?.connectionClosed(id) }
                }
            }
            .bind(host: self.host, port: self.port)
            .get()
    }

    /// Connections open now (tests).
    var connectionCount: Int { self.state.withLock { $0.connections.count } }

    /// Streams open now on all connections (tests).
    var openStreamCount: Int { self.budget.inUse }

    private func connectionClosed(_ id: ObjectIdentifier) {
        _ = self.state.withLock { $0.connections.removeValue(forKey: id) }
    }

    public func beginGracefulShutdown() {
        let (channel, connections, drained) = self.state.withLock { state in
            state.shuttingDown = true
            state.streamHandler = nil
            return (state.serverChannel, Array(state.connections.values), state.takeDrainedIfDone())
        }
        channel?.close(promise: nil)
        for connection in connections {
            connection.eventLoop.execute { connection.value.beginGracefulShutdown() }
        }
        drained?.resume()
    }
}

/// The whole pipeline of a connection over the server's limit: writes the GoAway saying why,
/// then closes.
final class RefuseConnectionHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let goAway: Wire_Frame

    init(goAway: Wire_Frame) {
        self.goAway = goAway
    }

    func channelActive(context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: 64)
        try? FrameEncoder().encode(self.goAway, into: &buffer)
        let channel = context.channel
        context.writeAndFlush(self.wrapOutboundOut(buffer)).whenComplete { _ in channel.close(promise: nil) }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Nothing the peer sends is read.
    }
}
