import GRPCCore
import Logging
import OneSealServiceKit
import OneSealStore
import SupervisionRules

/// One thing supervision reads on every push, claim and endpoint delivery — the node's policy, a
/// department, an item's boundary entries — as kept in memory (`SupervisionSettings`).
enum SupervisionSetting: Sendable {
    case policy(SupervisionPolicy)
    /// nil: no such department (kept too: a NOTIFY names the code when it is registered).
    case department(StoredDepartment?)
    case boundary([BoundaryStore.Stored])

    static let policyKey = "policy"
    static func departmentKey(_ code: String) -> String { "department:" + code }
    static func boundaryKey(_ implementationCode: String) -> String { "boundary:" + implementationCode }
}

/// The policy, departments and boundary entries a supervision process read, kept while a LISTEN
/// hears every change to them (`NotifiedCache`; migration 0005's triggers NOTIFY
/// `supervision_settings_changed` with `policy`, `department:<code>`, or "" for any boundary
/// change). They were read on every source event, claim and delivery: ≈ 8 statements per case
/// at a county and its city (#21, decision 74). Rows locked for a change (`FOR UPDATE`) and the
/// lists are still read from the database.
typealias SupervisionSettings = NotifiedCache<SupervisionSetting>

extension NotifiedCache where Value == SupervisionSetting {
    convenience init(database: PostgresClient, logger: Logger) {
        self.init(database: database, channel: "supervision_settings_changed", name: "supervision's settings cache", capacity: 4096, logger: logger)
    }
}

extension SupervisionAPI {
    /// The node's settings (node_settings, keys `supervision.*`): an operator's update applies
    /// without a restart (the trigger's NOTIFY drops the kept policy). A bad stored value stops the
    /// change with its name.
    func policy(on connection: PostgresConnection) async throws -> SupervisionPolicy {
        if case .policy(let kept)? = settings.value(SupervisionSetting.policyKey) { return kept }
        let token = settings.fillToken()
        var values: [String: String] = [:]
        for row in try await connection.query("SELECT key, value FROM node_settings WHERE key LIKE 'supervision.%'") {
            values[try row.decode("key", as: String.self)] = try row.decode("value", as: String.self)
        }
        let policy: SupervisionPolicy
        do { policy = try SupervisionPolicy.from(settings: values) } catch {
            throw RPCError(code: .failedPrecondition, message: "node_settings: \(error)")
        }
        if let token { settings.keep(.policy(policy), for: SupervisionSetting.policyKey, token: token) }
        return policy
    }

    /// The department of `code`, if registered (active or not).
    func department(_ code: String, on connection: PostgresConnection) async throws -> StoredDepartment? {
        try await departments([code], on: connection)[code]
    }

    /// The registered departments among `codes`, by code: those not kept in one statement.
    func departments(_ codes: [String], on connection: PostgresConnection) async throws -> [String: StoredDepartment] {
        var found: [String: StoredDepartment] = [:]
        var unknown: [String] = []
        for code in codes {
            switch settings.value(SupervisionSetting.departmentKey(code)) {
            case .department(let kept)?: if let kept { found[code] = kept }
            default: unknown.append(code)
            }
        }
        guard !unknown.isEmpty else { return found }
        let token = settings.fillToken()
        let read = try await DepartmentStore.find(unknown, on: connection)
        for code in unknown {
            if let department = read[code] { found[code] = department }
            if let token { settings.keep(.department(read[code]), for: SupervisionSetting.departmentKey(code), token: token) }
        }
        return found
    }

    /// The boundary entries that may govern `implementationCode` (its own, its basic code's).
    func boundaryEntries(implementationCode: String, on connection: PostgresConnection) async throws -> [BoundaryStore.Stored] {
        let key = SupervisionSetting.boundaryKey(implementationCode)
        if case .boundary(let kept)? = settings.value(key) { return kept }
        let token = settings.fillToken()
        let entries = try await BoundaryStore.entries(implementationCode: implementationCode, on: connection)
        if let token { settings.keep(.boundary(entries), for: key, token: token) }
        return entries
    }
}
