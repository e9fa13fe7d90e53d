import Foundation
import Synchronization

/// A service executable started as a real child process, its output captured line by line.
final class ServiceProcess: Sendable {
    let process: Process
    private let output = Mutex<[String]>([])
    private let errors = Mutex<String>("")

    /// The directory of the test binary, where SwiftPM also puts the executables it built.
    static var buildDirectory: URL {
        URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
            .deletingLastPathComponent()
    }

    init(executable: String, environment: [String: String]) throws {
        let process = Process()
        process.executableURL = Self.buildDirectory.appendingPathComponent(executable)
        // In-process tests of single executables run on plain TCP, explicitly (issue #17); the
        // end-to-end tests (LocalCluster) run with TLS.
        let plain = environment["ONESEAL_TLS_CERT_FILE"] == nil ? ["ONESEAL_INSECURE_LOOPBACK": "1"] : [:]
        process.environment = environment.merging(["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin"].merging(plain) { a, _ in a }) { old, _ in old }
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        self.process = process
        stdout.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let text = String(decoding: handle.availableData, as: UTF8.self)
            self?.output.withLock { $0 += text.split(separator: "\n").map(String.init) }
        }
        stderr.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let text = String(decoding: handle.availableData, as: UTF8.self)
            self?.errors.withLock { $0 += text }
        }
        try process.run()
    }

    var lines: [String] { self.output.withLock { $0 } }
    var standardError: String { self.errors.withLock { $0 } }

    /// Waits (up to ~30 s) for a log line containing every fragment.
    func waitForLine(containing fragments: String...) async -> String? {
        for _ in 0..<600 {
            if let line = self.lines.first(where: { line in fragments.allSatisfy { line.contains($0) } }) { return line }
            if !self.process.isRunning { break }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return self.lines.first(where: { line in fragments.allSatisfy { line.contains($0) } })
    }

    /// The RPC port from the `msg=listening … protocol=oneseal-tcp` line.
    func listeningPort() async -> Int? {
        guard let line = await self.waitForLine(containing: "msg=listening", "protocol=oneseal-tcp") else { return nil }
        guard let address = line.split(separator: " ").first(where: { $0.hasPrefix("address=") }) else { return nil }
        return Int(address.split(separator: ":").last ?? "")
    }

    func terminate() { self.process.terminate() }

    /// Waits for exit (up to ~30 s) and returns the exit status, or nil if it is still running.
    func waitForExit() async -> Int32? {
        for _ in 0..<600 {
            if !self.process.isRunning { return self.process.terminationStatus }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    deinit {
        if self.process.isRunning { self.process.interrupt() }
    }
}
