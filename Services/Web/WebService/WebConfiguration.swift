import Foundation
import OneSealCore
import OneSealServiceKit
import OneSealWire
import WebRules

/// oneseal-web's configuration, from the environment like every service (docs/operators.md):
///
/// - `ONESEAL_NODE`, `ONESEAL_NODE_NAME`, `ONESEAL_LISTEN_HOST`, `ONESEAL_LOG_LEVEL`: as elsewhere;
/// - `ONESEAL_PORT`: the HTTP port (default 7180; 0 = any free port, for tests);
/// - `ONESEAL_PUBLIC_URL`: the node's public base URL (`https://zwfw.lanshan.gov.cn`), the same
///   value the certificate service writes into QR codes; default `http://<host>:<port>`;
/// - `ONESEAL_PEERS`: `intake@<node>=host:port,certificate@<node>=host:port` — the node's own
///   services it calls over OneSeal TCP (both required), and `evaluation@<node>=host:port` for
///   the rating page and the director's dashboard (optional), `approval@<node>=host:port` for the workbench's work list and case page (optional),
///   `supervision@<node>=host:port` for the department inbox (optional);
/// - `ONESEAL_WEB_APPLICANT_KEY_FILE`: turns applicant accounts on (#18 item 3, W16): the Ed25519
///   key the front mints 5-minute `applicant` tokens with; then `ONESEAL_DATABASE_URL` (the front's
///   own database, + `ONESEAL_DATABASE_PASSWORD_FILE`) and `ONESEAL_DATA_KEY_FILE` (the front's own
///   data key) are required;
/// - `ONESEAL_WEB_STAFF_KEY_FILE`: turns the staff workbench on (#19, W31): the Ed25519 key the
///   front mints staff tokens with; the services list it as `NODE:window_clerk+officer+…=KEY`;
/// - `ONESEAL_WEB_TRUSTED_PROXIES`: addresses whose X-Forwarded-For is believed (`ClientAddress`).
public struct WebConfiguration: Sendable {
    public var node: String
    public var siteName: String
    public var host: String
    public var port: Int
    public var publicURL: String?
    public var intake: (host: String, port: Int)
    public var certificate: (host: String, port: Int)
    /// The node's evaluation service, for the rating page (好差评) and the director's dashboard
    /// (效能看板); optional: without it the application page offers no rating and the board says so.
    public var evaluation: (host: String, port: Int)?
    /// The node's approval service, for the staff workbench's back office (#19); optional: without
    /// it the work list says the back office is not connected.
    public var approval: (host: String, port: Int)?
    /// The node's supervision service, for the department inbox (#19 screen 3); optional: without
    /// it `/staff/pushes` is not there.
    public var supervision: (host: String, port: Int)?
    public var logLevel: String
    public var wire: WireConfiguration
    /// How the front reaches the node's services: TLS with its own `web@<node>` certificate and the
    /// node's trust bundle (ONESEAL_TLS_*), or plain TCP under ONESEAL_INSECURE_LOOPBACK=1.
    public var tls: NodeConfiguration.TLS = .insecureLoopback
    /// The front's own HTTPS: ONESEAL_WEB_HTTPS_CERT_FILE + ONESEAL_WEB_HTTPS_KEY_FILE (both or
    /// neither); nil serves plain HTTP for a terminator in front.
    public var https: (certificateFile: String, keyFile: String)?
    /// Progress look-ups per client address per minute (intake limits per source too, but behind
    /// this front every citizen shares one source; see docs/decisions.md).
    public var progressLookupsPerMinute = 10
    /// Verification pages per client address per minute.
    public var verificationsPerMinute = 120

    /// Applicant accounts, when configured (nil: the public pages only, as before accounts).
    public var accounts: Accounts?
    /// Reverse proxies whose X-Forwarded-For names the client (exact addresses).
    public var trustedProxies: Set<String> = []

    public struct Accounts: Sendable {
        public var databaseConninfo: String
        public var databasePoolSize: Int
        public var dataKeyFile: String
        public var applicantKeyFile: String
        /// The staff workbench (#19, W31): the Ed25519 key the front mints staff tokens with, which
        /// the services trust for the staff roles only; nil: no staff sign-in.
        public var staffKeyFile: String?

        public init(databaseConninfo: String, databasePoolSize: Int = 4, dataKeyFile: String, applicantKeyFile: String, staffKeyFile: String? = nil) {
            self.databaseConninfo = databaseConninfo
            self.databasePoolSize = databasePoolSize
            self.dataKeyFile = dataKeyFile
            self.applicantKeyFile = applicantKeyFile
            self.staffKeyFile = staffKeyFile
        }
    }

    public static let defaultPort = 7180

    public init(node: String, siteName: String, host: String, port: Int, publicURL: String?, intake: (host: String, port: Int), certificate: (host: String, port: Int), logLevel: String = "info", wire: WireConfiguration = WireConfiguration()) {
        self.node = node
        self.siteName = siteName
        self.host = host
        self.port = port
        self.publicURL = publicURL
        self.intake = intake
        self.certificate = certificate
        self.logLevel = logLevel
        self.wire = wire
    }

    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> WebConfiguration {
        var environment = environment
        if (environment["ONESEAL_PORT"] ?? "").trimmingCharacters(in: .whitespaces).isEmpty {
            environment["ONESEAL_PORT"] = "\(defaultPort)"
        }
        let node = try NodeConfiguration.fromEnvironment(service: "web", environment: environment)
        func peer(_ service: String) throws -> (host: String, port: Int) {
            guard let address = node.peers["\(service)@\(node.node)"] else {
                throw NodeConfiguration.Invalid(variable: "ONESEAL_PEERS", reason: "no \(service)@\(node.node)=host:port: oneseal-web calls the node's \(service) service")
            }
            return address
        }
        var publicURL: String?
        if let raw = environment["ONESEAL_PUBLIC_URL"]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty {
            guard let url = URLComponents(string: raw), url.scheme == "https" || url.scheme == "http", url.host?.isEmpty == false, url.query == nil else {
                throw NodeConfiguration.Invalid(variable: "ONESEAL_PUBLIC_URL", reason: "'\(raw)' is not an http(s) base URL such as https://zwfw.lanshan.gov.cn")
            }
            publicURL = raw.hasSuffix("/") ? String(raw.dropLast()) : raw
        }
        var configuration = WebConfiguration(
            node: node.node, siteName: node.nodeName ?? "行政审批服务局（\(node.node)）", host: node.host, port: node.port,
            publicURL: publicURL, intake: try peer("intake"), certificate: try peer("certificate"), logLevel: node.logLevel, wire: node.wire)
        configuration.tls = node.tls
        configuration.evaluation = node.peers["evaluation@\(node.node)"]
        configuration.approval = node.peers["approval@\(node.node)"]
        configuration.supervision = node.peers["supervision@\(node.node)"]
        let httpsFiles = [environment["ONESEAL_WEB_HTTPS_CERT_FILE"], environment["ONESEAL_WEB_HTTPS_KEY_FILE"]]
            .map { $0?.trimmingCharacters(in: .whitespaces) }.map { $0?.isEmpty == false ? $0 : nil }
        switch (httpsFiles[0], httpsFiles[1]) {
        case (let certificate?, let key?): configuration.https = (certificate, key)
        case (nil, nil): break
        case (nil, _): throw NodeConfiguration.Invalid(variable: "ONESEAL_WEB_HTTPS_CERT_FILE", reason: "ONESEAL_WEB_HTTPS_KEY_FILE is given without the certificate")
        case (_, nil): throw NodeConfiguration.Invalid(variable: "ONESEAL_WEB_HTTPS_KEY_FILE", reason: "ONESEAL_WEB_HTTPS_CERT_FILE is given without its key")
        }
        if let keyFile = environment["ONESEAL_WEB_APPLICANT_KEY_FILE"]?.trimmingCharacters(in: .whitespaces), !keyFile.isEmpty {
            guard environment["ONESEAL_DATABASE_URL"]?.trimmingCharacters(in: .whitespaces).isEmpty == false else {
                throw NodeConfiguration.Invalid(variable: "ONESEAL_DATABASE_URL", reason: "accounts (ONESEAL_WEB_APPLICANT_KEY_FILE) need the front's own database")
            }
            guard let dataKey = node.dataKeyFile else {
                throw NodeConfiguration.Invalid(variable: "ONESEAL_DATA_KEY_FILE", reason: "accounts (ONESEAL_WEB_APPLICANT_KEY_FILE) hold personal data, sealed with the front's own data key")
            }
            configuration.accounts = Accounts(databaseConninfo: node.databaseConninfo, databasePoolSize: node.databasePoolSize, dataKeyFile: dataKey, applicantKeyFile: keyFile)
        }
        if let staffKey = environment["ONESEAL_WEB_STAFF_KEY_FILE"]?.trimmingCharacters(in: .whitespaces), !staffKey.isEmpty {
            guard configuration.accounts != nil else {
                throw NodeConfiguration.Invalid(
                    variable: "ONESEAL_WEB_STAFF_KEY_FILE",
                    reason: "the staff workbench keeps its accounts in the front's database beside the applicants': give ONESEAL_WEB_APPLICANT_KEY_FILE (and its database and data key) too")
            }
            configuration.accounts?.staffKeyFile = staffKey
        }
        if let proxies = environment["ONESEAL_WEB_TRUSTED_PROXIES"] {
            switch ClientAddress.parseTrustedProxies(proxies) {
            case .success(let set): configuration.trustedProxies = set
            case .failure(let entry):
                throw NodeConfiguration.Invalid(variable: "ONESEAL_WEB_TRUSTED_PROXIES", reason: "'\(entry.message)' is not an IP address (list each proxy's address, comma-separated)")
            }
        }
        return configuration
    }

    /// Cookies get `Secure` when the front serves HTTPS itself or its public URL is https (a TLS
    /// terminator in front): a browser then never sends them over plain HTTP.
    var cookiesSecure: Bool {
        https != nil || (publicURL?.hasPrefix("https://") ?? false)
    }

    /// The verification page's URL, as QR codes carry it.
    func verifyURL(boundPort: Int) -> String {
        (publicURL ?? "http://\(host):\(boundPort)") + "/verify"
    }
}
