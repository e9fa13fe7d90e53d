import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2Posix
import NIOCore
import NIOPosix
import OneSealServiceKit
import ServiceLifecycle
import Synchronization
import Testing

/// The limits the HTTP/2 transport does not have of its own and the port adds (decision G4): calls
/// per server and connections per server, at 1 each so a test can reach them.
@Suite("gRPC over HTTP/2 port limits")
struct GRPCHTTP2LimitsTests {
    /// `/test.Gate/Wait`: answers once the test opens the gate, so a call can be held open.
    struct GateService: RegistrableRPCService {
        static let wait = MethodDescriptor(fullyQualifiedService: "test.Gate", method: "Wait")
        let gate: Gate

        final class Gate: Sendable {
            let opened = Mutex(false)
            let entered = Atomic<Int>(0)
            func wait() async throws {
                self.entered.wrappingAdd(1, ordering: .relaxed)
                while !self.opened.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(10)) }
            }
        }

        func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
            let gate = self.gate
            router.registerHandler(forMethod: Self.wait, deserializer: Bytes(), serializer: Bytes()) { request, _ in
                for try await _ in request.messages {}
                try await gate.wait()
                return StreamingServerResponse { writer in
                    try await writer.write([1])
                    return [:]
                }
            }
        }
    }

    struct Bytes: MessageSerializer, MessageDeserializer {
        func serialize<Output: GRPCContiguousBytes>(_ message: [UInt8]) throws -> Output { Output(message) }
        func deserialize<Input: GRPCContiguousBytes>(_ bytes: Input) throws -> [UInt8] { bytes.withUnsafeBytes { Array($0) } }
    }

    static func call(_ client: GRPCClient<HTTP2ClientTransport.Posix>) async throws -> [UInt8] {
        var options = CallOptions.defaults
        // Generous: the limit test holds its first call open while the second is refused, and on a
        // loaded 2-core run (the end-to-end clusters beside it) that took over 10 s once.
        options.timeout = .seconds(60)
        return try await client.unary(
            request: ClientRequest(message: [0]), descriptor: GateService.wait, serializer: Bytes(), deserializer: Bytes(), options: options
        ) { try $0.message }
    }

    static func withServer(
        calls: Int = 100, connections: Int = 100, idle: Duration? = nil, _ body: @Sendable (Int, GateService.Gate) async throws -> Void
    ) async throws {
        var configuration = GRPCHTTP2Configuration(host: "127.0.0.1", port: 0)
        configuration.maximumServerCalls = calls
        configuration.maximumConnections = connections
        configuration.idleTimeout = idle
        let gate = GateService.Gate()
        let service = GRPCHTTP2ServerService(configuration: configuration, services: [GateService(gate: gate)], interceptors: [])
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await service.run() }
            let port = try await service.transport.listeningAddress.ipv4!.port
            do { try await body(port, gate) } catch {
                gate.opened.withLock { $0 = true }
                service.server.beginGracefulShutdown()
                throw error
            }
            gate.opened.withLock { $0 = true }
            service.server.beginGracefulShutdown()
            try await group.waitForAll()
        }
    }

    static func client(_ port: Int) throws -> HTTP2ClientTransport.Posix {
        try HTTP2ClientTransport.Posix(target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext)
    }

    @Test("a call beyond the server's call limit is RESOURCE_EXHAUSTED; once one ends the next is served")
    func callLimit() async throws {
        try await Self.withServer(calls: 1) { port, gate in
            try await withGRPCClient(transport: try Self.client(port)) { client in
                try await withThrowingTaskGroup(of: [UInt8].self) { group in
                    group.addTask { try await Self.call(client) }
                    while gate.entered.load(ordering: .relaxed) < 1 { try await Task.sleep(for: .milliseconds(10)) }
                    let refused = await #expect(throws: RPCError.self) { _ = try await Self.call(client) }
                    #expect(refused?.code == .resourceExhausted, "\(String(describing: refused))")
                    gate.opened.withLock { $0 = true }
                    #expect(try await group.next() == [1])
                }
                #expect(try await Self.call(client) == [1])
            }
        }
    }

    /// Keeps every byte the server sends, for the test to read frames from.
    final class Received: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let bytes = Mutex<[UInt8]>([])
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = Self.unwrapInboundIn(data)
            self.bytes.withLock { $0 += Array(buffer.readableBytesView) }
        }

        /// Types of the complete HTTP/2 frames received (9-byte header: length, type, flags, stream).
        var frameTypes: [UInt8] {
            let bytes = self.bytes.withLock { $0 }
            var types: [UInt8] = []
            var index = 0
            while index + 9 <= bytes.count {
                let length = Int(bytes[index]) << 16 | Int(bytes[index + 1]) << 8 | Int(bytes[index + 2])
                guard index + 9 + length <= bytes.count else { break }
                types.append(bytes[index + 3])
                index += 9 + length
            }
            return types
        }
    }

    /// grpc-swift-nio-transport 2.9.2's idle close is graceful: GOAWAY and a PING, and the
    /// connection closes when the peer acknowledges the PING. A peer that never does keeps it until
    /// TCP ends (decision G4; the connection limit bounds how many).
    @Test("a connection with no call gets GOAWAY after the idle timeout")
    func idleTimeout() async throws {
        try await Self.withServer(idle: .milliseconds(300)) { port, _ in
            let received = Received()
            // From before the connect: the server's idle clock starts at its accept, later.
            let start = ContinuousClock.now
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(received) } }
                .connect(host: "127.0.0.1", port: port).get()
            // The HTTP/2 client preface and an empty SETTINGS frame: a connection, and never a call.
            var hello = channel.allocator.buffer(string: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
            hello.writeBytes([0, 0, 0, 0x04, 0, 0, 0, 0, 0])
            try await channel.writeAndFlush(hello)
            // Polled, so a server that never sends it fails the test in 10 s instead of hanging it.
            while !received.frameTypes.contains(0x07), ContinuousClock.now - start < .seconds(10) {
                try await Task.sleep(for: .milliseconds(20))
            }
            let elapsed = ContinuousClock.now - start
            try? await channel.close()
            #expect(received.frameTypes.contains(0x07), "no GOAWAY within 10 s; frames: \(received.frameTypes)")
            #expect(elapsed >= .milliseconds(290))
        }
    }

    @Test("a connection beyond the server's connection limit is closed at once; the first keeps working")
    func connectionLimit() async throws {
        try await Self.withServer(connections: 1) { port, gate in
            gate.opened.withLock { $0 = true }
            try await withGRPCClient(transport: try Self.client(port)) { first in
                #expect(try await Self.call(first) == [1])
                try await withGRPCClient(transport: try Self.client(port)) { second in
                    await #expect(throws: RPCError.self) { _ = try await Self.call(second) }
                }
                #expect(try await Self.call(first) == [1])
            }
        }
    }
}
