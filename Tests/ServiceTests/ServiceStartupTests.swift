import Foundation
import GRPCCore
import Logging
import NIOCore
import NIOPosix
import OneSealServiceKit
import OneSealTestSupport
import OneSealWire
import Prometheus
import ServiceLifecycle
import Synchronization
import Testing

/// A service whose RPC port is taken must say so and stop at once (#15, item 3): it used to bind
/// its metrics port, hang with no error, ignore SIGTERM, and need SIGKILL.
@Suite("Service start-up on a taken port")
struct ServiceStartupTests {
    /// Holds a port the way another process would: a listening socket on 127.0.0.1.
    static func takePort() async throws -> (any Channel, Int) {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        return (channel, channel.localAddress?.port ?? 0)
    }

    @Test("in process: the service group fails within seconds with the bind error, the metrics server stopped too")
    func groupFailsPromptly() async throws {
        let (holder, port) = try await Self.takePort()
        defer { holder.close(promise: nil) }
        let transport = OneSealServerTransport(host: "127.0.0.1", port: port)
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [
                    .init(service: MetricsHTTPServer(host: "127.0.0.1", port: 0, registry: PrometheusCollectorRegistry(), logger: Logger(label: "test"))),
                    .init(service: GRPCServerService(transport: transport, services: [], interceptors: [])),
                ],
                gracefulShutdownSignals: [],
                logger: Logger(label: "test")
            )
        )
        let started = ContinuousClock.now
        // Unstructured on purpose: if the group hangs (the bug), the test fails after 10 s instead
        // of waiting for it forever.
        let outcome = await withCheckedContinuation { (continuation: CheckedContinuation<String, Never>) in
            let once = Once()
            let finish: @Sendable (String) -> Void = { text in
                if once.first() { continuation.resume(returning: text) }
            }
            Task {
                do {
                    try await group.run()
                    finish("returned without an error")
                } catch {
                    finish("failed: \(error)")
                }
            }
            Task {
                try? await Task.sleep(for: .seconds(60))
                finish("still running after 60 s")
            }
        }
        #expect(outcome.hasPrefix("failed"), "\(outcome)")
        // "Promptly" means "not hanging": a full run on two cores once took 8.9 s here.
        #expect(ContinuousClock.now - started < .seconds(30))
        // The address promise fails too, instead of waiting forever.
        await #expect(throws: (any Error).self) { _ = try await transport.listeningAddress }
    }

    @Test("as a process: logs the bind failure and exits non-zero at once")
    func processExitsPromptly() async throws {
        let (holder, port) = try await Self.takePort()
        defer { holder.close(promise: nil) }
        try await withTestDatabase(prefix: "taken_port") { _, database in
            let process = try ServiceProcess(
                executable: "oneseal-intake",
                environment: [
                    "ONESEAL_NODE": "371300",
                    "ONESEAL_PORT": "\(port)",
                    "ONESEAL_METRICS_PORT": "0",
                    "ONESEAL_DATABASE_URL": database.conninfo,
                    "ONESEAL_DATA_KEY_FILE": try ServiceExecutableTests.dataKeyFile(),
                ]
            )
            #expect(await process.waitForLine(containing: "database ready") != nil)
            let started = ContinuousClock.now
            let status = await process.waitForExit()
            if status == nil { kill(process.process.processIdentifier, SIGKILL) }  // the old hang ignored SIGTERM
            #expect(status != nil && status != 0, "exit status \(String(describing: status))")
            #expect(ContinuousClock.now - started < .seconds(10))
            #expect(process.lines.contains { $0.contains("RPC server failed") && $0.lowercased().contains("address already in use") }, "\(process.lines)")
        }
    }
}

/// True the first time only, from any thread.
final class Once: Sendable {
    private let done = Mutex(false)

    func first() -> Bool {
        self.done.withLock { done in
            defer { done = true }
            return !done
        }
    }
}
