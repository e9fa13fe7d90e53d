import GRPCCore
import Logging
import OneSealServiceKit
import OneSealWire

/// Runs a service in-process as its executable would (ServiceRunner: migrations, auth, OneSeal
/// TCP on the configured port, usually 0), gives `body` the running service and a client
/// connected to it, then shuts the service down gracefully and waits for it to stop — also when
/// `body` throws. Every service's test harness starts its node through this.
func withRunningService(
    _ definition: ServiceDefinition, configuration: NodeConfiguration, logger: Logger,
    _ body: @Sendable (RunningService, GRPCClient<OneSealClientTransport>) async throws -> Void
) async throws {
    let running = Box<RunningService?>(nil)
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
            try await ServiceRunner.run(definition, configuration: configuration, registry: nil, logger: logger, signals: []) { service in
                running.set(service)
            }
        }
        var waited = 0
        while running.get() == nil, waited < 600 {
            try await Task.sleep(for: .milliseconds(50))
            waited += 1
        }
        guard let service = running.get() else {
            group.cancelAll()
            throw RPCError(code: .unavailable, message: "\(configuration.service) did not start")
        }
        do {
            try await withGRPCClient(transport: OneSealClientTransport(host: "127.0.0.1", port: service.port)) { grpc in
                try await body(service, grpc)
            }
        } catch {
            await service.shutdown()
            throw error
        }
        await service.shutdown()
        try await group.waitForAll()
    }
}
