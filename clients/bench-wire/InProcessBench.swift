import GRPCCore
import GRPCInProcessTransport

/// GRPCCore's own floor: the same echo service and the same callers as the transport run, over
/// `InProcessTransport` (grpc-swift-2's client and server ends joined by async sequences in one
/// process: no sockets, no frames, no event loop). Whatever a call costs here is GRPCCore's
/// client and server machinery alone, which no OneSeal TCP change can remove; the transport is
/// judged against raw NIO, and this says how much of the gap is GRPCCore's.
func runInProcessCalls(payload: [UInt8], callers: Int, warmup: Double, duration: Double) async throws -> RunResult {
    let inProcess = InProcessTransport()
    let server = GRPCServer(transport: inProcess.server, services: [BenchEchoService()])
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await server.serve() }
        let result = try await withGRPCClient(transport: inProcess.client) { client in
            try await runTransportCalls(client: client, payload: payload, callers: callers, warmup: warmup, duration: duration)
        }
        server.beginGracefulShutdown()
        try await tasks.waitForAll()
        return result
    }
}
