// oneseal-bench-store: how close does PostgresClient (libpq on a thread pool, async API) come to
// pgbench running the same single-row INSERT transaction against the same server?
//
//   scripts/with-postgres .build/release/oneseal-bench-store --clients 8 --duration 10
//
// Each side runs, per transaction, on one connection: BEGIN, the INSERT with bound parameters
// (extended protocol), COMMIT. Two pairings are measured, each like with like:
//   unprepared: PostgresClient with its statement cache off (PQexecParams: Parse/Bind/Execute
//               of an unnamed statement every time) beside `pgbench -M extended` (the same);
//   prepared:   PostgresClient with its statement cache on (PQprepare once per connection, then
//               PQexecPrepared) beside `pgbench -M prepared` (prepares every script command
//               once per connection, BEGIN and COMMIT included).
// Since #21 step 9 PostgresClient sends BEGIN in the same write as the INSERT (libpq pipeline
// mode: one round trip for both; BEGIN prepared once per session when the cache is on) and COMMIT
// as a simple-protocol query, so it waits for the server twice per transaction where pgbench
// waits three times.
// Client CPU per transaction (user + system, from getrusage) is printed for both sides.
//
// A benchmark program, not a test: it prints figures and never fails on them.
import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Histogram
import Logging
import OneSealBenchSupport
import OneSealStore

@main
struct BenchStore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "oneseal-bench-store",
        abstract: "Single-row INSERT transactions through PostgresClient, compared with pgbench.")

    @Option(help: "libpq conninfo (default: $ONESEAL_TEST_POSTGRES).")
    var conninfo: String?

    @Option(help: "Concurrent clients (connections).")
    var clients: Int = 8

    @Option(help: "Seconds per measured run.")
    var duration: Int = 10

    @Option(help: "Seconds of warm-up before measuring (not counted).")
    var warmup: Int = 2

    @Option(help: "pgbench executable.")
    var pgbench: String = "pgbench"

    @Flag(help: "Skip the pgbench comparison.")
    var skipPgbench = false

    enum Mode: String, ExpressibleByArgument, CaseIterable {
        case both, prepared, unprepared
    }

    @Option(help: "Which pairing(s) to run: prepared, unprepared or both.")
    var mode: Mode = .both

    func run() async throws {
        guard let conninfo = conninfo ?? ProcessInfo.processInfo.environment["ONESEAL_TEST_POSTGRES"] else {
            throw ValidationError("pass --conninfo or set ONESEAL_TEST_POSTGRES (scripts/with-postgres sets it)")
        }
        var logger = Logger(label: "oneseal.bench-store")
        logger.logLevel = .warning
        let setup = PostgresClient(conninfo: conninfo, maxConnections: 1, logger: logger)
        try await setup.execute("DROP TABLE IF EXISTS bench_store_tx")
        try await setup.execute(
            "CREATE TABLE bench_store_tx (id bigserial PRIMARY KEY, client int NOT NULL, payload text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())")
        await setup.shutdown()

        print("oneseal-bench-store: \(clients) clients, \(duration) s, BEGIN; INSERT (1 row, bound parameters); COMMIT")
        print("load average before: \(Pgbench.loadAverage())")
        let pairings: [(name: String, cache: Int, pgbenchMode: String)] = [
            ("unprepared", 0, "extended"), ("prepared", 256, "prepared"),
        ].filter { mode == .both || mode.rawValue == $0.0 }
        for pairing in pairings {
            let client = PostgresClient(
                configuration: PostgresClientConfiguration(
                    conninfo: conninfo, maxConnections: clients, preparedStatementCacheCapacity: pairing.cache),
                logger: logger)
            _ = try await runClients(client, seconds: warmup)
            let cpuBefore = Self.processCPUSeconds()
            let result = try await runClients(client, seconds: duration)
            let cpu = Self.processCPUSeconds() - cpuBefore
            await client.shutdown()
            let tps = Double(result.count) / result.elapsed
            let p50 = Double(result.histogram.valueAtPercentile(50)) / 1000
            let p99 = Double(result.histogram.valueAtPercentile(99)) / 1000
            print("[\(pairing.name)] PostgresClient (statement cache \(pairing.cache)): " + String(format: "%d tx in %.2f s = %.0f tx/s, p50 %.3f ms, p99 %.3f ms, client CPU %.0f µs/tx",
                         result.count, result.elapsed, tps, p50, p99, cpu * 1e6 / Double(max(1, result.count))))
            if skipPgbench { continue }
            let pg = try runPgbench(conninfo: conninfo, protocolMode: pairing.pgbenchMode)
            print("[\(pairing.name)] pgbench -M \(pairing.pgbenchMode): " + String(format: "%.0f tx/s (latency average %.3f ms), client CPU %.0f µs/tx",
                         pg.tps, pg.latencyMs, pg.cpuSeconds * 1e6 / max(1, Double(pg.transactions))))
            print("[\(pairing.name)] " + String(format: "ratio PostgresClient / pgbench = %.2f (target >= 0.80)", tps / pg.tps))
        }
        print("load average after: \(Pgbench.loadAverage()) (other processes' load makes every figure lower and noisier)")
    }

    /// User + system CPU seconds of this process so far.
    static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Pgbench.seconds(usage)
    }


    struct RunResult {
        var count: Int
        var elapsed: Double
        var histogram: Histogram<UInt64>
    }

    func runClients(_ client: PostgresClient, seconds: Int) async throws -> RunResult {
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start + .seconds(seconds)
        var merged = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        var total = 0
        try await withThrowingTaskGroup(of: (Int, Histogram<UInt64>).self) { group in
            for id in 0..<clients {
                group.addTask {
                    var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
                    var count = 0
                    let payload = "bench-\(id)"
                    while clock.now < deadline {
                        let began = clock.now
                        _ = try await client.withTransaction { tx in
                            try await tx.execute("INSERT INTO bench_store_tx (client, payload) VALUES (\(id), \(payload))")
                        }
                        let micros = (clock.now - began).components
                        _ = histogram.record(UInt64(micros.seconds) * 1_000_000 + UInt64(micros.attoseconds / 1_000_000_000_000))
                        count += 1
                    }
                    return (count, histogram)
                }
            }
            for try await (count, histogram) in group {
                total += count
                merged.add(histogram)
            }
        }
        let elapsed = clock.now - start
        return RunResult(count: total, elapsed: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, histogram: merged)
    }

    func runPgbench(conninfo: String, protocolMode: String) throws -> (tps: Double, latencyMs: Double, transactions: Int, cpuSeconds: Double) {
        // Same transaction as above. -M extended/prepared sends :client_id as a bound parameter;
        // the payload is a literal in the SQL text (pgbench binds only its variables).
        let result = try Pgbench.run(executable: pgbench, conninfo: conninfo, script: """
            BEGIN;
            INSERT INTO bench_store_tx (client, payload) VALUES (:client_id, 'bench-pgbench');
            COMMIT;
            """, clients: clients, duration: duration, protocolMode: protocolMode)
        return (result.tps, result.latencyMs, result.transactions, result.cpuSeconds)
    }
}
