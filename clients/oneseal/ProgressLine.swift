import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One line of progress on standard error, redrawn in place: a bar with counts for work of known
/// size (`importing  37/120 ███░░░░ 31%`), a spinner with elapsed seconds for one long call that
/// reports nothing (`building report ⠹ 4.2s`). Drawn only when standard error is a terminal and
/// the output is not `--json`, so scripts and logs never see carriage returns; otherwise every
/// method does nothing.
final class ProgressLine: Sendable {
    private struct State {
        var done = 0
        var total: Int?
        var drawn = false
    }

    private let label: String
    private let enabled: Bool
    private let started = ContinuousClock.now
    private let state: Mutex<State>

    /// - Parameters:
    ///   - total: the number of steps, or nil for a spinner.
    ///   - json: the command's `--json`; progress is never drawn then.
    init(_ label: String, total: Int?, json: Bool) {
        self.label = label
        self.enabled = !json && isatty(STDERR_FILENO) == 1
        self.state = Mutex(State(total: total))
    }

    /// Counts one step done and redraws the bar.
    func advance(by steps: Int = 1) {
        guard enabled else { return }
        let line = state.withLock { state -> String in
            state.done += steps
            state.drawn = true
            return Self.bar(label: label, done: state.done, total: state.total ?? 0)
        }
        write("\r\u{1B}[2K" + line)
    }

    /// Clears the line (the command then prints its result).
    func finish() {
        guard enabled else { return }
        let drawn = state.withLock { $0.drawn }
        if drawn { write("\r\u{1B}[2K") }
    }

    /// Runs `body` while a spinner with the elapsed time turns (10 frames a second).
    func spinning<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        guard enabled else { return try await body() }
        let ticker = Task { [self] in
            var frame = 0
            while !Task.isCancelled {
                let elapsed = ContinuousClock.now - started
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                write("\r\u{1B}[2K\(label) \(Self.frames[frame % Self.frames.count]) \(String(format: "%.1fs", seconds))")
                state.withLock { $0.drawn = true }
                frame += 1
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        func stop() async {
            ticker.cancel()
            await ticker.value
            finish()
        }
        do {
            let result = try await body()
            await stop()
            return result
        } catch {
            await stop()
            throw error
        }
    }

    static let frames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"]

    /// `label  done/total ████░░░░ 31%` with a 20-cell bar.
    static func bar(label: String, done: Int, total: Int) -> String {
        let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 0
        let cells = 20
        let full = Int((fraction * Double(cells)).rounded(.down))
        let width = String(total).count
        let count = String(repeating: " ", count: max(0, width - String(done).count)) + "\(done)/\(total)"
        return "\(label)  \(count) \(String(repeating: "█", count: full))\(String(repeating: "░", count: cells - full)) \(Int(fraction * 100))%"
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
