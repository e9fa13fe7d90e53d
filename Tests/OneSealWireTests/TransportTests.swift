import GRPCCore
import NIOCore
import NIOPosix
import OneSealProto
@testable import OneSealWire
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// GRPCCore clients and servers talking over real loopback TCP through OneSeal TCP.
@Suite("OneSeal TCP transport")
struct TransportTests {
    @Test("unary call carries message, metadata and trailers")
    func unary() async throws {
        try await withEchoServer { port, _, _ in
            try await withEchoClient(port: port) { client in
                let (text, echoed, trailer) = try await client.unary(
                    request: ClientRequest(message: Array("受理".utf8), metadata: ["x-echo": "371302"]),
                    descriptor: EchoService.unary,
                    serializer: BytesCoder(),
                    deserializer: BytesCoder(),
                    options: .defaults
                ) { response in
                    (
                        String(decoding: try response.message, as: UTF8.self),
                        Array(response.metadata[stringValues: "x-echo"]),
                        Array(response.trailingMetadata[stringValues: "x-trailer"])
                    )
                }
                #expect(text == "受理")
                #expect(echoed == ["371302"])
                #expect(trailer == ["done"])
            }
        }
    }

    @Test("server, client and bidirectional streaming")
    func streaming() async throws {
        try await withEchoServer { port, _, _ in
            try await withEchoClient(port: port) { client in
                let expanded = try await client.serverStreaming(
                    request: ClientRequest(message: Array("5".utf8)),
                    descriptor: EchoService.expand,
                    serializer: BytesCoder(),
                    deserializer: BytesCoder(),
                    options: .defaults
                ) { response in
                    var parts: [String] = []
                    for try await message in response.messages { parts.append(String(decoding: message, as: UTF8.self)) }
                    return parts
                }
                #expect(expanded == ["0", "1", "2", "3", "4"])

                let total = try await client.clientStreaming(
                    request: StreamingClientRequest(of: [UInt8].self) { writer in
                        for _ in 0..<10 { try await writer.write([UInt8](repeating: 1, count: 1000)) }
                    },
                    descriptor: EchoService.collect,
                    serializer: BytesCoder(),
                    deserializer: BytesCoder(),
                    options: .defaults
                ) { response in String(decoding: try response.message, as: UTF8.self) }
                #expect(total == "10000")

                let replies = try await client.bidirectionalStreaming(
                    request: StreamingClientRequest(of: [UInt8].self) { writer in
                        for word in ["abc", "xyz"] { try await writer.write(Array(word.utf8)) }
                    },
                    descriptor: EchoService.chat,
                    serializer: BytesCoder(),
                    deserializer: BytesCoder(),
                    options: .defaults
                ) { response in
                    var parts: [String] = []
                    for try await message in response.messages { parts.append(String(decoding: message, as: UTF8.self)) }
                    return parts
                }
                #expect(replies == ["cba", "zyx"])
            }
        }
    }

    @Test("1,000 concurrent calls share one connection")
    func thousandConcurrentCalls() async throws {
        // Above the default of 256 streams per connection (#15), so the server is told to allow them.
        var configuration = WireConfiguration()
        configuration.maximumConcurrentStreams = 1_024
        try await withEchoServer(configuration: configuration) { port, _, _ in
            try await withEchoClient(port: port) { client in
                let answers = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                    for index in 0..<1000 {
                        group.addTask { (index, try await client.echo("call-\(index)")) }
                    }
                    var answers: [Int: String] = [:]
                    for try await (index, answer) in group { answers[index] = answer }
                    return answers
                }
                #expect(answers.count == 1000)
                #expect(answers.allSatisfy { $0.value == "call-\($0.key)" })
            }
        }
    }

    @Test("an expired deadline fails the call and cancels the handler")
    func deadline() async throws {
        try await withEchoServer { port, observations, _ in
            try await withEchoClient(port: port) { client in
                await #expect {
                    // Long enough for the handler to start even on a loaded CI machine.
                    try await client.hang("deadline", timeout: .seconds(2))
                } throws: { error in
                    (error as? RPCError)?.code == .deadlineExceeded
                }
                // On a loaded machine the server may read the Open only after the client's Cancel and
                // never start the handler; a handler that did start must have been cancelled.
                #expect(await observations.eventually { !$0.startedTags.contains("deadline") || $0.cancelledTags.contains("deadline") })
                // The connection is still good for the next call.
                let answer = try await client.echo("after")
                #expect(answer == "after")
            }
        }
    }

    @Test("cancelling the caller's task cancels the handler")
    func cancellation() async throws {
        try await withEchoServer { port, observations, _ in
            try await withEchoClient(port: port) { client in
                let call = Task { try await client.hang("cancel-me") }
                #expect(await observations.eventually { $0.startedTags.contains("cancel-me") })
                call.cancel()
                _ = await call.result
                #expect(await observations.eventually { $0.cancelledTags.contains("cancel-me") })
                let answer = try await client.echo("still-alive")
                #expect(answer == "still-alive")
            }
        }
    }

    @Test("an unknown method is UNIMPLEMENTED")
    func unknownMethod() async throws {
        try await withEchoServer { port, _, _ in
            try await withEchoClient(port: port) { client in
                await #expect {
                    _ = try await client.unary(
                        request: ClientRequest(message: [1]),
                        descriptor: MethodDescriptor(fullyQualifiedService: "oneseal.test.v1.Echo", method: "Nope"),
                        serializer: BytesCoder(),
                        deserializer: BytesCoder(),
                        options: .defaults
                    ) { try $0.message }
                } throws: { error in
                    (error as? RPCError)?.code == .unimplemented
                }
            }
        }
    }

    @Test("a message that is not valid protobuf is INVALID_ARGUMENT")
    func invalidProtobuf() async throws {
        try await withEchoServer { port, _, _ in
            try await withEchoClient(port: port) { client in
                await #expect {
                    _ = try await client.unary(
                        request: ClientRequest(message: [0xFF, 0xFF, 0xFF]),
                        descriptor: EchoService.ping,
                        serializer: BytesCoder(),
                        deserializer: BytesCoder(),
                        options: .defaults
                    ) { try $0.message }
                } throws: { error in
                    (error as? RPCError)?.code == .invalidArgument
                }
            }
        }
    }

    @Test("a call to a port nobody listens on fails fast with UNAVAILABLE, then reconnects")
    func reconnect() async throws {
        // The port is found free and left closed for the first call; another socket of the run (any
        // client's ephemeral port) may take it before the server binds it, so a taken port means
        // "try another one", up to 5 times.
        for attempt in 1...5 {
            do {
                try await self.reconnect(attempt: attempt)
                return
            } catch let error as IOError where error.errnoCode == EADDRINUSE && attempt < 5 {
                continue
            }
        }
    }

    private func reconnect(attempt: Int) async throws {
        let probe = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let port = probe.localAddress!.port!
        try await probe.close()

        var fast = WireConfiguration()
        fast.reconnectBackoff = .init(initial: .milliseconds(20), multiplier: 1.5, maximum: .milliseconds(100))
        try await withEchoClient(port: port, configuration: fast) { client in
            await #expect {
                _ = try await client.echo("nobody home")
            } throws: { error in
                (error as? RPCError)?.code == .unavailable
            }
            let transport = OneSealServerTransport(host: "127.0.0.1", port: port)
            let server = GRPCServer(transport: transport, services: [EchoService(observations: HandlerObservations())])
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await server.serve() }
                _ = try await transport.listeningAddress
                var answer: String?
                for _ in 0..<100 where answer == nil {
                    answer = try? await client.echo("back")
                    if answer == nil { try await Task.sleep(for: .milliseconds(20)) }
                }
                #expect(answer == "back")
                server.beginGracefulShutdown()
                try await group.waitForAll()
            }
        }
    }

    @Test("losing the connection fails open calls with UNAVAILABLE")
    func connectionLoss() async throws {
        // A server that reads the Open frame and then drops the connection.
        let dropper = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(DropOnFirstRead())
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        defer { dropper.close(promise: nil) }
        try await withEchoClient(port: dropper.localAddress!.port!) { client in
            await #expect {
                _ = try await client.echo("into the void")
            } throws: { error in
                (error as? RPCError)?.code == .unavailable
            }
        }
    }

    @Test("a peer that stops answering pings is dropped and its calls fail with UNAVAILABLE")
    func keepaliveTimeout() async throws {
        // A server that accepts the connection and then never writes a byte.
        let silent = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Swallow()) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        defer { silent.close(promise: nil) }
        var configuration = WireConfiguration()
        configuration.keepaliveInterval = .milliseconds(50)
        configuration.keepaliveTimeout = .milliseconds(150)
        try await withEchoClient(port: silent.localAddress!.port!, configuration: configuration) { client in
            let started = ContinuousClock.now
            await #expect {
                _ = try await client.echo("anyone there?")
            } throws: { error in
                (error as? RPCError)?.code == .unavailable
            }
            // Failed by the keepalive, not by some long default timeout.
            // (A bound far below "forever" that a machine loaded by parallel builds still meets.)
            #expect(ContinuousClock.now - started < .seconds(60))
        }
    }

    @Test("graceful shutdown lets a running call finish and refuses new ones")
    func gracefulDrain() async throws {
        try await withEchoServer { port, _, server in
            try await withEchoClient(port: port) { client in
                // The first reply proves the server has the call; only then does it begin to
                // drain, and the call must still complete on the old connection.
                let (firstReply, firstReplyContinuation) = AsyncStream.makeStream(of: Void.self)
                let slow = try await client.bidirectionalStreaming(
                    request: StreamingClientRequest(of: [UInt8].self) { writer in
                        try await writer.write([1, 2, 3])
                        for await _ in firstReply { break }
                        server.beginGracefulShutdown()
                        try await Task.sleep(for: .milliseconds(100))
                        try await writer.write([4, 5])
                    },
                    descriptor: EchoService.chat,
                    serializer: BytesCoder(),
                    deserializer: BytesCoder(),
                    options: .defaults
                ) { response in
                    var replies: [[UInt8]] = []
                    for try await message in response.messages {
                        replies.append(message)
                        firstReplyContinuation.yield()
                    }
                    return replies
                }
                #expect(slow == [[3, 2, 1], [5, 4]])
                await #expect {
                    _ = try await client.echo("too late")
                } throws: { error in
                    (error as? RPCError)?.code == .unavailable
                }
            }
        }
    }
}

/// Reads and ignores everything.
final class Swallow: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
}

/// Closes the connection as soon as anything arrives.
final class DropOnFirstRead: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.close(promise: nil)
    }
}
