// oneseal-bench-store: how close does PostgresClient (libpq on a thread pool, async API) come to
// pgbench running the same single-row INSERT transaction against the same server?
//
//   scripts/with-postgres .build/release/oneseal-bench-store --clients 8 --duration 10
//
// A benchmark program, not a test: it prints figures and never fails on them.
import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Histogram
import Logging
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

    func run() async throws {
        guard let conninfo = conninfo ?? ProcessInfo.processInfo.environment["ONESEAL_TEST_POSTGRES"] else {
            throw ValidationError("pass --conninfo or set ONESEAL_TEST_POSTGRES (scripts/with-postgres sets it)")
        }
        var logger = Logger(label: "oneseal.bench-store")
        logger.logLevel = .warning
        let client = PostgresClient(conninfo: conninfo, maxConnections: clients, logger: logger)
        try await client.execute("DROP TABLE IF EXISTS bench_store_tx")
        try await client.execute(
            "CREATE TABLE bench_store_tx (id bigserial PRIMARY KEY, client int NOT NULL, payload text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())")

        print("oneseal-bench-store: \(clients) clients, \(duration) s, BEGIN; INSERT (1 row, bound parameters); COMMIT")
        _ = try await runClients(client, seconds: warmup)
        let result = try await runClients(client, seconds: duration)
        let tps = Double(result.count) / result.elapsed
        let p50 = Double(result.histogram.valueAtPercentile(50)) / 1000
        let p99 = Double(result.histogram.valueAtPercentile(99)) / 1000
        print(String(format: "PostgresClient: %d transactions in %.2f s = %.0f tx/s, latency p50 %.3f ms, p99 %.3f ms",
                     result.count, result.elapsed, tps, p50, p99))
        await client.shutdown()

        if skipPgbench { return }
        let pg = try runPgbench(conninfo: conninfo)
        print(String(format: "pgbench:        %.0f tx/s (latency average %.3f ms)", pg.tps, pg.latencyMs))
        print(String(format: "ratio PostgresClient / pgbench = %.2f (target >= 0.80)", tps / pg.tps))
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

    func runPgbench(conninfo: String) throws -> (tps: Double, latencyMs: Double) {
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("oneseal-bench-\(UUID().uuidString).sql")
        // Same transaction as above; -M extended sends the INSERT with bound parameters too.
        try """
            BEGIN;
            INSERT INTO bench_store_tx (client, payload) VALUES (:client_id, 'bench-pgbench');
            COMMIT;
            """.write(to: script, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: script) }
        let outputFile = script.deletingPathExtension().appendingPathExtension("out")
        defer { try? FileManager.default.removeItem(at: outputFile) }
        let arguments = [
            pgbench, "-n", "-M", "extended", "-f", script.path, "-c", String(clients), "-j", String(min(clients, 2)),
            "-T", String(duration), conninfo,
        ]
        let status = try Self.spawnAndWait(arguments, outputPath: outputFile.path)
        let text = (try? String(contentsOf: outputFile, encoding: .utf8)) ?? ""
        guard status == 0, let tps = Self.number(after: "tps = ", in: text) else {
            throw ValidationError("pgbench failed (status \(status)):\n\(text)")
        }
        return (tps, Self.number(after: "latency average = ", in: text) ?? 0)
    }

    /// posix_spawnp + waitpid (Foundation's Process does not reliably report exit from an async
    /// context on Linux); stdout and stderr go to `outputPath`.
    static func spawnAndWait(_ arguments: [String], outputPath: String) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        // The child must not inherit this process's blocked or ignored signals (runtime threads
        // block some; NIO ignores SIGPIPE): pgbench relies on default signal behaviour.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, arguments[0], &actions, &attributes, &argv, environ)
        guard rc == 0 else { throw ValidationError("cannot start \(arguments[0]): error \(rc)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (status >> 8) & 0xff
    }

    static func number(after marker: String, in text: String) -> Double? {
        guard let range = text.range(of: marker) else { return nil }
        let digits = text[range.upperBound...].prefix { $0.isNumber || $0 == "." }
        return Double(digits)
    }
}
