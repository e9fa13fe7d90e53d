import CertificateRules
import Foundation
import GRPCCore
import Logging
import OneSealAuth
import OneSealCore
import OneSealOutbox
import OneSealPrivacy
import OneSealProto
import OneSealServiceKit
import OneSealStore
import OneSealWire
import SwiftProtobuf

/// Values a node may configure for its certificate service (node_settings, keys `certificate.*`),
/// with the defaults used when unset.
public struct CertificateSettings: Sendable, Hashable {
    /// 颁发机构 and its code (USCC) as printed on licences and written into identifiers.
    public var issuerName: String
    public var issuerCode: String
    /// 签章人: who the seal belongs to, printed beside it.
    public var signer: String
    /// The page a phone opens from the QR code; the payload is appended as query parameters.
    public var verifyURL: String
    /// Whether node_settings named the page (`certificate.verify_url`); else ONESEAL_PUBLIC_URL decides.
    public var verifyURLSet = false
    /// Licence-number rules by licence type code (`certificate.number_rule.<type code>`).
    public var numberRules: [String: LicenceNumberRule]
    /// Maximum merge delay: every log entry is integrated into a signed tree head within this time.
    public var maximumMergeDelay: Duration
    /// Entries integrated per batch.
    public var logBatchSize: Int
    /// USCCs that fail the GB 32100 check but are real (early pilot codes).
    public var usccAllowList: Set<String>

    /// `name` and `uscc` are the node's (ONESEAL_NODE_NAME, ONESEAL_NODE_USCC); without them a
    /// placeholder name and a shape-valid code until the operator sets the real ones.
    public init(node: String, name: String? = nil, uscc: String? = nil) {
        self.issuerName = name ?? "行政审批服务局（\(node)）"
        let first17 = "11" + node + "MB" + "0000000"
        self.issuerCode = uscc ?? (first17 + String(UnifiedSocialCreditCode.checkCharacter(forFirst17: first17) ?? "0"))
        self.signer = issuerName
        self.verifyURL = "https://oneseal.invalid/verify"
        self.numberRules = [:]
        self.maximumMergeDelay = .seconds(2)
        self.logBatchSize = 500
        self.usccAllowList = []
    }

    /// The verification page under the node's public base URL (ONESEAL_PUBLIC_URL, e.g.
    /// `https://zwfw.lanshan.gov.cn` → `https://zwfw.lanshan.gov.cn/verify`), where oneseal-web
    /// answers; nil when unset. A value that is not an http(s) URL stops the service by name.
    public static func verifyURL(publicBaseURL: String?) throws -> String? {
        guard let raw = publicBaseURL?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return nil }
        guard let url = URLComponents(string: raw), url.scheme == "https" || url.scheme == "http", url.host?.isEmpty == false,
              url.query == nil, url.fragment == nil else {
            throw NodeConfiguration.Invalid(variable: "ONESEAL_PUBLIC_URL", reason: "'\(raw)' is not an http(s) base URL such as https://zwfw.lanshan.gov.cn")
        }
        return raw.hasSuffix("/") ? raw + "verify" : raw + "/verify"
    }

    /// The rule numbering licences of `typeCode`.
    public func numberRule(for typeCode: String) -> LicenceNumberRule { numberRules[typeCode] ?? .default }

    /// Reads the settings from node_settings; unknown keys are ignored, bad values refused by name.
    static func load(node: String, name: String? = nil, uscc: String? = nil, from database: PostgresClient) async throws -> CertificateSettings {
        var settings = CertificateSettings(node: node, name: name, uscc: uscc)
        var signerSet = false
        for row in try await database.query("SELECT key, value FROM node_settings WHERE key LIKE 'certificate.%' ORDER BY key") {
            let key = try row.decode("key", as: String.self)
            let value = try row.decode("value", as: String.self).trimmingCharacters(in: .whitespaces)
            func invalid(_ reason: String) -> NodeConfiguration.Invalid {
                NodeConfiguration.Invalid(variable: "node_settings.\(key)", reason: reason)
            }
            switch key {
            case "certificate.issuer_name":
                settings.issuerName = value
                if !signerSet { settings.signer = value }
            case "certificate.issuer_code":
                guard (try? LicenceIdentifier(typeCode: "111111111111111111001", issuer: value, serial: "1", version: 1)) != nil else {
                    throw invalid("'\(value)' is not an 18-character unified social credit code")
                }
                settings.issuerCode = IdentityCode.normalized(value)
            case "certificate.signer":
                settings.signer = value
                signerSet = true
            case "certificate.verify_url":
                guard let url = URLComponents(string: value), url.scheme != nil, url.host != nil else { throw invalid("'\(value)' is not a URL") }
                settings.verifyURL = value
                settings.verifyURLSet = true
            case "certificate.maximum_merge_delay_ms":
                guard let ms = Int(value), (100...600_000).contains(ms) else { throw invalid("'\(value)' is not a number of milliseconds in 100...600000") }
                settings.maximumMergeDelay = .milliseconds(ms)
            case "certificate.log_batch_size":
                guard let size = Int(value), (1...10_000).contains(size) else { throw invalid("'\(value)' is not in 1...10000") }
                settings.logBatchSize = size
            case "certificate.uscc_allow_list":
                settings.usccAllowList = Set(value.split(separator: ",").map { IdentityCode.normalized(String($0)) })
            default:
                if key.hasPrefix("certificate.number_rule.") {
                    let typeCode = String(key.dropFirst("certificate.number_rule.".count))
                    do { settings.numberRules[typeCode] = try LicenceNumberRule(value) } catch { throw invalid("\(error)") }
                }
            }
        }
        return settings
    }
}

/// `oneseal.certificate.v1.CertificateService` (制证). Handlers validate, apply CertificateRules and
/// write the licence, its log entry and its events in one transaction.
public struct CertificateAPI: Certificate_CertificateService.SimpleServiceProtocol {
    let database: PostgresClient
    /// Seals the licence content at rest (the holder's code is personal data).
    let keyring: DataKeyring
    /// The node's seal keys (never logged: `SealKeyring.description` shows key ids only). Nil when
    /// ONESEAL_SEAL_KEY_FILE is not set: the service then verifies and serves the log but issues nothing.
    let seals: SealKeyring?
    let node: String
    let settings: CertificateSettings
    let calendar: WorkingDayCalendar
    let clock: @Sendable () -> Date
    /// Other services and nodes (ONESEAL_PEERS): `certificate@<node>` of peers for 互认.
    let peers: [String: GRPCClient<OneSealClientTransport>]
    let serviceToken: (@Sendable () throws -> String)?
    /// TLS for a node reached through its trust-list endpoint (nil: plain, `--insecure-loopback`).
    var clientTLS: (@Sendable (_ node: String) -> OneSealClientTransport.ClientTLS?) = { _ in nil }
    let logger: Logger

    public init(
        database: PostgresClient, keyring: DataKeyring, seals: SealKeyring?, node: String, settings: CertificateSettings,
        calendar: WorkingDayCalendar = .china, clock: @escaping @Sendable () -> Date = { Date() },
        peers: [String: GRPCClient<OneSealClientTransport>] = [:], serviceToken: (@Sendable () throws -> String)? = nil,
        logger: Logger = Logger(label: "oneseal.certificate")
    ) {
        self.database = database
        self.keyring = keyring
        self.seals = seals
        self.node = node
        self.settings = settings
        self.calendar = calendar
        self.clock = clock
        self.peers = peers
        self.serviceToken = serviceToken
        self.logger = logger
    }

    /// The signing key, or UNAVAILABLE (retried by callers and event senders) when none is configured.
    func sealKey() throws -> SealKey {
        guard let seals else {
            throw RPCError(code: .unavailable, message: "this node has no seal key (ONESEAL_SEAL_KEY_FILE): it cannot sign licences or tree heads until one is configured")
        }
        return seals.current
    }

    /// Today in Beijing.
    var today: CivilDate { CivilDate.today(now: clock()) }

    // MARK: Errors

    static func violation(_ field: String, _ description: String, reason: String) -> Common_FieldViolation {
        Common_FieldViolation.with { $0.field = field; $0.description_p = description; $0.reason = reason }
    }

    static func parseID(_ text: String, field: String = "licence_id") throws -> UUID {
        guard !text.isEmpty else { throw RPCError.invalidArgument(field: field, "required", reason: "required") }
        guard let id = UUID(uuidString: text) else {
            throw RPCError.invalidArgument(field: field, "'\(text)' is not a licence id (UUID)", reason: "format")
        }
        return id
    }

    /// Parses a licence identifier, naming the field and what is wrong with it (check character …).
    static func parseIdentifier(_ text: String, field: String = "licence_identifier") throws -> LicenceIdentifier {
        guard !text.isEmpty else { throw RPCError.invalidArgument(field: field, "required", reason: "required") }
        do {
            return try LicenceIdentifier(parsing: text.trimmingCharacters(in: .whitespaces))
        } catch {
            var reason = "format"
            if case .checkCharacterMismatch = error { reason = "check_character" }
            throw RPCError.invalidArgument(field: field, error.description, reason: reason)
        }
    }

    // MARK: Events

    func event(_ message: some SwiftProtobuf.Message, to destination: String, aggregate: UUID) throws -> OutboxEvent {
        try .make(message, to: destination, aggregate: aggregate.uuidString.lowercased(), sealedWith: keyring)
    }

    /// Where licence events go: intake at the window that accepted the application (出件 there),
    /// supervision and evaluation of this node.
    func destinations(acceptingNode: String) -> [String] {
        ["intake@\(acceptingNode.isEmpty ? node : acceptingNode)", "supervision@\(node)", "evaluation@\(node)"]
    }

    // MARK: Personal data

    /// Whether `caller` sees the holder's code in full, by the one disclosure rule (`Disclosure`):
    /// this node's certificate operators and window clerks, and other OneSeal services (a peer
    /// verifying the seal needs the exact signed content). Everyone else — a clerk of another node
    /// included — sees it masked.
    func seesFullContent(_ caller: Caller?) -> Bool {
        Disclosure.of(.licence, for: caller, atNode: node) == .full
    }
}

extension LicenceStatusError: ContractStatus {
    public var rpcError: RPCError { RPCError(code: .failedPrecondition, message: description) }
}

extension NumberingError: ContractStatus {
    public var rpcError: RPCError { RPCError(code: .failedPrecondition, message: description) }
}
