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
    let logger: Logger

    public init(
        transport: OneSealServerTransport, services: [any RegistrableRPCService], interceptors: [any ServerInterceptor],
        logger: Logger = Logger(label: "oneseal.wire")
    ) {
        self.transport = transport
        self.server = GRPCServer(transport: transport, services: services, interceptors: interceptors)
        self.logger = logger
    }

    /// A failure to serve (above all: the port is taken) is logged here, at once, with the
    /// transport's own reason, then thrown: the service group cancels the other services and the
    /// process exits non-zero (`ServiceRunner.main`).
    public func run() async throws {
        do {
            try await withGracefulShutdownHandler {
                try await self.server.serve()
            } onGracefulShutdown: {
                self.server.beginGracefulShutdown()
            }
        } catch {
            let reason = (error as? RuntimeError)?.cause.map { "\($0)" } ?? "\(error)"
            self.logger.critical(
                "RPC server failed",
                metadata: ["address": "\(self.transport.host):\(self.transport.port)", "error": "\(reason)"]
            )
            throw error
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
