import Foundation

/// Runs a program to its end and returns its exit status and everything it printed (stdout and
/// stderr, through a file). Waits without blocking a thread: the services under test run on the
/// same small cooperative pool (2 threads on a 2-core machine), and a blocked thread starved them
/// into client timeouts.
public func runProgram(_ executable: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
    let output = FileManager.default.temporaryDirectory.appendingPathComponent("oneseal-program-\(UUID().uuidString).out")
    FileManager.default.createFile(atPath: output.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: output) }
    let handle = try FileHandle(forWritingTo: output)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.standardOutput = handle
    process.standardError = handle
    let status: Int32 = try await withCheckedThrowingContinuation { continuation in
        process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
        do { try process.run() } catch {
            process.terminationHandler = nil
            continuation.resume(throwing: error)
        }
    }
    try handle.close()
    return (status, String(decoding: try Data(contentsOf: output), as: UTF8.self))
}
