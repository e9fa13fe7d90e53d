import Foundation
import Synchronization

/// Moving a running process's clock, for end-to-end tests of the law's time limits (deemed
/// acceptance after 5 working days, claim and rectification deadlines) against the real
/// executables. `ONESEAL_TEST_CLOCK_FILE` names a file holding an offset in seconds that is added
/// to the system clock; the test rewrites it to let days pass. Never set it on a hall: the process
/// says so on standard error at start, and nothing else reads it.
public enum ProcessClock {
    public static let variable = "ONESEAL_TEST_CLOCK_FILE"

    /// The system clock, or the system clock shifted by the file's offset (re-read at most every
    /// 200 ms; an unreadable or empty file means no shift).
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> @Sendable () -> Date {
        guard let path = environment[variable], !path.isEmpty else { return { Date() } }
        FileHandle.standardError.write(Data("warning: \(variable)=\(path) shifts this process's clock; for tests only, never on a hall\n".utf8))
        let cache = Mutex<(readAt: Date, offset: TimeInterval)>((.distantPast, 0))
        return {
            let now = Date()
            let offset = cache.withLock { cached -> TimeInterval in
                if now.timeIntervalSince(cached.readAt) < 0.2 { return cached.offset }
                let text = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
                cached = (now, TimeInterval(text) ?? 0)
                return cached.offset
            }
            return now.addingTimeInterval(offset)
        }
    }

    /// How often a service's sweepers run: `ONESEAL_SWEEP_INTERVAL_SECONDS` (tests shorten it so a
    /// shifted clock takes effect at once), else the service's own default.
    public static func sweepInterval(default value: Duration, _ environment: [String: String] = ProcessInfo.processInfo.environment) -> Duration {
        guard let text = environment["ONESEAL_SWEEP_INTERVAL_SECONDS"], let seconds = Double(text), seconds > 0 else { return value }
        return .milliseconds(Int(seconds * 1000))
    }
}
