import GRPCCore
import Logging
import NIOCore
import NIOPosix
import OneSealProto
import Synchronization

/// The server side of OneSeal TCP for GRPCCore: a `GRPCServer` built on this transport serves the
/// generated service protocols over plain TCP, many calls per connection (see PROTOCOL.md).
///
/// `listen` binds, then runs every accepted call as a child task of its own task group, so nothing
/// outlives it; `beginGracefulShutdown` stops accepting, sends GoAway on every connection, and lets
/// running calls finish before `listen` returns.
public final class OneSealServerTransport: ServerTransport {
    public typealias Bytes = [UInt8]

    public let host: String
    public let port: Int
    public let configuration: WireConfiguration

    private let group: any EventLoopGroup
    private let logger: Logger
    private let newStreams: AsyncStream<AcceptedServerStream>
    private let newStreamsContinuation: AsyncStream<AcceptedServerStream>.Continuation
    private let address: EventLoopPromise<SocketAddress>
    private let state = Mutex(State())

    private struct State {
        var serverChannel: (any Channel)?
        var connections: [ObjectIdentifier: NIOLoopBound<ServerConnectionHandler>] = [:]
        var shuttingDown = false
    }

    /// - Parameters:
    ///   - host: address to bind, e.g. "0.0.0.0" or "127.0.0.1".
    ///   - port: TCP port; 0 picks a free one (read it back from `listeningAddress`).
    public init(
        host: String,
        port: Int,
        configuration: WireConfiguration = WireConfiguration(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "oneseal.wire.server")
    ) {
        self.host = host
        self.port = port
        self.configuration = configuration
        self.group = eventLoopGroup
        self.logger = logger
        (self.newStreams, self.newStreamsContinuation) = AsyncStream.makeStream()
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
        let channel: any Channel
        do {
            channel = try await self.bind()
        } catch {
            self.address.fail(error)
            self.newStreamsContinuation.finish()
            throw RPCError(code: .unavailable, message: "could not listen on \(self.host):\(self.port): \(error)", cause: error)
        }
        self.address.succeed(channel.localAddress!)
        let closeNow = self.state.withLock { state -> Bool in
            state.serverChannel = channel
            return state.shuttingDown
        }
        if closeNow { channel.close(promise: nil) }
        self.logger.info("listening", metadata: ["address": "\(channel.localAddress!)"])

        await withDiscardingTaskGroup { group in
            for await accepted in self.newStreams {
                group.addTask {
                    await withServerContextRPCCancellationHandle { handle in
                        accepted.cancellation.register(handle)
                        let context = ServerContext(
                            descriptor: accepted.stream.descriptor,
                            remotePeer: accepted.remotePeer,
                            localPeer: accepted.localPeer,
                            cancellation: handle
                        )
                        // GRPCCore only flags a cancelled RPC (deadline, Cancel frame, lost
                        // client); cancelling the handler's task too makes sleeps, queries and
                        // awaits in the handler stop at once instead of running to completion.
                        await withTaskGroup(of: Void.self) { call in
                            call.addTask { await streamHandler(accepted.stream, context) }
                            call.addTask { try? await handle.cancelled }
                            _ = await call.next()
                            call.cancelAll()
                        }
                    }
                }
            }
        }
        try? await channel.closeFuture.get()
    }

    private func bind() async throws -> any Channel {
        let configuration = self.configuration
        let logger = self.logger
        return try await ServerBootstrap(group: self.group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [weak self] channel in
                channel.eventLoop.makeCompletedFuture {
                    guard let self else { throw ChannelError.ioOnClosedChannel }
                    let id = ObjectIdentifier(channel)
                    let handler = ServerConnectionHandler(
                        configuration: configuration,
                        logger: logger,
                        accept: { [weak self] accepted in self?.accept(accepted) ?? false },
                        onClose: { [weak self] in self?.connectionClosed(id) }
                    )
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(FrameDecoder(maximumFrameSize: configuration.maximumFrameSize))
                    )
                    try channel.pipeline.syncOperations.addHandler(handler)
                    let bound = NIOLoopBound(handler, eventLoop: channel.eventLoop)
                    let refuse = self.state.withLock { state -> Bool in
                        if state.shuttingDown { return true }
                        state.connections[id] = bound
                        return false
                    }
                    if refuse { handler.beginGracefulShutdown() }
                }
            }
            .bind(host: self.host, port: self.port)
            .get()
    }

    private func accept(_ stream: AcceptedServerStream) -> Bool {
        if case .terminated = self.newStreamsContinuation.yield(stream) { return false }
        return true
    }

    private func connectionClosed(_ id: ObjectIdentifier) {
        _ = self.state.withLock { $0.connections.removeValue(forKey: id) }
    }

    public func beginGracefulShutdown() {
        let (channel, connections) = self.state.withLock { state in
            state.shuttingDown = true
            return (state.serverChannel, Array(state.connections.values))
        }
        channel?.close(promise: nil)
        for connection in connections {
            connection.eventLoop.execute { connection.value.beginGracefulShutdown() }
        }
        self.newStreamsContinuation.finish()
    }
}
