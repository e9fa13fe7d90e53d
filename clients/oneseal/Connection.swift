import ArgumentParser
import Foundation
import GRPCCore
import OneSealAuth
import OneSealProto
import OneSealTLS
import OneSealWire

/// The five services of a node, in the order of their ports (scripts/cluster: city 7101–7105,
/// county 7201–7205).
enum ServiceName: String, CaseIterable, Sendable {
    case intake, approval, certificate, supervision, evaluation
}

/// A service's address, with the name the operator knows it by (for error messages).
struct Endpoint: Sendable, CustomStringConvertible {
    var service: ServiceName
    var node: String
    var host: String
    var port: Int
    /// TLS to this service (nil: `--insecure-loopback`).
    var tls: OneSealClientTransport.ClientTLS?

    var address: String { "\(host):\(port)" }
    var description: String { "\(service.rawValue)@\(node) (\(address))" }
}

/// Where a command's service is: `--address` as given, or else the node's entry in the peer list
/// (`--peers`, ONESEAL_PEERS, or the scripts/cluster ports). `--node` is also the node of a token
/// minted with `--key` (Credentials), so one flag says "this node" for both.
struct Connection: ParsableArguments {
    @Option(help: "host:port of the service (default: the --node entry of the peer list).")
    var address: String?

    @Option(help: "Node (GB/T 2260 code) to talk to, and the node of a token minted with --key.")
    var node: String = "371300"

    @Option(help: ArgumentHelp("Peer list service@node=host:port,… (default ONESEAL_PEERS, else the scripts/cluster ports).", valueName: "list"))
    var peers: String?

    @Option(help: "Give up after this many seconds without an answer (default 5 for health checks, 300 otherwise).")
    var timeout: Int?

    @Option(help: ArgumentHelp("PEM bundle of the CA certificates to trust (default ONESEAL_TLS_TRUST_FILE).", valueName: "file"))
    var trust: String?

    @Option(help: ArgumentHelp("Client certificate (PEM, leaf first) to present, for integrators given one (default ONESEAL_TLS_CERT_FILE).", valueName: "file"))
    var clientCert: String?

    @Option(help: ArgumentHelp("Private key of --client-cert (default ONESEAL_TLS_KEY_FILE).", valueName: "file"))
    var clientKey: String?

    @Flag(help: "Plain TCP without TLS (or ONESEAL_INSECURE_LOOPBACK=1), for a development service on 127.0.0.1 started with --insecure-loopback.")
    var insecureLoopback = false

    /// The TLS material of this command: the trust bundle (and a client certificate if given).
    func tlsMaterial() throws -> TLSMaterialSource? {
        let environment = ProcessInfo.processInfo.environment
        if insecureLoopback || ["1", "true", "yes"].contains(environment["ONESEAL_INSECURE_LOOPBACK"]?.lowercased() ?? "") { return nil }
        func value(_ option: String?, _ key: String) -> String? {
            option ?? environment[key].flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
        }
        guard let trust = value(trust, "ONESEAL_TLS_TRUST_FILE") else {
            throw ValidationError("TLS is on: give --trust FILE or ONESEAL_TLS_TRUST_FILE (the node's trust bundle from `oneseal certs trust`), or --insecure-loopback for a development service on 127.0.0.1")
        }
        do {
            return try TLSMaterialSource(files: TLSFiles(
                certificateFile: value(clientCert, "ONESEAL_TLS_CERT_FILE"), keyFile: value(clientKey, "ONESEAL_TLS_KEY_FILE"), trustFile: trust))
        } catch {
            throw ValidationError("TLS: \(error)")
        }
    }

    /// Seconds a command waits for its service before giving up (exit 2).
    var callTimeout: Int { timeout ?? 300 }

    func validate() throws {
        guard DivisionCode.isValid(node) else { throw ValidationError("--node: '\(node)' is not a 6-digit division code") }
        if let timeout, timeout <= 0 { throw ValidationError("--timeout must be positive") }
        if let address { _ = try Self.parseAddress(address, option: "--address") }
        _ = try peerList()
    }

    /// The address of `service` on `--node`.
    func endpoint(_ service: ServiceName) throws -> Endpoint {
        let tls = try tlsMaterial().map { OneSealClientTransport.ClientTLS(material: $0, expectedNode: node, expectedService: service.rawValue) }
        if let address {
            let (host, port) = try Self.parseAddress(address, option: "--address")
            if tls == nil, !Self.isLoopback(host) {
                throw ValidationError("--insecure-loopback: \(host) is not a loopback address; plain TCP is only for 127.0.0.1")
            }
            return Endpoint(service: service, node: node, host: host, port: port, tls: tls)
        }
        let list = try peerList()
        guard let (host, port) = list["\(service.rawValue)@\(node)"] else {
            throw ValidationError("no address for \(service.rawValue)@\(node): give --address, or list it in --peers / ONESEAL_PEERS (service@node=host:port)")
        }
        if tls == nil, !Self.isLoopback(host) {
            throw ValidationError("--insecure-loopback: \(host) is not a loopback address; plain TCP is only for 127.0.0.1")
        }
        return Endpoint(service: service, node: node, host: host, port: port, tls: tls)
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || (host.hasPrefix("127.") && host.split(separator: ".").count == 4)
    }

    /// `--peers`, else ONESEAL_PEERS, else the local cluster's ports for 371300 and 371302.
    func peerList() throws -> [String: (String, Int)] {
        if let peers { return try Self.parsePeers(peers, option: "--peers") }
        if let environment = ProcessInfo.processInfo.environment["ONESEAL_PEERS"], !environment.trimmingCharacters(in: .whitespaces).isEmpty {
            return try Self.parsePeers(environment, option: "ONESEAL_PEERS")
        }
        return Self.clusterPeers
    }

    /// scripts/cluster: city 7101–7105, county 7201–7205 in ServiceName order.
    static var clusterPeers: [String: (String, Int)] {
        var list: [String: (String, Int)] = [:]
        for (node, base) in [("371300", 7100), ("371302", 7200)] {
            for (index, service) in ServiceName.allCases.enumerated() {
                list["\(service.rawValue)@\(node)"] = ("127.0.0.1", base + index + 1)
            }
        }
        return list
    }

    static func parsePeers(_ text: String, option: String) throws -> [String: (String, Int)] {
        var list: [String: (String, Int)] = [:]
        for entry in text.split(separator: ",") {
            let parts = entry.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, parts[0].contains("@") else {
                throw ValidationError("\(option): '\(entry)' is not service@node=host:port")
            }
            list[parts[0]] = try parseAddress(parts[1], option: option)
        }
        return list
    }

    static func parseAddress(_ text: String, option: String) throws -> (String, Int) {
        let parts = text.split(separator: ":")
        guard parts.count == 2, !parts[0].isEmpty, let port = Int(parts[1]), (1...65535).contains(port) else {
            throw ValidationError("\(option): '\(text)' is not host:port")
        }
        return (String(parts[0]), port)
    }

    /// Runs `body` with a client of `service`; an RPC failure comes back as a `CallFailure` naming
    /// the service and address, so every command reports it the same way.
    func call<T: Sendable>(_ service: ServiceName, _ body: (GRPCClient<OneSealClientTransport>) async throws -> T) async throws -> T {
        let endpoint = try endpoint(service)
        let watchdog = Self.watchdog(endpoint, seconds: callTimeout)
        defer { watchdog.cancel() }
        return try await Self.call(endpoint, body)
    }

    /// A command must not hang on a service that accepted the connection but never answers (or a
    /// dial that never completes): after `seconds`, the failure is reported like any other
    /// (DEADLINE_EXCEEDED, exit 2) and the process ends. A CLI may end itself this way; the
    /// calls in flight die with it, as with Ctrl-C.
    static func watchdog(_ endpoint: Endpoint, seconds: Int) -> Task<Void, Never> {
        Task.detached {
            do { try await Task.sleep(for: .seconds(seconds)) } catch { return }
            let failure = CallFailure(endpoint: endpoint, error: RPCError(code: .deadlineExceeded, message: "no answer within \(seconds) s (--timeout)"))
            FailureReport.report(failure, asJSON: CommandLine.arguments.contains("--json"))
            Foundation.exit(FailureReport.rpcExitCode)
        }
    }

    static func call<T: Sendable>(_ endpoint: Endpoint, _ body: (GRPCClient<OneSealClientTransport>) async throws -> T) async throws -> T {
        do {
            return try await withGRPCClient(transport: OneSealClientTransport(host: endpoint.host, port: endpoint.port, tls: endpoint.tls)) { client in
                try await body(client)
            }
        } catch let error as RPCError {
            throw CallFailure(endpoint: endpoint, error: error)
        }
    }

    func intake<T: Sendable>(_ body: (Intake_IntakeService.Client<OneSealClientTransport>) async throws -> T) async throws -> T {
        try await call(.intake) { try await body(Intake_IntakeService.Client(wrapping: $0)) }
    }

    func approval<T: Sendable>(_ body: (Approval_ApprovalService.Client<OneSealClientTransport>) async throws -> T) async throws -> T {
        try await call(.approval) { try await body(Approval_ApprovalService.Client(wrapping: $0)) }
    }

    func certificate<T: Sendable>(_ body: (Certificate_CertificateService.Client<OneSealClientTransport>) async throws -> T) async throws -> T {
        try await call(.certificate) { try await body(Certificate_CertificateService.Client(wrapping: $0)) }
    }

    func supervision<T: Sendable>(_ body: (Supervision_SupervisionService.Client<OneSealClientTransport>) async throws -> T) async throws -> T {
        try await call(.supervision) { try await body(Supervision_SupervisionService.Client(wrapping: $0)) }
    }

    func evaluation<T: Sendable>(_ body: (Evaluation_EvaluationService.Client<OneSealClientTransport>) async throws -> T) async throws -> T {
        try await call(.evaluation) { try await body(Evaluation_EvaluationService.Client(wrapping: $0)) }
    }
}

/// An RPC that failed, with the service it was sent to.
struct CallFailure: Error {
    var endpoint: Endpoint
    var error: RPCError
}
