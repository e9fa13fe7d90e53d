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
func withTwoNodes(_ body: @Sendable (LocalCluster, Hall) async throws -> Void) async throws {
    let calendar = FileManager.default.temporaryDirectory.appendingPathComponent("oneseal-e2e-calendar-\(UUID().uuidString.prefix(8)).txt")
    try provisional2027.write(to: calendar, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(at: calendar) }
    let cluster = try await LocalCluster.start(
        adminConninfo: try TestDatabase.adminConninfo(), binDirectory: buildDirectory, environment: ["ONESEAL_CALENDAR_FILE": calendar.path])
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

/// The tests run on today's date, and a 45-working-day city item decided from late 2026 runs into
/// 2027, whose State Council notice is not built in (the calendar refuses unknown years rather than
/// guess). The tests load what the law already fixes — 元旦, 1 January (全国年节及纪念日放假办法
/// Art. 2) — through ONESEAL_CALENDAR_FILE, exactly as an operator loads the real notice. It is a
/// test fixture, not a calendar to run a hall on.
let provisional2027 = """
# Test fixture: 2027 as far as the law fixes it before the notice (only New Year's Day).
2027 off 2027-01-01
"""
