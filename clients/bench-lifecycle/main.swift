// oneseal-bench: complete cases per second on a local city + county cluster (issue #8).
//
//   swift build -c release --product oneseal-bench && swift build -c release   (the five services too)
//   scripts/with-postgres .build/release/oneseal-bench --applicants 32 --duration 30
//
// Starts both nodes' ten executables (the ones built next to this program) on the PostgreSQL of
// $ONESEAL_TEST_POSTGRES, sets them up as an operator would, then drives `--applicants` concurrent
// applicants, each through the whole life cycle again and again: submit → accept → (forward) →
// review/sign/decide → licence → delivery → push → claim → rating, all over RPC; the applicant
// waits on WatchApplication (told of each change) rather than polling. It prints completed
// cases/s, submit-to-licence latency (until the window shows the licence), where the time goes
// (mean per step, CPU seconds per service and PostgreSQL), PostgreSQL commits per case by
// database and — with pg_stat_statements loaded — the statements each database ran most, and
// pgbench's single-INSERT transactions/s on the same server in the same run.
//
// A benchmark program, not a test: it prints figures and never fails on them.
import ArgumentParser
import Foundation
import Histogram
import Logging
import OneSealBenchSupport
import OneSealLocalCluster
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

@main
struct BenchLifecycle: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "oneseal-bench",
        abstract: "Complete approval life cycles per second on a local two-node cluster, beside pgbench.")

    @Option(help: "libpq conninfo of a role that may create databases (default: $ONESEAL_TEST_POSTGRES).")
    var conninfo: String?

    @Option(help: "Directory of the five service executables (default: this program's directory).")
    var bin: String?

    @Option(help: "Concurrent applicants.")
    var applicants: Int = 32

    @Option(help: "Seconds measured.")
    var duration: Int = 30

    @Option(help: "Seconds of warm-up before measuring (cases finished then are not counted).")
    var warmup: Int = 5

    @Option(help: "Share of applicants whose item is forwarded to the city (0–1).")
    var cityShare: Double = 0.25

    @Option(help: "pgbench clients for the comparison (0 = skip).")
    var pgbenchClients: Int = 8

    @Option(help: "pgbench seconds.")
    var pgbenchDuration: Int = 10

    @Option(help: "Closed applications, cases, licences, facts and ratings loaded into the county's databases before the services start (0 = an empty node; #21's 'flat as the data grows': 1000000).")
    var preloadRows: Int = 0

    @Option(help: "The loader --preload-rows runs (scripts/bench-million-rows of this checkout).")
    var preloadScript: String = "scripts/bench-million-rows"

    @Option(help: "ONESEAL_OUTBOX_EVALUATION_PACE_MS for every service (default: the services' own, 250; 0 = unpaced).")
    var evaluationPaceMs: Int?

    @Option(help: "The services' log level (ONESEAL_LOG_LEVEL); their logs are kept in the cluster's directory, printed at the end, when it is not 'warning'.")
    var serviceLogLevel: String = "warning"

    func validate() throws {
        guard applicants > 0 else { throw ValidationError("--applicants must be positive") }
        guard duration > 0, warmup >= 0 else { throw ValidationError("--duration must be positive and --warmup not negative") }
        guard (0...1).contains(cityShare) else { throw ValidationError("--city-share must be between 0 and 1") }
        guard preloadRows == 0 || (1_000...10_000_000).contains(preloadRows) else { throw ValidationError("--preload-rows must be 0 or 1000–10000000") }
        guard (0...10_000).contains(evaluationPaceMs ?? 0) else { throw ValidationError("--evaluation-pace-ms must be 0–10000") }
        guard Logger.Level(rawValue: serviceLogLevel) != nil else {
            throw ValidationError("--service-log-level must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    /// Fills the county's approval, intake, certificate and evaluation databases (the names the
    /// cluster will give them) with `--preload-rows` closed rows each and 1 % open ones, migrations
    /// applied as the services record them, before any service starts.
    func preload(databaseTag: String) throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("oneseal-bench-preload-\(databaseTag).txt")
        let openRows = max(100, preloadRows / 100)
        let started = ContinuousClock.now
        let (status, _) = try Pgbench.spawnAndWait(
            [preloadScript, "--rows", "\(preloadRows)", "--open", "\(openRows)", "--database-prefix", LocalCluster.databasePrefix(tag: databaseTag), "--load-only"],
            outputPath: output.path)
        let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        guard status == 0 else { throw ValidationError("\(preloadScript) failed (exit \(status)):\n\(text.suffix(2000))") }
        let seconds = (ContinuousClock.now - started).components.seconds
        print("preloaded the county: \(preloadRows) closed + \(openRows) open rows per table in \(seconds) s (\(preloadScript); its output: \(output.path))")
    }

    func run() async throws {
        guard let conninfo = conninfo ?? ProcessInfo.processInfo.environment["ONESEAL_TEST_POSTGRES"] else {
            throw ValidationError("pass --conninfo or set ONESEAL_TEST_POSTGRES (scripts/with-postgres sets it)")
        }
        let binDirectory = bin.map { URL(fileURLWithPath: $0) } ?? URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        print("oneseal-bench: \(applicants) applicants (\(Int(cityShare * 100)) % forwarded to the city), \(warmup) s warm-up, \(duration) s measured")
        print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores, load average before start: \(Pgbench.loadAverage())")
        print("postgresql: \(PGSetup(conninfo: conninfo).durability())")
        // An executable finds its migrations in the bundle beside it, else in the build directory
        // it was built in — which may hold a later checkout's (decision 69): say so.
        let missing = ServiceName.allCases.map(\.resourceBundle).filter { !FileManager.default.fileExists(atPath: binDirectory.appendingPathComponent($0).path) }
        if !missing.isEmpty {
            print("note: \(binDirectory.path) lacks \(missing.joined(separator: ", ")): those services read their migrations from the directory they were built in; copy the bundles beside executables kept for comparison")
        }
        let databaseTag = LocalCluster.newDatabaseTag()
        if preloadRows > 0 { try preload(databaseTag: databaseTag) }
        var environment: [String: String] = [:]
        if let evaluationPaceMs {
            environment["ONESEAL_OUTBOX_EVALUATION_PACE_MS"] = String(evaluationPaceMs)
            print("relays: evaluation paced at \(evaluationPaceMs) ms")
        }
        let cluster = try await LocalCluster.start(
            adminConninfo: conninfo, binDirectory: binDirectory, logLevel: serviceLogLevel, environment: environment, databaseTag: databaseTag)
        do {
            try await withClusterClients(cluster) { clients in
                let hall = Hall(clients)
                try await hall.setUp(cluster.nodes)
                try await measure(cluster: cluster, hall: hall, database: PGSetup(conninfo: conninfo))
            }
        } catch {
            await cluster.stop()
            throw error
        }
        // Below warning, someone is looking for something in the services' own words: keep them.
        let keepLogs = serviceLogLevel != "warning"
        await cluster.stop(keepFiles: keepLogs)
        if keepLogs { print("the services' logs: \(cluster.directory.path)") }
        if pgbenchClients > 0 { try await comparePgbench(conninfo: conninfo) }
    }

    func measure(cluster: LocalCluster, hall: Hall, database: PGSetup) async throws {
        let record = Recorder()
        let clock = ContinuousClock()
        let start = clock.now
        let measureFrom = start.advanced(by: .seconds(warmup))
        let stopAt = measureFrom.advanced(by: .seconds(duration))
        var cpuBefore: [String: Double] = [:]
        let applicants = self.applicants
        let cityEvery = cityShare > 0 ? max(1, Int((1 / cityShare).rounded())) : Int.max
        try await withThrowingTaskGroup(of: Void.self) { group in
            for applicant in 0..<applicants {
                group.addTask {
                    var round = 0
                    while clock.now < stopAt {
                        round += 1
                        let route: Lifecycle.Route = (applicant + round) % cityEvery == 0 ? .cityWaterThroughCounty : .countyFood
                        do {
                            let outcome = try await Lifecycle(hall: hall, route: route, key: "bench-\(applicant)-\(round)", stepTimeout: .seconds(60)).run()
                            if clock.now >= measureFrom, clock.now < stopAt { record.add(outcome, route: route) }
                        } catch {
                            record.failed("\(error)")
                        }
                    }
                }
            }
            try await Task.sleep(until: measureFrom)
            cpuBefore = CPU.snapshot(cluster)
            let transactionsBefore = database.transactions()
            let commitsBefore = database.commitsByDatabase()
            let statementsBefore = database.statements()
            let topBefore = database.statementCalls()
            try await Task.sleep(until: stopAt)
            let cpuAfter = CPU.snapshot(cluster)
            let transactionsAfter = database.transactions()
            let commitsAfter = database.commitsByDatabase()
            let statementsAfter = database.statements()
            let topAfter = database.statementCalls()
            record.setTopStatements(topAfter.map { ($0.key, $0.value - (topBefore[$0.key] ?? 0)) }.sorted { $0.1 > $1.1 })
            if let before = statementsBefore, let after = statementsAfter { record.setStatements(after - before) }
            record.setCommitsByDatabase(commitsAfter.map { ($0.key, $0.value - (commitsBefore[$0.key] ?? 0)) }.sorted { $0.1 > $1.1 })
            record.setCPU(cpuBefore: cpuBefore, cpuAfter: cpuAfter)
            if let before = transactionsBefore, let after = transactionsAfter {
                record.setTransactions(commits: after.commits - before.commits, rollbacks: after.rollbacks - before.rollbacks)
            }
            try await group.waitForAll()
        }
        record.report(seconds: Double(duration))
        print("load average after: \(Pgbench.loadAverage())")
    }

    func comparePgbench(conninfo: String) async throws {
        let client = PGSetup(conninfo: conninfo)
        try client.run("DROP TABLE IF EXISTS bench_lifecycle_tx; CREATE TABLE bench_lifecycle_tx (id bigserial PRIMARY KEY, payload text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())")
        let result = try Pgbench.run(conninfo: conninfo, script: "INSERT INTO bench_lifecycle_tx (payload) VALUES ('bench-lifecycle');\n",
                                     clients: pgbenchClients, duration: pgbenchDuration)
        print(String(format: "pgbench (same server, single-row INSERT transactions, %d clients, -M prepared): %.0f tx/s, latency %.3f ms",
                     pgbenchClients, result.tps, result.latencyMs))
        try client.run("DROP TABLE bench_lifecycle_tx")
    }
}

/// What the applicants measured, shared between their tasks.
final class Recorder: Sendable {
    private struct State {
        var completed = 0
        var byRoute: [String: Int] = [:]
        var submitToLicence = Histogram<UInt64>(highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three)
        var total = Histogram<UInt64>(highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three)
        var stepSeconds: [String: Double] = [:]
        var stepOrder: [String] = []
        var failures: [String] = []
        var cpu: [(String, Double)] = []
        /// Commits and rollbacks of the whole server while measuring (every database of both nodes).
        var transactions: (commits: Int, rollbacks: Int)?
        /// The same commits by database (one per service and node), most first.
        var commitsByDatabase: [(String, Int)] = []
        /// Statements the server executed while measuring (BEGIN, COMMIT and SAVEPOINT included),
        /// when PostgreSQL runs with pg_stat_statements loaded.
        var statements: Int?
        /// The same statements by database and text, most called first (pg_stat_statements).
        var topStatements: [(StatementKey, Int)] = []
    }

    private let state = Mutex(State())

    func add(_ outcome: Lifecycle.Outcome, route: Lifecycle.Route) {
        state.withLock { state in
            state.completed += 1
            state.byRoute[route == .countyFood ? "county food (sole officer)" : "city water via county (deputy director)", default: 0] += 1
            state.submitToLicence.record(Self.micros(outcome.submitToLicence))
            state.total.record(Self.micros(outcome.total))
            for (name, duration) in outcome.steps {
                if state.stepSeconds[name] == nil { state.stepOrder.append(name) }
                state.stepSeconds[name, default: 0] += Self.seconds(duration)
            }
        }
    }

    func failed(_ reason: String) { state.withLock { $0.failures.append(reason) } }

    func setTransactions(commits: Int, rollbacks: Int) {
        state.withLock { $0.transactions = (commits, rollbacks) }
    }

    func setStatements(_ count: Int) {
        state.withLock { $0.statements = count }
    }

    func setTopStatements(_ calls: [(StatementKey, Int)]) {
        state.withLock { $0.topStatements = calls }
    }

    func setCommitsByDatabase(_ commits: [(String, Int)]) {
        state.withLock { $0.commitsByDatabase = commits }
    }

    func setCPU(cpuBefore: [String: Double], cpuAfter: [String: Double]) {
        let used = cpuAfter.map { ($0.key, $0.value - (cpuBefore[$0.key] ?? 0)) }.sorted { $0.1 > $1.1 }
        state.withLock { $0.cpu = used }
    }

    func report(seconds: Double) {
        state.withLock { state in
            let rate = Double(state.completed) / seconds
            print(String(format: "completed cases: %d in %.0f s = %.1f complete cases/s (target on 2 cores: >= 300)", state.completed, seconds, rate))
            for (route, count) in state.byRoute.sorted(by: { $0.key < $1.key }) { print("  \(route): \(count)") }
            guard state.completed > 0 else { return }
            print(String(format: "submit → licence: p50 %.0f ms, p99 %.0f ms; whole life cycle: p50 %.0f ms, p99 %.0f ms",
                         Double(state.submitToLicence.valueAtPercentile(50)) / 1000, Double(state.submitToLicence.valueAtPercentile(99)) / 1000,
                         Double(state.total.valueAtPercentile(50)) / 1000, Double(state.total.valueAtPercentile(99)) / 1000))
            print("where the time goes (mean per completed case, in life-cycle order):")
            for name in state.stepOrder {
                print("  " + name.padding(toLength: 14, withPad: " ", startingAt: 0) + String(format: "%7.1f ms", (state.stepSeconds[name] ?? 0) / Double(state.completed) * 1000))
            }
            if let transactions = state.transactions, state.completed > 0 {
                print(String(format: "PostgreSQL commits while measuring: %d (%.1f per completed case, target <= 15), rollbacks %d",
                             transactions.commits, Double(transactions.commits) / Double(state.completed), transactions.rollbacks))
                if let statements = state.statements {
                    print(String(format: "PostgreSQL statements while measuring: %d (%.1f per completed case; pg_stat_statements, top level)",
                                 statements, Double(statements) / Double(state.completed)))
                    // pg_stat_statements does not see a BEGIN or COMMIT sent as a prepared
                    // statement (pipelined, decision 66): the count without them compares builds.
                    let control: Set<String> = ["BEGIN", "COMMIT", "ROLLBACK"]
                    let besides = state.topStatements.filter { !control.contains($0.0.text) }.reduce(0) { $0 + $1.1 }
                    print(String(format: "  besides BEGIN / COMMIT / ROLLBACK: %d (%.1f per completed case)", besides, Double(besides) / Double(state.completed)))
                }
                for (name, commits) in state.commitsByDatabase where commits > 0 {
                    print("  " + name.padding(toLength: 32, withPad: " ", startingAt: 0) + String(format: "%7d  %6.1f per case", commits, Double(commits) / Double(state.completed)))
                }
                if !state.topStatements.isEmpty {
                    print("the statements most called while measuring, per database (per completed case):")
                    let byDatabase = Dictionary(grouping: state.topStatements.filter { $0.1 > 0 }) { $0.0.database }
                    for database in byDatabase.keys.sorted() {
                        for (statement, calls) in (byDatabase[database] ?? []).sorted(by: { $0.1 > $1.1 }).prefix(18) {
                            print(String(format: "  %6.1f  ", Double(calls) / Double(state.completed))
                                  + database.padding(toLength: 20, withPad: " ", startingAt: 0) + " " + statement.text)
                        }
                    }
                }
            }
            let totalCPU = state.cpu.reduce(0) { $0 + $1.1 }
            print(String(format: "CPU seconds used while measuring (%.1f s of %.0f available on %d cores):", totalCPU, seconds * Double(ProcessInfo.processInfo.activeProcessorCount), ProcessInfo.processInfo.activeProcessorCount))
            for (name, used) in state.cpu where used > 0.05 {
                print("  " + name.padding(toLength: 32, withPad: " ", startingAt: 0)
                      + String(format: "%6.1f s  %5.1f %%  %6.2f ms/case", used, used / max(totalCPU, 0.001) * 100, used / Double(state.completed) * 1000))
            }
            if !state.failures.isEmpty {
                print("failed life cycles: \(state.failures.count); first: \(state.failures[0].prefix(300))")
            }
        }
    }

    static func micros(_ duration: Duration) -> UInt64 { UInt64(max(0, seconds(duration) * 1_000_000)) }
    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

/// CPU seconds (user + system) per service process, all PostgreSQL processes, and this driver.
enum CPU {
    static func snapshot(_ cluster: LocalCluster) -> [String: Double] {
        var out: [String: Double] = [:]
        for (address, pid) in cluster.processIDs() { out["\(address)"] = seconds(of: pid) }
        var postgres = 0.0
        if let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") {
            for entry in entries {
                guard let pid = Int32(entry), command(of: pid) == "postgres" else { continue }
                postgres += seconds(of: pid)
            }
        }
        out["postgresql (all backends)"] = postgres
        out["oneseal-bench (the applicants)"] = seconds(of: getpid())
        return out
    }

    static func command(of pid: Int32) -> String? {
        (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// utime + stime from /proc/PID/stat (fields 14 and 15, after the parenthesised command).
    static func seconds(of pid: Int32) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return 0 }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}

/// One SQL statement through psql-free libpq would need OneSealStore; `psql` is on every machine
/// that runs the throwaway cluster, so the set-up uses it.
struct PGSetup {
    let conninfo: String

    /// One value, as psql prints it unaligned (`-At`).
    func value(_ sql: String) throws -> String {
        try psql(["-At"], sql)
    }

    /// Runs one statement with `options`; returns what psql printed, trimmed.
    private func psql(_ options: [String], _ sql: String) throws -> String {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("oneseal-bench-psql-\(UUID().uuidString).out")
        defer { try? FileManager.default.removeItem(at: output) }
        let (status, _) = try Pgbench.spawnAndWait(["psql"] + options + ["-v", "ON_ERROR_STOP=1", "-c", sql, conninfo], outputPath: output.path)
        let text = ((try? String(contentsOf: output, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard status == 0 else { throw ValidationError("psql failed: \(text)") }
        return text
    }

    /// Commits and rollbacks of every database of the server so far (`pg_stat_database`; every
    /// backend's counts reach it within a second of its transaction, so a window of tens of
    /// seconds is counted to within a few per cent).
    func transactions() -> (commits: Int, rollbacks: Int)? {
        guard let text = try? value("SELECT sum(xact_commit)::bigint || ' ' || sum(xact_rollback)::bigint FROM pg_stat_database"),
              case let parts = text.split(separator: " "), parts.count == 2, let commits = Int(parts[0]), let rollbacks = Int(parts[1])
        else { return nil }
        return (commits, rollbacks)
    }

    /// Statements executed so far (`pg_stat_statements`, when PostgreSQL loads it:
    /// `ONESEAL_POSTGRES_OPTIONS='-c shared_preload_libraries=pg_stat_statements'`); nil otherwise.
    func statements() -> Int? {
        guard (try? run("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")) != nil,
              let text = try? value("SELECT sum(calls)::bigint FROM pg_stat_statements") else { return nil }
        return Int(text)
    }

    /// Calls so far per (database, statement text), when pg_stat_statements is loaded: where the
    /// commits of a case go (an autocommitted statement is a commit; so is each COMMIT).
    func statementCalls() -> [StatementKey: Int] {
        let separator = "\u{1F}"
        guard let text = try? value("""
            SELECT datname || chr(31) || text || chr(31) || sum(calls)::bigint FROM (
              SELECT d.datname, left(regexp_replace(s.query, '\\s+', ' ', 'g'), 110) AS text, s.calls
              FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE s.toplevel) AS statements
            GROUP BY datname, text
            """) else { return [:] }
        var out: [StatementKey: Int] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: Character(separator), omittingEmptySubsequences: false)
            guard parts.count == 3, let calls = Int(parts[2]) else { continue }
            // Each service's database is <prefix>_<service>_<node>; the rest (this program's own
            // statements in `postgres`) is not the case's.
            let database = parts[0].split(separator: "_").dropFirst().joined(separator: "@")
            guard !database.isEmpty else { continue }
            out[StatementKey(database: database, text: String(parts[1])), default: 0] += calls
        }
        return out
    }

    /// Commits so far per database (each service of each node has its own).
    func commitsByDatabase() -> [String: Int] {
        guard let text = try? value("SELECT datname || ' ' || xact_commit FROM pg_stat_database WHERE datname IS NOT NULL") else { return [:] }
        var out: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let commits = Int(parts[1]) { out[String(parts[0])] = commits }
        }
        return out
    }

    /// What the server promises about a commit: the figures mean nothing without it.
    func durability() -> String {
        let settings = ["fsync", "synchronous_commit", "full_page_writes"].map { name in "\(name)=\((try? value("SHOW \(name)")) ?? "?")" }
        let durable = settings.allSatisfy { $0.hasSuffix("=on") }
        return settings.joined(separator: " ") + (durable ? " (durable, as a hall runs it)" : " (NOT durable: test settings)")
    }
    func run(_ sql: String) throws {
        _ = try psql(["-q"], sql)
    }
}

/// A statement as pg_stat_statements counts it: the service database (`intake@371302`) and its
/// text, whitespace folded.
struct StatementKey: Hashable, Sendable {
    var database: String
    var text: String
}
