import CertificateRules
import Foundation
import OneSealLocalCluster
import OneSealAuth
import OneSealPrivacy
import OneSealTestSupport
import Testing

/// A whole node for the CLI tests: its five service executables started as real processes (as
/// scripts/cluster does), each on a free port over its own fresh PostgreSQL database, all listed
/// in one peer list so events flow between them (intake → approval → certificate …). The CLI is
/// run as a real process against that peer list, minting its tokens from `keyFile` as an operator
/// would with the node's signing key. (Ten services in the test process itself starved its
/// 2-thread cooperative pool on this machine; separate processes are also closer to production.)
struct CLINode: Sendable {
    let node: String
    let peers: String
    /// The node's token signing key file (the services trust its public key).
    let keyFile: String
    let directory: URL
    let services: Box<[String: ServiceProcess]>

    /// The last log lines of one service (warnings and errors; ONESEAL_LOG_LEVEL=warning), for failure messages.
    func log(_ service: String) -> String {
        guard let process = services.get()[service] else { return "" }
        return (process.lines.suffix(20) + [process.standardError]).joined(separator: "\n")
    }

    /// Stops one service with SIGTERM (it drains, then exits) and waits for it to be gone.
    func stop(_ service: String) async {
        guard let process = services.get()[service] else { return }
        process.terminate()
        _ = await process.waitForExit()
    }

    /// Runs `oneseal` with these arguments plus `--peers`, `--node` (and `--key` unless `token` is false).
    func cli(_ arguments: [String], token: Bool = true) async throws -> CLIResult {
        var full = arguments + ["--peers", peers, "--node", node]
        if token { full += ["--key", keyFile] }
        return try await CLIResult.run(full)
    }
}

/// What one run of the `oneseal` binary did: its exit status, standard output and error apart.
struct CLIResult: Sendable, CustomStringConvertible {
    let status: Int32
    let stdout: String
    let stderr: String

    var description: String { "exit \(status)\nstdout: \(stdout)\nstderr: \(stderr)" }

    /// Standard output as one JSON object (the `--json` contract).
    func object() throws -> [String: Any] {
        let value = try JSONSerialization.jsonObject(with: Data(stdout.utf8))
        return try #require(value as? [String: Any], "not a JSON object: \(stdout)")
    }

    func array() throws -> [[String: Any]] {
        let value = try JSONSerialization.jsonObject(with: Data(stdout.utf8))
        return try #require(value as? [[String: Any]], "not a JSON array: \(stdout)")
    }

    static func run(_ arguments: [String]) async throws -> CLIResult {
        let process = Process()
        process.executableURL = ServiceProcess.buildDirectory.appendingPathComponent("oneseal")
        process.arguments = arguments
        // A clean environment: no ONESEAL_TOKEN or ONESEAL_PEERS from the shell running the tests.
        process.environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin", "ONESEAL_INSECURE_LOOPBACK": "1"]
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Both pipes are drained at once, so neither can fill and block the child.
        async let stdout = Task.detached { out.fileHandleForReading.readDataToEndOfFile() }.value
        async let stderr = Task.detached { err.fileHandleForReading.readDataToEndOfFile() }.value
        let (outData, errData) = await (stdout, stderr)
        process.waitUntilExit()
        return CLIResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
    }
}

/// Starts the five services of `node`, runs `body`, then stops them and drops their databases.
func withCLINode(node: String = "371302", _ body: @Sendable (CLINode) async throws -> Void) async throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("oneseal-cli-node-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let key = TokenSigningKey.generate(issuer: node)
    let keyFile = directory.appendingPathComponent("node.key").path
    let dataKeyFile = directory.appendingPathComponent("data.key").path
    let sealKeyFile = directory.appendingPathComponent("seal.key").path
    _ = FileManager.default.createFile(atPath: keyFile, contents: Data((key.base64 + "\n").utf8), attributes: [.posixPermissions: 0o600])
    _ = FileManager.default.createFile(atPath: dataKeyFile, contents: Data((DataKeyring.generateKeyText() + "\n").utf8), attributes: [.posixPermissions: 0o600])
    _ = FileManager.default.createFile(atPath: sealKeyFile, contents: Data((SealKey.generate().fileLine + "\n").utf8), attributes: [.posixPermissions: 0o600])
    // Next year's days off, loaded as an operator does in November (decision O8): a 20-day item with
    // its extension is due in the next year from late November on.
    let calendarFile = directory.appendingPathComponent("calendar.txt").path
    _ = FileManager.default.createFile(atPath: calendarFile, contents: Data(LocalCluster.provisional2027.utf8))

    let names = ["intake", "approval", "certificate", "supervision", "evaluation"]
    var ports: [String: Int] = [:]
    for name in names { ports[name] = try freeLoopbackPort() }
    let peers = names.map { "\($0)@\(node)=127.0.0.1:\(ports[$0]!)" }.joined(separator: ",")
    var databases: [String: TestDatabase] = [:]
    for name in names { databases[name] = try await TestDatabase.create(prefix: "cli_\(name)") }
    func dropAll() async { for database in databases.values { try? await database.drop() } }
    do {
        try await runNode(node: node, names: names, ports: ports, peers: peers, databases: databases, key: key, keyFile: keyFile,
                          dataKeyFile: dataKeyFile, sealKeyFile: sealKeyFile, calendarFile: calendarFile, directory: directory, body)
    } catch {
        await dropAll()
        throw error
    }
    await dropAll()
}

private func runNode(
    node: String, names: [String], ports: [String: Int], peers: String, databases: [String: TestDatabase], key: TokenSigningKey, keyFile: String,
    dataKeyFile: String, sealKeyFile: String, calendarFile: String, directory: URL, _ body: @Sendable (CLINode) async throws -> Void
) async throws {
    var processes: [String: ServiceProcess] = [:]
    func stopAll() async {
        for process in processes.values where process.process.isRunning {
            process.terminate()
            _ = await process.waitForExit()
        }
    }
    do {
        for name in names {
            processes[name] = try ServiceProcess(executable: "oneseal-\(name)", environment: [
                "ONESEAL_NODE": node, "ONESEAL_PORT": String(ports[name]!), "ONESEAL_METRICS_PORT": "off", "ONESEAL_LOG_LEVEL": "warning",
                "ONESEAL_DATABASE_URL": databases[name]!.conninfo, "ONESEAL_DB_POOL_SIZE": "4",
                "ONESEAL_TOKEN_PUBLIC_KEYS": key.testTrustEntries,
                "ONESEAL_DATA_KEY_FILE": dataKeyFile, "ONESEAL_SERVICE_KEY_FILE": keyFile, "ONESEAL_SEAL_KEY_FILE": sealKeyFile,
                "ONESEAL_PEERS": peers, "ONESEAL_CALENDAR_FILE": calendarFile,
            ])
        }
        let started = processes
        let cliNode = CLINode(node: node, peers: peers, keyFile: keyFile, directory: directory, services: Box(started))
        // The processes migrate their databases, then listen: wait, as an operator would after a
        // start, until `node health` says every service serves.
        var last: CLIResult?
        let ready = try await eventually {
            last = try await cliNode.cli(["node", "health", "--timeout", "5"], token: false)
            return last?.status == 0
        }
        try #require(ready, "the node never became healthy: \(String(describing: last)); \(started.mapValues(\.standardError))")
        try await body(cliNode)
    } catch {
        await stopAll()
        throw error
    }
    await stopAll()
}

/// The CLI tests, one at a time: each starts a whole node (five processes), and two at once on
/// this 2-core machine would measure the machine rather than the CLI.
@Suite("oneseal CLI against a running node", .serialized)
struct CLICommandTests {}

/// Polls `condition` every 100 ms for up to ~20 s (events between services are asynchronous).
func eventually(_ condition: () async throws -> Bool) async throws -> Bool {
    for _ in 0..<200 {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(100))
    }
    return false
}
