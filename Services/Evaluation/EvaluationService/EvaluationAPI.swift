import EvaluationContracts
import EvaluationRules
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
import SwiftProtobuf

/// Values a node may configure for evaluation (node_settings, keys `evaluation.*`), with defaults.
public struct EvaluationSettings: Sendable, Hashable {
    /// Working days a bad review's ticket has (docs/law.md#ratings: 5, 7 or 15 by locality; default 15).
    public var rectificationWorkingDays: Int
    /// Working days after a rating within which the rated side may appeal it.
    public var appealWorkingDays: Int
    /// Yellow when this many working days or fewer are left.
    public var warning: WarningPolicy
    /// Monthly red/yellow flag rules (`FlagRule.parse` format).
    public var flagRules: [FlagRule]
    /// The on-time target drawn on the report's charts (0–1).
    public var onTimeTarget: Double
    /// Printed on reports.
    public var agencyName: String

    public init(
        rectificationWorkingDays: Int = 15, appealWorkingDays: Int = 5, warning: WarningPolicy = .default,
        flagRules: [FlagRule] = FlagRule.defaults, onTimeTarget: Double = 0.98, agencyName: String
    ) {
        self.rectificationWorkingDays = rectificationWorkingDays
        self.appealWorkingDays = appealWorkingDays
        self.warning = warning
        self.flagRules = flagRules
        self.onTimeTarget = onTimeTarget
        self.agencyName = agencyName
    }

    /// Reads `evaluation.*` keys; unknown keys are ignored, bad values refused (the service does
    /// not start on a setting it cannot honour).
    static func load(node: String, name: String? = nil, from database: PostgresClient) async throws -> EvaluationSettings {
        var settings = EvaluationSettings(agencyName: name ?? "行政审批服务局（\(node)）")
        for row in try await database.query("SELECT key, value FROM node_settings WHERE key LIKE 'evaluation.%'") {
            let key = try row.decode("key", as: String.self)
            let value = try row.decode("value", as: String.self)
            func days(_ range: ClosedRange<Int>) throws -> Int {
                guard let number = Int(value), range.contains(number) else {
                    throw NodeConfiguration.Invalid(variable: "node_settings.\(key)", reason: "'\(value)' is not a number of working days in \(range)")
                }
                return number
            }
            switch key {
            case "evaluation.rectification_working_days": settings.rectificationWorkingDays = try days(1...60)
            case "evaluation.appeal_working_days": settings.appealWorkingDays = try days(1...60)
            case "evaluation.yellow_days_left": settings.warning = WarningPolicy(yellowWhenDaysLeftAtMost: try days(0...30))
            case "evaluation.agency_name": settings.agencyName = value
            case "evaluation.on_time_target":
                guard let target = Double(value), (0...1).contains(target) else {
                    throw NodeConfiguration.Invalid(variable: "node_settings.\(key)", reason: "'\(value)' is not a rate in 0…1")
                }
                settings.onTimeTarget = target
            case "evaluation.flag_rules":
                do { settings.flagRules = try FlagRule.parse(value) } catch {
                    throw NodeConfiguration.Invalid(variable: "node_settings.\(key)", reason: "\(error)")
                }
            default: break
            }
        }
        return settings
    }
}

/// `oneseal.evaluation.v1.EvaluationService`: ratings, rectification, appeals, figures, warnings,
/// flags and reports. Handlers validate, apply `EvaluationRules` and write in one transaction.
public struct EvaluationAPI: Evaluation_EvaluationService.SimpleServiceProtocol {
    let database: PostgresClient
    let keyring: DataKeyring
    let node: String
    let settings: EvaluationSettings
    let calendar: WorkingDayCalendar
    let clock: @Sendable () -> Date
    /// Peers this node may send to (ONESEAL_PEERS names): the parent node's evaluation gets a
    /// copy of every event when configured (E13).
    let peers: Set<String>
    let logger: Logger
    /// The figures' read model between calls (shared by the copies of this value).
    let models = ReadModelCache()
    let figureMemo = FigureMemo()

    public init(
        database: PostgresClient, keyring: DataKeyring, node: String, settings: EvaluationSettings,
        calendar: WorkingDayCalendar = .china, clock: @escaping @Sendable () -> Date = { Date() }, peers: Set<String> = [],
        logger: Logger = Logger(label: "oneseal.evaluation")
    ) {
        self.database = database
        self.keyring = keyring
        self.node = node
        self.settings = settings
        self.calendar = calendar
        self.clock = clock
        self.peers = peers
        self.logger = logger
    }

    var today: CivilDate { CivilDate.today(now: clock()) }

    /// The parent node's evaluation service, when this node forwards to it.
    var parentDestination: String? {
        guard let parent = DivisionCode.parent(of: node) else { return nil }
        let name = "evaluation@\(parent)"
        return peers.contains(name) ? name : nil
    }

    /// The applicant's identity as evaluation keeps it: a keyed blind index, hex (E1).
    func applicantIndex(_ idNumber: String) -> String {
        if idNumber.hasPrefix(EventFiling.indexMarker) { return String(idNumber.dropFirst(EventFiling.indexMarker.count)) }
        guard !idNumber.isEmpty else { return "" }
        return Hex.lowercase(keyring.blindIndex(idNumber, purpose: "id_number"))
    }

    // MARK: Errors

    static func notFound(_ what: String) -> RPCError { RPCError(code: .notFound, message: what) }
    static func denied(_ what: String) -> RPCError { RPCError(code: .permissionDenied, message: what) }

    static func parseID(_ text: String, field: String) throws -> UUID {
        guard !text.isEmpty else { throw RPCError.invalidArgument(field: field, "required", reason: "required") }
        guard let id = UUID(uuidString: text) else {
            throw RPCError.invalidArgument(field: field, "'\(text)' is not an id (UUID)", reason: "format")
        }
        return id
    }

    func event(_ message: some SwiftProtobuf.Message, aggregate: UUID) throws -> [OutboxEvent] {
        guard let destination = parentDestination else { return [] }
        return [try .make(message, to: destination, aggregate: aggregate.uuidString.lowercased(), sealedWith: keyring)]
    }

    // MARK: Node scope

    /// The nodes a query covers (E13): this node by default; named nodes must be this node or
    /// below it (a city names its counties, a county cannot name the city); with
    /// `includeSubordinates`, every node below this one that evaluation has facts of.
    func scope(_ named: [String], includeSubordinates: Bool, field: String = "nodes", on connection: PostgresConnection) async throws -> Set<String> {
        var violations: [Common_FieldViolation] = []
        for (index, code) in named.enumerated() where !DivisionCode.isValid(code) {
            violations.append(Common_FieldViolation.with { $0.field = "\(field)[\(index)]"; $0.description_p = "'\(code)' is not a 6-digit division code"; $0.reason = "format" })
        }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        for code in named where !DivisionCode.isSameOrAncestor(node, of: code) {
            throw Self.denied("node \(node) may read its own figures and those of the nodes below it, not \(code)")
        }
        var nodes = Set(named.isEmpty ? [node] : named)
        if includeSubordinates {
            // The nodes that have facts, by a skip scan of each table's node index (one index probe
            // per distinct node; a node holds a handful): `SELECT DISTINCT node` read all three
            // tables whole, 2.5 s at 1,000,000 facts and ratings, on every board of a city.
            for row in try await connection.query("""
                WITH RECURSIVE
                    a(node) AS (SELECT min(node) FROM application_facts
                        UNION ALL SELECT (SELECT min(node) FROM application_facts WHERE node > a.node) FROM a WHERE a.node IS NOT NULL),
                    c(node) AS (SELECT min(node) FROM case_facts
                        UNION ALL SELECT (SELECT min(node) FROM case_facts WHERE node > c.node) FROM c WHERE c.node IS NOT NULL),
                    r(node) AS (SELECT min(node) FROM ratings
                        UNION ALL SELECT (SELECT min(node) FROM ratings WHERE node > r.node) FROM r WHERE r.node IS NOT NULL)
                SELECT node FROM a WHERE node IS NOT NULL UNION SELECT node FROM c WHERE node IS NOT NULL
                UNION SELECT node FROM r WHERE node IS NOT NULL
                """) {
                let code = try row.decode("node", as: String.self)
                if DivisionCode.isSameOrAncestor(node, of: code) { nodes.insert(code) }
            }
        }
        return nodes
    }
}

extension CivilDate {
    init(_ timestamp: Google_Protobuf_Timestamp) { self.init(timestamp.date) }
}

/// Postgres text-array literal of division codes (validated digits only, bound as one parameter).
func textArray(_ values: some Sequence<String>) -> String {
    "{" + values.map { "\"\($0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\""))\"" }.joined(separator: ",") + "}"
}

/// What each rule error answers over the wire (PROTOCOL.md §12).
extension EvaluationRuleError: ContractStatus {
    public var rpcError: RPCError {
        switch self {
        case .invalidArgument(let violations): RPCError.invalidArgument(violations.map(\.proto))
        case .failedPrecondition(let message): RPCError(code: .failedPrecondition, message: message)
        case .alreadyExists(let message): RPCError(code: .alreadyExists, message: message)
        case .calendar(let error): error.rpcError
        }
    }
}
