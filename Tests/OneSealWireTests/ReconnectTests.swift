import GRPCCore
import NIOCore
import NIOPosix
import Testing
@testable import OneSealWire

/// A peer that accepts a connection and drops it at once (a relay with its far side down, a load
/// balancer with no healthy backend): the client must keep treating that as a failed attempt and
/// reconnect once a real server answers, never keep a dead connection as its current one.
@Suite("Client reconnects after connections dropped at once")
struct ReconnectTests {
    @Test("calls fail UNAVAILABLE while every connection is dropped on accept; the same client works once a server listens there")
    func droppedOnAccept() async throws {
        let dropper = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { $0.close() }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(dropper.localAddress?.port)
        var configuration = WireConfiguration()
        configuration.reconnectBackoff = .init(initial: .milliseconds(20), multiplier: 2, maximum: .milliseconds(200))
        try await withEchoClient(port: port, configuration: configuration) { client in
            for _ in 0..<3 {
                // A generous deadline: under load the answer may be slow, but it must be UNAVAILABLE
                // (before the fix these calls always ran into their deadline).
                await #expect { _ = try await client.echo("dropped", timeout: .seconds(15)) } throws: {
                    ($0 as? RPCError)?.code == .unavailable
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            try await dropper.close()

            let observations = HandlerObservations()
            let transport = OneSealServerTransport(host: "127.0.0.1", port: port)
            let server = GRPCServer(transport: transport, services: [EchoService(observations: observations)])
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await server.serve() }
                var answer: String?
                for _ in 0..<100 where answer == nil {
                    answer = try? await client.echo("back", timeout: .seconds(5))
                    if answer == nil { try await Task.sleep(for: .milliseconds(50)) }
                }
                #expect(answer == "back")
                server.beginGracefulShutdown()
                try await group.waitForAll()
            }
        }
    }
}
