import GRPCCore
import Logging
import NIOCore
import NIOPosix
import OneSealProto
import OneSealTLS
import Synchronization

/// The client side of OneSeal TCP for GRPCCore: a `GRPCClient` on this transport calls the
/// generated service clients over one TCP connection to a server (see PROTOCOL.md).
///
/// `connect()` owns the connection for the client's lifetime: it dials, waits until the connection
/// becomes unusable (lost, or the server sent GoAway), and dials again with jittered backoff.
/// Calls made while there is no connection fail at once with `UNAVAILABLE` (unless the call asks
/// to wait for ready), so a caller never hangs on a dead peer.
public final class OneSealClientTransport: ClientTransport {
    public typealias Bytes = [UInt8]

    public let host: String
    public let port: Int
    public let configuration: WireConfiguration
    public var retryThrottle: RetryThrottle? { nil }
    /// TLS (nil: plain TCP, only for tests and `--insecure-loopback`) and who the server must be.
    public let tls: ClientTLS?

    /// The client's TLS: its material (trust bundle, optional client certificate), read afresh for
    /// every dial so a reload applies to the next connection, and the identity the server's
    /// certificate must name: a peer entry "certificate@371300" gives both node and service, the
    /// CLI often only the node. Host names are never checked (docs/decisions.md K3).
    public struct ClientTLS: Sendable {
        public var material: TLSMaterialSource
        public var expectedNode: String?
        public var expectedService: String?

        public init(material: TLSMaterialSource, expectedNode: String?, expectedService: String?) {
            self.material = material
            self.expectedNode = expectedNode
            self.expectedService = expectedService
        }
    }

    /// A server certificate this client refused, as the dial's error.
    public struct ServerCertificateRefused: Error, CustomStringConvertible {
        public var description: String
    }

    private let group: any EventLoopGroup
    private let logger: Logger
    private let state = Mutex(State())

    private struct Connection {
        var channel: any Channel
        var handler: NIOLoopBound<ClientConnectionHandler>
        /// The calls' way onto the event loop (batched; see `OutboundQueue`).
        var outbound: OutboundQueue<ClientOutboundOp>
        var tokens: CallTokens
        var remotePeer: String
        var localPeer: String
        /// Set (before the transport hears of it) once the connection can take no calls. A
        /// connection can close between the dial and being installed as `.ready` — a relay or
        /// load balancer that accepts and drops at once does exactly that — and its report would
        /// then find no `.ready` connection to retire; `connect()` checks this flag under the
        /// same lock, so such a connection is never installed.
        var unusable: UnusableFlag
    }

    /// The reason a server certificate was refused, set by the verification callback.
    final class RefusalNote: Sendable {
        private let note = Mutex<String?>(nil)
        func set(_ text: String) { self.note.withLock { $0 = text } }
        var value: String? { self.note.withLock { $0 } }
    }

    final class UnusableFlag: Sendable {
        private let value = Atomic<Bool>(false)
        func set() { self.value.store(true, ordering: .releasing) }
        var isSet: Bool { self.value.load(ordering: .acquiring) }
    }

    struct ConnectionLostAtOnce: Error, CustomStringConvertible {
        var description: String { "the connection closed as soon as it opened" }
    }

    /// Call tokens of one connection, taken without a trip to its event loop.
    final class CallTokens: Sendable {
        private let last = Atomic<UInt64>(0)

        func next() -> UInt64 {
            self.last.add(1, ordering: .relaxed).newValue
        }
    }

    private enum Phase {
        /// `connect()` has not dialled yet or is dialling: calls wait for the outcome.
        case connecting
        case ready(Connection)
        /// The last dial failed; calls fail fast with this error until the next attempt.
        case backingOff(RPCError)
        case shutDown
    }

    private struct State {
        var phase: Phase = .connecting
        var waiters: [UInt64: CheckedContinuation<Connection, any Error>] = [:]
        var nextWaiter: UInt64 = 0
        /// Wakes `connect()` when the current connection became unusable or shutdown began.
        var wake: CheckedContinuation<Void, Never>?
        var wakePending = false
        var wakeTimer: Scheduled<Void>?
        var shutdownRequested = false
    }

    public init(
        host: String,
        port: Int,
        configuration: WireConfiguration = WireConfiguration(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "oneseal.wire.client"),
        tls: ClientTLS? = nil
    ) {
        self.tls = tls
        self.host = host
        self.port = port
        self.configuration = configuration
        self.group = eventLoopGroup
        self.logger = logger
    }

    public func config(forMethod descriptor: MethodDescriptor) -> MethodConfig? { nil }

    // MARK: Connection management

    public func connect() async throws {
        var attempt = 0
        while !self.state.withLock({ $0.shutdownRequested }) && !Task.isCancelled {
            do {
                let connection = try await self.dial()
                let (installed, waiters) = self.state.withLock { state -> (Bool, [CheckedContinuation<Connection, any Error>]) in
                    guard !state.shutdownRequested else { return (true, []) }
                    guard !connection.unusable.isSet else { return (false, []) }
                    state.phase = .ready(connection)
                    defer { state.waiters.removeAll() }
                    return (true, Array(state.waiters.values))
                }
                // Dropped before it could be used: a failed attempt (backoff, not a hot loop).
                guard installed else {
                    self.logger.debug("connection dropped before use", metadata: ["peer": "\(self.host):\(self.port)"])
                    connection.channel.close(promise: nil)
                    throw ConnectionLostAtOnce()
                }
                attempt = 0
                if self.state.withLock({ $0.shutdownRequested }) {
                    connection.handler.eventLoop.execute { connection.handler.value.beginGracefulClose() }
                    try? await connection.channel.closeFuture.get()
                    break
                }
                for waiter in waiters { waiter.resume(returning: connection) }
                self.logger.debug("connected", metadata: ["peer": "\(self.host):\(self.port)"])
                await self.waitForWake()
                if Task.isCancelled {
                    connection.channel.close(promise: nil)
                    break
                }
                let shuttingDown = self.state.withLock { state -> Bool in
                    if case .ready(let current) = state.phase, current.channel === connection.channel {
                        state.phase = state.shutdownRequested ? .shutDown : .connecting
                    }
                    return state.shutdownRequested
                }
                if shuttingDown {
                    connection.handler.eventLoop.execute { connection.handler.value.beginGracefulClose() }
                    try? await connection.channel.closeFuture.get()
                    break
                }
            } catch {
                let failure = RPCError(
                    code: .unavailable,
                    message: "cannot connect to \(self.host):\(self.port): \(error)",
                    cause: error
                )
                let waiters = self.state.withLock { state -> [CheckedContinuation<Connection, any Error>] in
                    if !state.shutdownRequested { state.phase = .backingOff(failure) }
                    defer { state.waiters.removeAll() }
                    return Array(state.waiters.values)
                }
                for waiter in waiters { waiter.resume(throwing: failure) }
                let delay = self.configuration.reconnectBackoff.delay(attempt: attempt)
                attempt += 1
                // The first failure of a streak is news; the retries that follow are not.
                self.logger.log(
                    level: attempt == 1 ? .info : .debug,
                    "connect failed; retrying",
                    metadata: ["peer": "\(self.host):\(self.port)", "error": "\(error)", "delay": "\(delay)", "attempt": "\(attempt)"]
                )
                await self.waitForWake(timeout: delay)
                self.state.withLock { state in
                    if case .backingOff = state.phase, !state.shutdownRequested { state.phase = .connecting }
                }
            }
        }
        let waiters = self.state.withLock { state -> [CheckedContinuation<Connection, any Error>] in
            state.phase = .shutDown
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume(throwing: RPCError(code: .unavailable, message: "client transport is shut down")) }
    }

    public func beginGracefulShutdown() {
        let wake = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.shutdownRequested = true
            return self.takeWake(&state)
        }
        wake?.resume()
    }

    private func dial() async throws -> Connection {
        let configuration = self.configuration
        let logger = self.logger
        let tls = self.tls
        let refusal = RefusalNote()
        let (channel, handshake) = try await ClientBootstrap(group: self.group)
            .connectTimeout(TimeAmount(configuration.connectTimeout))
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connect(host: self.host, port: self.port) { channel in
                channel.eventLoop.makeCompletedFuture { () throws -> (any Channel, EventLoopFuture<Void>?) in
                    var handshake: EventLoopFuture<Void>?
                    if let tls {
                        let promise = channel.eventLoop.makePromise(of: Void.self)
                        try channel.pipeline.syncOperations.addHandler(
                            try tls.material.makeClientHandler(expectedNode: tls.expectedNode, expectedService: tls.expectedService) { reason in
                                refusal.set(reason.describe(escaping: { WireText.escaped($0) }))
                            }
                        )
                        try channel.pipeline.syncOperations.addHandler(TLSHandshakeWaiter(promise: promise))
                        handshake = promise.futureResult
                    }
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(CallFrameDecoder(maximumFrameSize: configuration.maximumFrameSize))
                    )
                    return (channel, handshake)
                }
            }
        if let handshake {
            do { try await handshake.get() } catch {
                channel.close(promise: nil)
                if let reason = refusal.value {
                    logger.warning("refused the server's certificate", metadata: ["peer": "\(self.host):\(self.port)", "reason": "\(reason)"])
                    throw ServerCertificateRefused(description: "server certificate refused: \(reason)")
                }
                throw error
            }
        }
        let unusable = UnusableFlag()
        let onUnusable: @Sendable (String) -> Void = { [weak self] _ in
            unusable.set()
            self?.connectionBecameUnusable(channel)
        }
        let (handler, remotePeer, localPeer) = try await channel.eventLoop.submit {
            () throws -> (NIOLoopBound<ClientConnectionHandler>, String, String) in
            let handler = ClientConnectionHandler(configuration: configuration, logger: logger, onUnusable: onUnusable)
            try channel.pipeline.syncOperations.addHandler(handler)
            // A peer that closed right after accepting has already fired channelInactive, before
            // this handler was there to hear it; it would never learn the connection is dead and
            // every call on it would wait for its deadline. Checked on the loop, so a later close
            // reaches the handler.
            guard channel.isActive else { throw ConnectionLostAtOnce() }
            return (NIOLoopBound(handler, eventLoop: channel.eventLoop), handler.remotePeer, handler.localPeer)
        }.get()
        let outbound = OutboundQueue<ClientOutboundOp>(eventLoop: channel.eventLoop) { ops in
            handler.value.perform(ops)
        }
        return Connection(
            channel: channel, handler: handler, outbound: outbound, tokens: CallTokens(),
            remotePeer: remotePeer, localPeer: localPeer, unusable: unusable
        )
    }

    private func connectionBecameUnusable(_ channel: any Channel) {
        let wake = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard case .ready(let current) = state.phase, current.channel === channel else { return nil }
            state.phase = .connecting
            return self.takeWake(&state)
        }
        wake?.resume()
    }

    private func takeWake(_ state: inout State) -> CheckedContinuation<Void, Never>? {
        if let wake = state.wake {
            state.wake = nil
            return wake
        }
        state.wakePending = true
        return nil
    }

    /// Suspends `connect()` until the connection is unusable, shutdown begins, the task is
    /// cancelled, or `timeout` passes. A single stored continuation, resumed by whoever takes it
    /// first under the lock, so it is resumed exactly once.
    private func waitForWake(timeout: Duration? = nil) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = self.state.withLock { state -> Bool in
                    if state.wakePending || state.shutdownRequested || Task.isCancelled {
                        state.wakePending = false
                        return true
                    }
                    state.wake = continuation
                    return false
                }
                if resumeNow {
                    continuation.resume()
                } else if let timeout {
                    let timer = self.group.any().scheduleTask(in: TimeAmount(timeout)) { self.fireWake() }
                    self.state.withLock { $0.wakeTimer = timer }
                }
            }
        } onCancel: {
            self.fireWake()
        }
        let timer = self.state.withLock { state -> Scheduled<Void>? in
            state.wakePending = false
            defer { state.wakeTimer = nil }
            return state.wakeTimer
        }
        timer?.cancel()
    }

    private func fireWake() {
        let wake = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
            defer { state.wake = nil }
            return state.wake
        }
        wake?.resume()
    }

    /// The connection a new call should use, waiting for a dial in progress.
    private func currentConnection(waitForReady: Bool) async throws -> Connection {
        enum Decision {
            case use(Connection)
            case fail(RPCError)
            case wait
        }
        let decision = self.state.withLock { state -> Decision in
            switch state.phase {
            case .ready(let connection): return .use(connection)
            case .connecting: return .wait
            case .backingOff(let error): return waitForReady ? .wait : .fail(error)
            case .shutDown: return .fail(RPCError(code: .unavailable, message: "client transport is shut down"))
            }
        }
        switch decision {
        case .use(let connection): return connection
        case .fail(let error): throw error
        case .wait:
            return try await withCheckedThrowingContinuation { continuation in
                let immediate = self.state.withLock { state -> Result<Connection, any Error>? in
                    switch state.phase {
                    case .ready(let connection): return .success(connection)
                    case .shutDown: return .failure(RPCError(code: .unavailable, message: "client transport is shut down"))
                    case .backingOff(let error) where !waitForReady: return .failure(error)
                    case .connecting, .backingOff:
                        state.nextWaiter += 1
                        state.waiters[state.nextWaiter] = continuation
                        return nil
                    }
                }
                if let immediate { continuation.resume(with: immediate) }
            }
        }
    }

    // MARK: Calls

    public func withStream<T: Sendable>(
        descriptor: MethodDescriptor,
        options: CallOptions,
        _ closure: (_ stream: RPCStream<Inbound, Outbound>, _ context: ClientContext) async throws -> T
    ) async throws -> T {
        let connection = try await self.currentConnection(waitForReady: options.waitForReady ?? false)
        // The call registers itself on the loop with its first part (the Open): nothing to await
        // here. Should the connection close in between, that part ends the call with UNAVAILABLE.
        let inbound = ClientConnectionHandler.Inbound()
        let call = ClientCallInfo(
            token: connection.tokens.next(),
            method: "/" + descriptor.fullyQualifiedMethod,
            timeout: options.timeout,
            inbound: inbound
        )
        let stream = RPCStream(
            descriptor: descriptor,
            inbound: RPCAsyncSequence<RPCResponsePart<[UInt8]>, any Error>(wrapping: ResponsePartSequence(stream: inbound)),
            outbound: RPCWriter<RPCRequestPart<[UInt8]>>.Closable(wrapping: ClientStreamWriter(call: call, outbound: connection.outbound))
        )
        let context = ClientContext(descriptor: descriptor, remotePeer: connection.remotePeer, localPeer: connection.localPeer)
        let outbound = connection.outbound
        defer {
            // The caller left. If the server has not closed the call, cancel it on the wire; once
            // ended, a request part still on its way cannot reopen it. A call the server already
            // closed (the usual case) costs no trip to the loop here.
            if inbound.abandon() {
                outbound.enqueue(.cancel(token: call.token, reason: "client abandoned the call"))
            }
        }
        return try await closure(stream, context)
    }
}
