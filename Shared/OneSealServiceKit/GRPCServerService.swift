import GRPCCore
import Logging
import NIOCore
import OneSealWire
import ServiceLifecycle

/// Runs a `GRPCServer` on OneSeal TCP as a lifecycle `Service`: on graceful shutdown (SIGTERM) it
/// stops accepting, sends GoAway, and lets running calls finish before `run()` returns.
public struct GRPCServerService: Service {
    public let server: GRPCServer<OneSealServerTransport>
    public let transport: OneSealServerTransport

    public init(transport: OneSealServerTransport, services: [any RegistrableRPCService], interceptors: [any ServerInterceptor]) {
        self.transport = transport
        self.server = GRPCServer(transport: transport, services: services, interceptors: interceptors)
    }

    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await self.server.serve()
        } onGracefulShutdown: {
            self.server.beginGracefulShutdown()
        }
    }
}

/// Runs a `GRPCClient` (connections to a peer) as a lifecycle `Service`.
public struct GRPCClientService<Transport: ClientTransport>: Service {
    public let client: GRPCClient<Transport>

    public init(client: GRPCClient<Transport>) {
        self.client = client
    }

    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await self.client.runConnections()
        } onGracefulShutdown: {
            self.client.beginGracefulShutdown()
        }
    }
}
