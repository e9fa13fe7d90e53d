import Foundation
import OneSealAuth
import OneSealCore
import OneSealTLS
import OneSealWire

/// Everything a service process reads from its environment, with defaults for local use.
///
/// Every variable is documented in docs/operators.md. A bad value stops the process at start with
/// a message naming the variable: a node misconfigured at 3 a.m. should say why, not limp along.
public struct NodeConfiguration: Sendable {
    /// GB/T 2260 code of this hall (ONESEAL_NODE), e.g. 371300 (city) or 371302 (county).
    public var node: String
    /// The service's short name: intake, approval, certificate, supervision, evaluation.
    public var service: String
    /// RPC listen address (ONESEAL_LISTEN_HOST, ONESEAL_PORT).
    public var host: String
    public var port: Int
    /// Prometheus /metrics and /healthz over HTTP (ONESEAL_METRICS_PORT; 0 = a free port; "off" = none).
    public var metricsPort: Int?
    /// Where the metrics endpoint listens (ONESEAL_METRICS_HOST): by default the RPC listen
    /// address, or 127.0.0.1 when that is a wildcard (0.0.0.0, ::), so metrics are never on every
    /// interface unless an operator says so (issue #17 item 7).
    public var metricsHost: String = "127.0.0.1"
    /// A file holding the bearer token `/metrics` requires (ONESEAL_METRICS_TOKEN_FILE); nil: none.
    /// `/healthz` stays open for liveness probes (it says only "ok").
    public var metricsTokenFile: String?
    /// TLS on OneSeal TCP (issue #17): key material from files, or — only when asked for and only
    /// on a loopback address — plain TCP for development.
    public var tls: TLS = .insecureLoopback
    /// libpq conninfo of this service's own database (ONESEAL_DATABASE_URL).
    public var databaseConninfo: String
    public var databasePoolSize: Int
    /// Public keys whose tokens this service accepts, each bound to the node (and roles) it may
    /// issue for: ONESEAL_TOKEN_PUBLIC_KEYS, comma-separated `NODE=KEY` / `NODE:role+role=KEY`,
    /// and/or ONESEAL_TOKEN_PUBLIC_KEYS_FILE, one entry per line. A key trusted without a node
    /// would let any node's key mint tokens for every node (issue #15 item 6), so a bare key is
    /// refused at start.
    public var trustedTokenKeys: [TrustedTokenKey]
    /// Other services and nodes this one calls: ONESEAL_PEERS="approval@371300=127.0.0.1:7102,…".
    public var peers: [String: (host: String, port: Int)]
    /// Signing key of this service's own tokens for service-to-service calls (ONESEAL_SERVICE_KEY_FILE).
    public var serviceKeyFile: String?
    /// Keys sealing personal data at rest (ONESEAL_DATA_KEY_FILE: base64 keys, one per line, the
    /// current one first); services that store personal data refuse to start without it.
    public var dataKeyFile: String?
    public var logLevel: String
    public var wire: WireConfiguration
    /// The working-day calendar every deadline of this service is counted on: the built-in years
    /// plus the years (and regional days off) of ONESEAL_CALENDAR_FILE, so an operator can load next
    /// year's State Council notice without a release (docs/operators.md).
    public var calendar: WorkingDayCalendar = .china
    /// How long delivered outbox events are kept before the purge deletes them
    /// (ONESEAL_OUTBOX_KEEP_DELIVERED_SECONDS, default 0: the delivering pass deletes them,
    /// decision 75). They carry personal data and are not needed once delivered: the consumer's
    /// inbox is the durable record (OutboxMaintenance).
    public var outboxKeepDelivered: Duration = OutboxMaintenance.defaultKeepDelivered
    /// The least time between two batches a relay sends to one evaluation service
    /// (ONESEAL_OUTBOX_EVALUATION_PACE_MS, default 250; 0 = none). Evaluation keeps the record
    /// (ratings, monthly figures) and nobody waits on it within a second, so its events go in
    /// fewer, larger batches: a transaction here and one there per batch (#21, decision 67).
    /// Approval's events to evaluation are not paced (`ServiceDefinition.pacesEvaluationFeed`).
    public var outboxEvaluationPace: Duration = .milliseconds(250)
    /// The hall's name as documents and licences print it (ONESEAL_NODE_NAME), e.g.
    /// 临沂市兰山区行政审批服务局; nil: each service's placeholder "行政审批服务局（371302）".
    /// A service's own setting (`intake.agency_name`, `certificate.issuer_name`) still wins.
    public var nodeName: String?
    /// The bureau's unified social credit code (ONESEAL_NODE_USCC), GB 32100-checked: the issuer
    /// code of its licences unless `certificate.issuer_code` says otherwise.
    public var nodeUSCC: String?

    /// The default port of each service on a node (the county adds 100 in the local cluster).
    public static let defaultPorts = ["intake": 7101, "approval": 7102, "certificate": 7103, "supervision": 7104, "evaluation": 7105]

    public enum TLS: Sendable, Hashable {
        /// ONESEAL_TLS_CERT_FILE, ONESEAL_TLS_KEY_FILE, ONESEAL_TLS_TRUST_FILE.
        case files(TLSFiles)
        /// ONESEAL_INSECURE_LOOPBACK=1 or `--insecure-loopback`: plain TCP, service tokens without
        /// certificates; refused unless the listen address is a loopback address.
        case insecureLoopback

        public var files: TLSFiles? {
            if case .files(let files) = self { return files } else { return nil }
        }
    }

    /// 127.0.0.0/8, ::1, localhost.
    public static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host == "[::1]" || (host.hasPrefix("127.") && host.split(separator: ".").count == 4)
    }

    public struct Invalid: Error, CustomStringConvertible {
        public var variable: String
        public var reason: String
        public var description: String { "configuration: \(variable): \(reason)" }

        public init(variable: String, reason: String) {
            self.variable = variable
            self.reason = reason
        }
    }

    public static func fromEnvironment(
        service: String, environment: [String: String] = ProcessInfo.processInfo.environment, arguments: [String] = []
    ) throws -> NodeConfiguration {
        func value(_ key: String) -> String? {
            guard let raw = environment[key]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return nil }
            return raw
        }
        func integer(_ key: String, default fallback: Int, range: ClosedRange<Int>) throws -> Int {
            guard let raw = value(key) else { return fallback }
            guard let number = Int(raw), range.contains(number) else {
                throw Invalid(variable: key, reason: "'\(raw)' is not an integer in \(range.lowerBound)...\(range.upperBound)")
            }
            return number
        }
        let node = value("ONESEAL_NODE") ?? "371300"
        guard DivisionCode.isValid(node) else {
            throw Invalid(variable: "ONESEAL_NODE", reason: "'\(node)' is not a 6-digit GB/T 2260 division code")
        }
        var keys: [TrustedTokenKey] = []
        func trust(_ entries: [Substring], variable: String) throws {
            for entry in entries.map({ $0.trimmingCharacters(in: .whitespaces) }) where !entry.isEmpty && !entry.hasPrefix("#") {
                do { keys.append(try TrustedTokenKey(entry: entry)) } catch {
                    throw Invalid(variable: variable, reason: "\(error)")
                }
            }
        }
        try trust((value("ONESEAL_TOKEN_PUBLIC_KEYS") ?? "").split(separator: ","), variable: "ONESEAL_TOKEN_PUBLIC_KEYS")
        if let file = value("ONESEAL_TOKEN_PUBLIC_KEYS_FILE") {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw Invalid(variable: "ONESEAL_TOKEN_PUBLIC_KEYS_FILE", reason: "cannot read \(file)")
            }
            try trust(text.split(whereSeparator: \.isNewline), variable: "ONESEAL_TOKEN_PUBLIC_KEYS_FILE")
        }
        var peers: [String: (String, Int)] = [:]
        for entry in (value("ONESEAL_PEERS") ?? "").split(separator: ",") {
            let parts = entry.split(separator: "=", maxSplits: 1)
            let address = parts.count == 2 ? parts[1].split(separator: ":") : []
            guard parts.count == 2, address.count == 2, let port = Int(address[1]) else {
                throw Invalid(variable: "ONESEAL_PEERS", reason: "'\(entry)' is not name@node=host:port")
            }
            peers[String(parts[0]).trimmingCharacters(in: .whitespaces)] = (String(address[0]), port)
        }
        let logLevel = value("ONESEAL_LOG_LEVEL") ?? "info"
        guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(logLevel) else {
            throw Invalid(variable: "ONESEAL_LOG_LEVEL", reason: "'\(logLevel)' is not one of trace, debug, info, notice, warning, error, critical")
        }
        var conninfo = value("ONESEAL_DATABASE_URL") ?? "host=127.0.0.1 port=5432 user=postgres dbname=oneseal_\(service)_\(node)"
        if let file = value("ONESEAL_DATABASE_PASSWORD_FILE") {
            // The password stays out of the environment (and out of `ps`/`docker inspect`): it is
            // read from a file (a compose/Kubernetes secret) and added to the conninfo here.
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw Invalid(variable: "ONESEAL_DATABASE_PASSWORD_FILE", reason: "cannot read \(file)")
            }
            let password = text.trimmingCharacters(in: .newlines)
            guard !password.isEmpty else {
                throw Invalid(variable: "ONESEAL_DATABASE_PASSWORD_FILE", reason: "\(file) is empty")
            }
            guard !conninfo.hasPrefix("postgres://"), !conninfo.hasPrefix("postgresql://") else {
                throw Invalid(variable: "ONESEAL_DATABASE_URL", reason: "with ONESEAL_DATABASE_PASSWORD_FILE, give the key=value form (host=… dbname=…), not a URI")
            }
            conninfo += " password=" + Self.conninfoQuoted(password)
        }
        let metrics = value("ONESEAL_METRICS_PORT")
        var wire = WireConfiguration()
        wire.maximumFrameSize = try integer("ONESEAL_MAX_FRAME_BYTES", default: WireConfiguration.defaultMaximumFrameSize, range: 1024...(64 << 20))
        var calendar = WorkingDayCalendar.china
        if let file = value("ONESEAL_CALENDAR_FILE") {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw Invalid(variable: "ONESEAL_CALENDAR_FILE", reason: "cannot read \(file)")
            }
            do { try calendar.load(text) } catch {
                throw Invalid(variable: "ONESEAL_CALENDAR_FILE", reason: "\(file): \(error)")
            }
        }
        let host = value("ONESEAL_LISTEN_HOST") ?? "127.0.0.1"
        let tls: TLS
        let insecure = arguments.contains("--insecure-loopback") || value("ONESEAL_INSECURE_LOOPBACK").map { ["1", "true", "yes"].contains($0.lowercased()) } == true
        let tlsFiles = (value("ONESEAL_TLS_CERT_FILE"), value("ONESEAL_TLS_KEY_FILE"), value("ONESEAL_TLS_TRUST_FILE"))
        if insecure {
            guard Self.isLoopback(host) else {
                throw Invalid(
                    variable: "ONESEAL_INSECURE_LOOPBACK",
                    reason: "plain TCP is only for development on a loopback address; ONESEAL_LISTEN_HOST is '\(host)' (give ONESEAL_TLS_CERT_FILE, ONESEAL_TLS_KEY_FILE, ONESEAL_TLS_TRUST_FILE instead)"
                )
            }
            guard tlsFiles.0 == nil, tlsFiles.1 == nil, tlsFiles.2 == nil else {
                throw Invalid(variable: "ONESEAL_INSECURE_LOOPBACK", reason: "given together with ONESEAL_TLS_* files; choose one")
            }
            tls = .insecureLoopback
        } else {
            let missing = [("ONESEAL_TLS_CERT_FILE", tlsFiles.0), ("ONESEAL_TLS_KEY_FILE", tlsFiles.1), ("ONESEAL_TLS_TRUST_FILE", tlsFiles.2)]
                .filter { $0.1 == nil }.map(\.0)
            guard missing.isEmpty, let certificate = tlsFiles.0, let key = tlsFiles.1, let trust = tlsFiles.2 else {
                throw Invalid(
                    variable: missing.joined(separator: ", "),
                    reason: "TLS is on by default: give ONESEAL_TLS_CERT_FILE, ONESEAL_TLS_KEY_FILE and ONESEAL_TLS_TRUST_FILE (`oneseal certs issue`), or ONESEAL_INSECURE_LOOPBACK=1 for development on 127.0.0.1"
                )
            }
            tls = .files(TLSFiles(certificateFile: certificate, keyFile: key, trustFile: trust))
        }
        var configuration = NodeConfiguration(
            node: node,
            service: service,
            host: host,
            port: try integer("ONESEAL_PORT", default: Self.defaultPorts[service] ?? 7100, range: 0...65535),
            metricsPort: metrics == "off" ? nil : try integer("ONESEAL_METRICS_PORT", default: 0, range: 0...65535),
            databaseConninfo: conninfo,
            databasePoolSize: try integer("ONESEAL_DB_POOL_SIZE", default: 10, range: 1...200),
            trustedTokenKeys: keys,
            peers: peers,
            serviceKeyFile: value("ONESEAL_SERVICE_KEY_FILE"),
            dataKeyFile: value("ONESEAL_DATA_KEY_FILE"),
            logLevel: logLevel,
            wire: wire,
            calendar: calendar
        )
        configuration.tls = tls
        configuration.metricsHost = value("ONESEAL_METRICS_HOST") ?? (["0.0.0.0", "::", "[::]"].contains(host) ? "127.0.0.1" : host)
        if let file = value("ONESEAL_METRICS_TOKEN_FILE") {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8), !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw Invalid(variable: "ONESEAL_METRICS_TOKEN_FILE", reason: "cannot read \(file), or it is empty")
            }
            configuration.metricsTokenFile = file
        }
        configuration.outboxKeepDelivered = .seconds(try integer(
            "ONESEAL_OUTBOX_KEEP_DELIVERED_SECONDS", default: Int(OutboxMaintenance.defaultKeepDelivered.components.seconds), range: 0...(7 * 24 * 3600)))
        configuration.outboxEvaluationPace = .milliseconds(try integer("ONESEAL_OUTBOX_EVALUATION_PACE_MS", default: 250, range: 0...10_000))
        if let name = value("ONESEAL_NODE_NAME") {
            guard name.unicodeScalars.count <= 100, FieldLimits.problem(with: name, field: "name") == nil else {
                throw Invalid(variable: "ONESEAL_NODE_NAME", reason: "one line of at most 100 characters, e.g. 临沂市兰山区行政审批服务局")
            }
            configuration.nodeName = name
        }
        if let code = value("ONESEAL_NODE_USCC") {
            do { configuration.nodeUSCC = try UnifiedSocialCreditCode(IdentityCode.normalized(code)).value } catch {
                throw Invalid(variable: "ONESEAL_NODE_USCC", reason: "'\(code)' is not a unified social credit code (GB 32100): \(error)")
            }
        }
        return configuration
    }

    /// A conninfo value in single quotes with `\\` and `'` escaped (libpq's rule), so any password works.
    static func conninfoQuoted(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
    }
}
