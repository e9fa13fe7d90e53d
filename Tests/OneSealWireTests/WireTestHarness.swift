import GRPCCore
import Logging
import Metrics
import NIOCore
import NIOPosix
import OneSealProto
import Synchronization
@testable import OneSealWire

/// Runs a real `GRPCServer` on OneSeal TCP at 127.0.0.1 on a free port for the duration of `body`.
func withEchoServer<T: Sendable>(
    configuration: WireConfiguration = WireConfiguration(),
    _ body: (_ port: Int, _ observations: HandlerObservations, _ server: GRPCServer<OneSealServerTransport>) async throws -> T
) async throws -> T {
    let observations = HandlerObservations()
    let transport = OneSealServerTransport(host: "127.0.0.1", port: 0, configuration: configuration)
    let server = GRPCServer(transport: transport, services: [EchoService(observations: observations)])
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await server.serve() }
        let port = try await transport.listeningAddress.port!
        do {
            let result = try await body(port, observations, server)
            server.beginGracefulShutdown()
            try await group.waitForAll()
            return result
        } catch {
            server.beginGracefulShutdown()
            group.cancelAll()
            throw error
        }
    }
}

/// `withEchoServer` with the transport itself at hand (its connection and stream counts), and the
/// logger and metrics factory it reports to.
func withEchoServerTransport<T: Sendable>(
    configuration: WireConfiguration = WireConfiguration(),
    logger: Logger = Logger(label: "oneseal.wire.test"),
    metricsFactory: (any MetricsFactory)? = nil,
    _ body: (_ port: Int, _ observations: HandlerObservations, _ transport: OneSealServerTransport) async throws -> T
) async throws -> T {
    let observations = HandlerObservations()
    let transport = OneSealServerTransport(
        host: "127.0.0.1", port: 0, configuration: configuration, logger: logger, metricsFactory: metricsFactory
    )
    let server = GRPCServer(transport: transport, services: [EchoService(observations: observations)])
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await server.serve() }
        let port = try await transport.listeningAddress.port!
        do {
            let result = try await body(port, observations, transport)
            server.beginGracefulShutdown()
            try await group.waitForAll()
            return result
        } catch {
            server.beginGracefulShutdown()
            group.cancelAll()
            throw error
        }
    }
}

/// Polls `condition` until it holds; false after ~`seconds`.
func eventually(seconds: Double = 5, _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

/// Every log line a logger wrote, rendered as `level message key=value…` (values as logged).
final class CapturedLog: Sendable {
    private let lines = Mutex<[String]>([])

    var logger: Logger {
        Logger(label: "oneseal.wire.test") { _ in CapturingLogHandler(log: self) }
    }

    var all: [String] { self.lines.withLock { $0 } }

    func append(_ line: String) { self.lines.withLock { $0.append(line) } }
}

struct CapturingLogHandler: LogHandler {
    let log: CapturedLog
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let fields = (event.metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        self.log.append(([event.level.rawValue, event.message.description] + fields).joined(separator: " "))
    }
}

/// Runs a `GRPCClient` on OneSeal TCP to 127.0.0.1:`port` for the duration of `body`.
func withEchoClient<T: Sendable>(
    port: Int,
    configuration: WireConfiguration = WireConfiguration(),
    _ body: (GRPCClient<OneSealClientTransport>) async throws -> T
) async throws -> T {
    let transport = OneSealClientTransport(host: "127.0.0.1", port: port, configuration: configuration)
    return try await withGRPCClient(transport: transport) { client in try await body(client) }
}

extension GRPCClient where Transport == OneSealClientTransport {
    func echo(_ text: String, metadata: Metadata = [:], timeout: Duration? = nil) async throws -> String {
        var options = CallOptions.defaults
        options.timeout = timeout
        return try await self.unary(
            request: ClientRequest(message: Array(text.utf8), metadata: metadata),
            descriptor: EchoService.unary,
            serializer: BytesCoder(),
            deserializer: BytesCoder(),
            options: options
        ) { response in String(decoding: try response.message, as: UTF8.self) }
    }

    func sleep(_ tag: String, timeout: Duration) async throws -> String {
        var options = CallOptions.defaults
        options.timeout = timeout
        return try await self.unary(
            request: ClientRequest(message: Array(tag.utf8)),
            descriptor: EchoService.sleep,
            serializer: BytesCoder(),
            deserializer: BytesCoder(),
            options: options
        ) { response in String(decoding: try response.message, as: UTF8.self) }
    }

    func hang(_ tag: String, timeout: Duration? = nil) async throws {
        var options = CallOptions.defaults
        options.timeout = timeout
        var metadata = Metadata()
        metadata.addString(tag, forKey: "x-tag")
        _ = try await self.unary(
            request: ClientRequest(message: Array(tag.utf8), metadata: metadata),
            descriptor: EchoService.hang,
            serializer: BytesCoder(),
            deserializer: BytesCoder(),
            options: options
        ) { response in try response.message }
    }
}

/// A bare TCP peer speaking raw bytes, for feeding the server what no well-behaved client sends.
struct RawWirePeer {
    let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>

    static func connect(port: Int) async throws -> RawWirePeer {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return RawWirePeer(channel: channel)
    }

    func send(_ bytes: [UInt8]) async throws {
        try await self.channel.channel.writeAndFlush(ByteBuffer(bytes: bytes))
    }

    func send(_ frames: Wire_Frame...) async throws {
        try await self.send(frames)
    }

    func send(_ frames: [Wire_Frame]) async throws {
        var buffer = ByteBuffer()
        for frame in frames { try FrameEncoder().encode(frame, into: &buffer) }
        try await self.channel.channel.writeAndFlush(buffer)
    }

    /// Every frame the server sends until it closes the connection (or `limit` frames arrived).
    func receiveFrames(limit: Int = .max) async throws -> (frames: [Wire_Frame], closed: Bool) {
        var processor = NIOSingleStepByteToMessageProcessor(FrameDecoder())
        var frames: [Wire_Frame] = []
        try await self.channel.executeThenClose { inbound, _ in
            for try await chunk in inbound {
                try processor.process(buffer: chunk) { frames.append($0) }
                if frames.count >= limit { return }
            }
        }
        return (frames, frames.count < limit)
    }

    /// Runs `body` with this connection's inbound frames and a way to send frames, then closes it:
    /// for conversations where what to send depends on what came back.
    func converse<T: Sendable>(
        _ body: (_ next: () async throws -> Wire_Frame?, _ send: ([Wire_Frame]) async throws -> Void) async throws -> T
    ) async throws -> T {
        try await self.channel.executeThenClose { inbound, outbound in
            var processor = NIOSingleStepByteToMessageProcessor(FrameDecoder())
            var iterator = inbound.makeAsyncIterator()
            var ready: [Wire_Frame] = []
            return try await body(
                {
                    while ready.isEmpty {
                        guard let chunk = try await iterator.next() else { return nil }
                        try processor.process(buffer: chunk) { ready.append($0) }
                    }
                    return ready.removeFirst()
                },
                { frames in
                    var buffer = ByteBuffer()
                    for frame in frames { try FrameEncoder().encode(frame, into: &buffer) }
                    try await outbound.write(buffer)
                }
            )
        }
    }

    func close() async throws {
        try await self.channel.channel.close()
    }
}
