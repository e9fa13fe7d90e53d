import ArgumentParser
import Foundation
import GRPCCore
import OneSealProto
import OneSealWire
import Synchronization

/// `oneseal health`: one service's health check (no token needed). Docker's health checks and
/// scripts/cluster call it with `--address`.
struct Health: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check one service's health (no token needed); exit 1 unless serving.")
    @OptionGroup var connection: Connection
    @Option(help: "Which service of --node (intake, approval, certificate, supervision, evaluation), when no --address is given.")
    var service: String?
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard connection.address != nil || service != nil else { throw ValidationError("give --address, or --service (with --node)") }
        if let service, ServiceName(rawValue: service) == nil {
            throw ValidationError("--service: one of \(ServiceName.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() async throws {
        let endpoint = try connection.endpoint(service.flatMap(ServiceName.init(rawValue:)) ?? .intake)
        let result = await NodeHealth.check(endpoint, timeout: connection.timeout ?? 5, expectService: service != nil)
        try output.emit(result.json, text: result.line(named: connection.address ?? endpoint.service.rawValue))
        if !result.serving { throw ExitCode(1) }
    }
}

/// `oneseal node health`: the five services of a node in one table.
struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "A node as a whole: the health of its five services.",
        subcommands: [HealthOfNode.self]
    )

    struct HealthOfNode: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "health",
            abstract: "Health of every service of a node, in one table; exit 1 if any is not serving or not reachable.",
            discussion: "Addresses come from --peers, ONESEAL_PEERS, or the scripts/cluster ports (city 7101–7105, county 7201–7205).")
        @OptionGroup var connection: Connection
        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard connection.address == nil else { throw ValidationError("--address names one service; use --peers for a node's addresses") }
            for service in ServiceName.allCases { _ = try connection.endpoint(service) }
        }

        func run() async throws {
            let endpoints = try ServiceName.allCases.map { try connection.endpoint($0) }
            let timeout = connection.timeout ?? 5
            let results = await withTaskGroup(of: (Int, NodeHealth.Result).self) { group in
                for (index, endpoint) in endpoints.enumerated() {
                    group.addTask { (index, await NodeHealth.check(endpoint, timeout: timeout, expectService: true)) }
                }
                var results: [(Int, NodeHealth.Result)] = []
                for await result in group { results.append(result) }
                return results.sorted { $0.0 < $1.0 }.map(\.1)
            }
            let serving = results.filter(\.serving).count
            let json: [String: Any] = ["node": connection.node, "serving": serving == results.count, "services": results.map(\.json)]
            var lines = ["node \(connection.node): \(serving) of \(results.count) services serving"]
            lines += NodeHealth.table(results)
            try output.emit(json, text: lines.joined(separator: "\n"))
            if serving != results.count { throw ExitCode(1) }
        }
    }
}

/// One health check's outcome: the service's answer, or why there was none.
enum NodeHealth {
    struct Result: Sendable {
        var endpoint: Endpoint
        var response: Health_CheckResponse?
        /// Why the service does not count as serving although it may have answered.
        var problem: String?
        /// False when only an address was given: the service is whatever answers there.
        var named = true

        var serving: Bool { problem == nil && response?.status == .serving }

        var status: String {
            if let response, problem == nil { return Self.name(response.status) }
            return response == nil ? "UNREACHABLE" : "MISCONFIGURED"
        }

        static func name(_ status: Health_ServingStatus) -> String {
            switch status {
            case .serving: "SERVING"
            case .notServing: "NOT_SERVING"
            case .serviceUnknown: "SERVICE_UNKNOWN"
            default: "UNSPECIFIED"
            }
        }

        var components: String {
            (response?.components ?? []).map { "\($0.name)=\(Self.name($0.status))\($0.detail.isEmpty ? "" : " (\($0.detail))")" }.joined(separator: " ")
        }

        var json: [String: Any] {
            var value: [String: Any] = [
                "address": endpoint.address, "status": status, "serving": serving,
            ]
            if let response {
                value["service"] = response.service
                value["node"] = response.node
            } else if named {
                value["service"] = endpoint.service.rawValue
                value["node"] = endpoint.node
            }
            if let response { value["health"] = (try? JSONOutput.value(response)) ?? [:] }
            if let problem { value["problem"] = problem }
            return value
        }

        /// The one-service line of `oneseal health`.
        func line(named name: String) -> String {
            guard let response else { return "\(name) \(status): \(problem ?? "")" }
            return "\(response.service)@\(response.node) \(status) version=\(response.version) \(components)\(problem.map { " — \($0)" } ?? "")"
        }
    }

    /// Asks `endpoint` for its health within `timeout` seconds. With `expectService`, an answer
    /// from another service or node (a wrong peer list) does not count as serving.
    static func check(_ endpoint: Endpoint, timeout: Int, expectService: Bool) async -> Result {
        // Without a service named, any service of the node may answer (its certificate says which).
        let endpoint = {
            var endpoint = endpoint
            if !expectService { endpoint.tls?.expectedService = nil }
            return endpoint
        }()
        do {
            let response = try await withDialBound(seconds: timeout) {
              try await Connection.call(endpoint) { client in
                var options = CallOptions.defaults
                options.timeout = .seconds(timeout)
                return try await Health_Health.Client(wrapping: client).check(Health_CheckRequest(), options: options)
              }
            }
            var problem: String?
            if expectService, response.service != endpoint.service.rawValue || response.node != endpoint.node {
                problem = "answered as \(response.service)@\(response.node), expected \(endpoint.service.rawValue)@\(endpoint.node): check the peer list"
            }
            return Result(endpoint: endpoint, response: response, problem: problem, named: expectService)
        } catch let failure as CallFailure {
            return Result(endpoint: endpoint, response: nil, problem: "\(FailureReport.statusName(failure.error.code)): \(failure.error.message)", named: expectService)
        } catch {
            return Result(endpoint: endpoint, response: nil, problem: "\(error)", named: expectService)
        }
    }

    /// SERVICE ADDRESS STATUS VERSION UP-SINCE DETAIL, aligned.
    static func table(_ results: [Result]) -> [String] {
        var rows = [["SERVICE", "ADDRESS", "STATUS", "VERSION", "STARTED", "DETAIL"]]
        for result in results {
            let started = result.response.map { $0.hasStartedAt ? $0.startedAt.date.ISO8601Format() : "" } ?? ""
            rows.append([result.endpoint.service.rawValue, result.endpoint.address, result.status, result.response?.version ?? "",
                         started, result.problem ?? result.components])
        }
        let widths = (0..<5).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            (0..<5).map { row[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ") + "  " + row[5]
        }
    }
}

/// Runs `body` but stops waiting for it after `seconds` (+1 s of grace for the RPC's own
/// deadline to speak first): the health call's deadline only starts once a connection exists, so
/// a dial that never completes would otherwise hold the whole table. The abandoned call is left
/// to end with the process.
func withDialBound<T: Sendable>(seconds: Int, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
        let once = ResumeOnce(continuation)
        Task {
            do { once.resume(.success(try await body())) } catch { once.resume(.failure(error)) }
        }
        Task {
            try? await Task.sleep(for: .seconds(seconds + 1))
            once.resume(.failure(RPCError(code: .deadlineExceeded, message: "no connection within \(seconds) s")))
        }
    }
}

/// A continuation resumed by whichever of two racing tasks comes first.
final class ResumeOnce<T: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<T, any Error>?>

    init(_ continuation: CheckedContinuation<T, any Error>) { self.continuation = Mutex(continuation) }

    func resume(_ result: Result<T, any Error>) {
        let pending = continuation.withLock { stored in
            defer { stored = nil }
            return stored
        }
        pending?.resume(with: result)
    }
}
