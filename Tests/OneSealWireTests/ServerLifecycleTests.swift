import GRPCCore
import NIOCore
import Testing

@testable import OneSealWire

/// A server may be told to stop at any moment after it was started, including while it is still
/// binding its socket (a node that fails its next start step shuts down at once).
@Suite("Server lifecycle")
struct ServerLifecycleTests {
    @Test("shutdown right after start, while binding or just after, returns cleanly with the bound address")
    func shutdownRightAfterStart() async throws {
        for attempt in 0..<200 {
            let port = try await Self.startAndStopAtOnce(pause: attempt % 4)
            #expect(port > 0, "attempt \(attempt): listeningAddress gave port \(port)")
        }
    }

    /// Starts `listen`, calls `beginGracefulShutdown` after `pause` (0: at once; 1: one yield;
    /// 2: a few yields; 3: once the address is known), waits for `listen` to return, and gives
    /// back the port `listeningAddress` reports.
    static func startAndStopAtOnce(pause: Int) async throws -> Int {
        let transport = OneSealServerTransport(host: "127.0.0.1", port: 0)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await transport.listen { stream, _ in
                    await stream.outbound.finish()
                }
            }
            switch pause {
            case 1: await Task.yield()
            case 2: for _ in 0..<5 { await Task.yield() }
            case 3: _ = try await transport.listeningAddress
            default: break
            }
            transport.beginGracefulShutdown()
            try await group.waitForAll()
        }
        return try await transport.listeningAddress.port ?? 0
    }
}
