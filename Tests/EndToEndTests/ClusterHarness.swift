import Foundation
import OneSealBenchSupport
import OneSealLocalCluster
import OneSealTestSupport
import Testing

/// The directory of the test binary, where SwiftPM also puts the executables it built
/// (`swift build --build-tests` builds the five services too).
var buildDirectory: URL {
    URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
        .deletingLastPathComponent()
}

/// Lets one two-node cluster run at a time (ONESEAL_TEST_CLUSTERS raises it). Each cluster is ten
/// to twelve processes with their database pools; Swift Testing runs suites in parallel, and six
/// suites' clusters at once on two cores ran PostgreSQL out of connections and the services out of
/// CPU (start-up timeouts). A suite waiting here is only queued, not timed.
actor ClusterGate {
    static let shared = ClusterGate(limit: Int(ProcessInfo.processInfo.environment["ONESEAL_TEST_CLUSTERS"] ?? "") ?? 1)

    private let limit: Int
    private var running = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(limit: Int) { self.limit = max(1, limit) }

    func enter() async {
        if running < limit {
            running += 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    /// Hands the slot to the next waiter (running stays the same) or frees it.
    func leave() {
        if waiting.isEmpty { running -= 1 } else { waiting.removeFirst().resume() }
    }
}

/// Starts the city and the county as ten real processes on the throwaway PostgreSQL of
/// `scripts/with-postgres`, sets them up as an operator would, runs `body`, and stops them.
/// On failure the tail of every process's log is attached to the test's output.
func withTwoNodes(
    adminConninfo: String? = nil, environment: [String: String] = [:], tls: Bool = true, web: Bool = false, replicas: Int = 1,
    binDirectory: URL = buildDirectory,
    _ body: @Sendable (LocalCluster, Hall) async throws -> Void
) async throws {
    await ClusterGate.shared.enter()
    do {
        try await runTwoNodes(adminConninfo: adminConninfo, environment: environment, tls: tls, web: web, replicas: replicas, binDirectory: binDirectory, body)
    } catch {
        await ClusterGate.shared.leave()
        throw error
    }
    await ClusterGate.shared.leave()
}

private func runTwoNodes(
    adminConninfo: String?, environment: [String: String], tls: Bool, web: Bool, replicas: Int, binDirectory: URL,
    _ body: @Sendable (LocalCluster, Hall) async throws -> Void
) async throws {
    let cluster = try await LocalCluster.start(
        adminConninfo: try adminConninfo ?? TestDatabase.adminConninfo(), binDirectory: binDirectory, environment: environment, tls: tls, web: web, replicas: replicas)
    do {
        try await withClusterClients(cluster) { clients in
            let hall = Hall(clients)
            try await hall.setUp(cluster.nodes)
            try await body(cluster, hall)
        }
    } catch {
        for address in cluster.allAddresses {
            print("---- \(address) (\(cluster.isRunning(address) ? "running" : "exited")) ----\n\(cluster.logTail(address, lines: 15))")
        }
        await cluster.stop()
        throw error
    }
    let crashed = cluster.exitedProcesses()
    await cluster.stop()
    #expect(crashed.isEmpty, "processes exited during the run: \(crashed.map { "\($0.0) status \($0.1)" })")
}

/// A PostgreSQL server of the test's own (`scripts/pg-throwaway`), for a test that restarts its
/// server: the other tests run at the same time on `scripts/with-postgres`'s server and must keep it.
struct OwnPostgres: Sendable {
    let directory: String
    let conninfo: String
    static var script: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/pg-throwaway").path
    }

    static func start() async throws -> OwnPostgres {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("oneseal-own-pg-\(UUID().uuidString.prefix(8))").path
        let output = directory + ".out"
        defer { try? FileManager.default.removeItem(atPath: output) }
        let status = try await Pgbench.runToCompletion([script, "start", directory], outputPath: output)
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        guard status == 0, let line = text.split(separator: "\n").last(where: { $0.hasPrefix("CONNINFO=") }) else {
            throw NotReached(what: "a PostgreSQL server of the test's own", last: text)
        }
        return OwnPostgres(directory: directory, conninfo: String(line.dropFirst("CONNINFO=".count)))
    }

    func restart() async throws -> Int32 {
        try await Pgbench.runToCompletion([Self.script, "restart", directory], outputPath: directory + ".restart.out")
    }

    func stop() async {
        _ = try? await Pgbench.runToCompletion([Self.script, "stop", directory], outputPath: "/dev/null")
        try? FileManager.default.removeItem(atPath: directory + ".restart.out")
    }
}
