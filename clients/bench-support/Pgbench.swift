import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// pgbench run beside our own benchmarks on the same server in the same run, so every figure has
/// PostgreSQL's own client as its yardstick (issues #2 and #8 ask for it).
public enum Pgbench {
    public struct Result: Sendable {
        public var tps: Double
        public var latencyMs: Double
        public var transactions: Int
        /// User + system CPU of the pgbench process.
        public var cpuSeconds: Double
    }

    public struct Failed: Error, CustomStringConvertible {
        public var description: String
    }

    /// Runs `script` (pgbench syntax) with `clients` connections for `duration` seconds.
    public static func run(
        executable: String = "pgbench", conninfo: String, script: String, clients: Int, duration: Int, protocolMode: String = "prepared"
    ) throws -> Result {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("oneseal-pgbench-\(UUID().uuidString).sql")
        try script.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let output = file.deletingPathExtension().appendingPathExtension("out")
        defer { try? FileManager.default.removeItem(at: output) }
        let arguments = [
            executable, "-n", "-M", protocolMode, "-f", file.path, "-c", String(clients), "-j", String(min(clients, 2)),
            "-T", String(duration), conninfo,
        ]
        let (status, usage) = try spawnAndWait(arguments, outputPath: output.path)
        let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        guard status == 0, let tps = number(after: "tps = ", in: text) else {
            throw Failed(description: "pgbench failed (status \(status)):\n\(text)")
        }
        let transactions = Int(number(after: "number of transactions actually processed: ", in: text) ?? 0)
        return Result(tps: tps, latencyMs: number(after: "latency average = ", in: text) ?? 0, transactions: transactions, cpuSeconds: seconds(usage))
    }

    /// posix_spawnp + wait4 (Foundation's Process does not reliably report exit from an async
    /// context on Linux); stdout and stderr go to `outputPath`. Returns the exit status and the
    /// child's resource usage.
    public static func spawnAndWait(_ arguments: [String], outputPath: String) throws -> (status: Int32, usage: rusage) {
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
        guard rc == 0 else { throw Failed(description: "cannot start \(arguments[0]): error \(rc)") }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        return ((status >> 8) & 0xff, usage)
    }

    /// `spawnAndWait` on a thread of its own, so waiting for a child does not hold one of the few
    /// threads of Swift's cooperative pool (tests restart PostgreSQL with it).
    public static func runToCompletion(_ arguments: [String], outputPath: String) async throws -> Int32 {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Swift.Result { try spawnAndWait(arguments, outputPath: outputPath).status })
            }
            thread.start()
        }
    }

    public static func number(after marker: String, in text: String) -> Double? {
        guard let range = text.range(of: marker) else { return nil }
        let digits = text[range.upperBound...].prefix { $0.isNumber || $0 == "." }
        return Double(digits)
    }

    public static func seconds(_ usage: rusage) -> Double {
        Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6 + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }

    /// The 1-minute load average, printed beside figures taken on a shared machine.
    public static func loadAverage() -> String {
        (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
    }
}
