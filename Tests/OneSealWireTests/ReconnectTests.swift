import GRPCCore
import NIOCore
import NIOPosix
import Testing
@testable import OneSealWire

/// A peer that accepts a connection and drops it at once (a relay with its far side down, a load
/// balancer with no healthy backend): the client must keep treating that as a failed attempt, never
/// keep a dead connection as its current one (before the fix every call then waited for its
/// deadline). That the same client works again once the far side is back is proved end to end by
/// NothingLostTests, whose county–city link is cut and restored through such a relay; re-binding the
/// same port here raced with other tests for it.
@Suite("Client reconnects after connections dropped at once")
struct ReconnectTests {
    @Test("calls fail UNAVAILABLE, not at their deadline, while every connection is dropped on accept")
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
        }
    }
}
