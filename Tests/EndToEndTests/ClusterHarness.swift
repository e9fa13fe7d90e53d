import Foundation
import OneSealLocalCluster
import OneSealTestSupport
import Testing

/// The directory of the test binary, where SwiftPM also puts the executables it built
/// (`swift build --build-tests` builds the five services too).
var buildDirectory: URL {
    URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
        .deletingLastPathComponent()
}

/// Starts the city and the county as ten real processes on the throwaway PostgreSQL of
/// `scripts/with-postgres`, sets them up as an operator would, runs `body`, and stops them.
/// On failure the tail of every process's log is attached to the test's output.
func withTwoNodes(environment: [String: String] = [:], _ body: @Sendable (LocalCluster, Hall) async throws -> Void) async throws {
    let cluster = try await LocalCluster.start(adminConninfo: try TestDatabase.adminConninfo(), binDirectory: buildDirectory, environment: environment)
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
