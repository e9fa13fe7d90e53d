import NIOCore
import NIOPosix
import Synchronization

/// A TCP relay standing for the network between two halls, so a test can cut it: while cut, every
/// relayed connection is closed and new ones are closed as soon as they arrive (what a dead
/// inter-government link looks like to the services: connection refused / reset, UNAVAILABLE).
final class LinkProxy: Sendable {
    let port: Int
    private let server: any Channel
    private let state = Mutex(State())
    private let group: any EventLoopGroup

    private struct State {
        var cut = false
        var open: [ObjectIdentifier: any Channel] = [:]
    }

    private init(port: Int, server: any Channel, group: any EventLoopGroup) {
        self.port = port
        self.server = server
        self.group = group
    }

    /// Listens on a free loopback port and relays every connection to one of `targetPorts`: in
    /// turn, and to the next when one refuses (a balancer over replicas, as a Kubernetes Service
    /// spreads connections over its ready pods).
    static func start(targetPorts: [Int], group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> LinkProxy {
        precondition(!targetPorts.isEmpty)
        let holder = Holder()
        let turn = Atomic<Int>(0)
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.autoRead, value: false)
            .childChannelInitializer { inbound in
                guard let proxy = holder.proxy, !proxy.isCut else { return inbound.close() }
                proxy.track(inbound)
                let first = turn.wrappingAdd(1, ordering: .relaxed).oldValue
                let order = (0..<targetPorts.count).map { targetPorts[(first + $0) % targetPorts.count] }
                return Self.connect(order[...], on: inbound.eventLoop)
                    .flatMapThrowing { outbound in
                        // Both channels are on inbound's event loop (the bootstrap above), so the
                        // glue is added synchronously and the two halves never cross threads.
                        proxy.track(outbound)
                        let (left, right) = GlueHandler.pair()
                        try inbound.pipeline.syncOperations.addHandler(left)
                        try outbound.pipeline.syncOperations.addHandler(right)
                        try inbound.syncOptions?.setOption(.autoRead, value: true)
                    }
                    .flatMapError { _ in inbound.close() }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let proxy = LinkProxy(port: server.localAddress?.port ?? 0, server: server, group: group)
        holder.proxy = proxy
        return proxy
    }

    /// The first of `ports` that accepts the connection.
    private static func connect(_ ports: ArraySlice<Int>, on loop: any EventLoop) -> EventLoopFuture<any Channel> {
        ClientBootstrap(group: loop).connect(host: "127.0.0.1", port: ports.first!).flatMapError { error in
            ports.count > 1 ? connect(ports.dropFirst(), on: loop) : loop.makeFailedFuture(error)
        }
    }

    var isCut: Bool { state.withLock { $0.cut } }

    private func track(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        state.withLock { $0.open[id] = channel }
        channel.closeFuture.whenComplete { [weak self] _ in _ = self?.state.withLock { $0.open.removeValue(forKey: id) } }
    }

    /// Drops every relayed connection and refuses new ones until `restore()`.
    func cut() {
        let open = state.withLock { state -> [any Channel] in
            state.cut = true
            return Array(state.open.values)
        }
        for channel in open { channel.close(promise: nil) }
    }

    func restore() { state.withLock { $0.cut = false } }

    func stop() async {
        cut()
        try? await server.close()
    }

    /// Set once, right after bind, before any connection can be accepted and read it.
    private final class Holder: Sendable {
        private let value = Mutex<LinkProxy?>(nil)
        var proxy: LinkProxy? {
            get { value.withLock { $0 } }
            set { value.withLock { $0 = newValue } }
        }
    }
}

/// Copies bytes from one channel to its partner, with backpressure (read only when the partner is
/// writable), as swift-nio-examples' connect proxy does. Both halves run on the same event loop.
private final class GlueHandler: ChannelDuplexHandler {
    typealias InboundIn = NIOAny
    typealias OutboundIn = NIOAny
    typealias OutboundOut = NIOAny

    private var partner: GlueHandler?
    private var context: ChannelHandlerContext?
    private var pendingRead = false

    static func pair() -> (GlueHandler, GlueHandler) {
        let first = GlueHandler()
        let second = GlueHandler()
        first.partner = second
        second.partner = first
        return (first, second)
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        self.partner = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) { partner?.write(data) }
    func channelReadComplete(context: ChannelHandlerContext) { partner?.flush() }
    func channelInactive(context: ChannelHandlerContext) { partner?.close() }
    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { partner?.partnerBecameWritable() }
    }

    func read(context: ChannelHandlerContext) {
        if let partner, partner.isWritable {
            context.read()
        } else {
            pendingRead = true
        }
    }

    private func write(_ data: NIOAny) { context?.write(data, promise: nil) }
    private func flush() { context?.flush() }
    private func close() { context?.close(promise: nil) }
    private var isWritable: Bool { context?.channel.isWritable ?? false }
    private func partnerBecameWritable() {
        if pendingRead {
            pendingRead = false
            context?.read()
        }
    }
}
