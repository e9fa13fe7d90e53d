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
import SupervisionContracts
import SupervisionRules
import SwiftProtobuf

/// `oneseal.supervision.v1.SupervisionService` (审管联动): the boundary list, pushes to the responsible
/// departments, claims, rejections and re-routing, findings, quarterly figures. Each handler
/// validates, applies `SupervisionRules` and writes the change with its events in one transaction.
public struct SupervisionAPI: Supervision_SupervisionService.SimpleServiceProtocol {
    let database: PostgresClient
    let node: String
    let calendar: WorkingDayCalendar
    let clock: @Sendable () -> Date
    let logger: Logger
    /// The node's data keys (ONESEAL_DATA_KEY_FILE): pushes and push events name the holder, so
    /// they rest sealed. Without a key they rest in the clear (a warning at start says so).
    let keyring: DataKeyring?
    /// The policy, departments and boundary entries read lately (`SupervisionSettings`).
    let settings: SupervisionSettings

    public init(
        database: PostgresClient, node: String, calendar: WorkingDayCalendar = .china,
        clock: @escaping @Sendable () -> Date = { Date() }, logger: Logger = Logger(label: "oneseal.supervision"),
        keyring: DataKeyring? = nil
    ) {
        self.keyring = keyring
        self.settings = SupervisionSettings(database: database, logger: logger)
        self.database = database
        self.node = node
        self.calendar = calendar
        self.clock = clock
        self.logger = logger
    }

    var today: CivilDate { CivilDate.today(now: clock()) }

    var pushStore: PushStore { PushStore(keyring: keyring) }

    // MARK: Errors

    static func parseID(_ text: String, field: String) throws -> UUID {
        guard !text.isEmpty else { throw RPCError.invalidArgument(field: field, "required", reason: "required") }
        guard let id = UUID(uuidString: text) else {
            throw RPCError.invalidArgument(field: field, "'\(text)' is not an id (UUID)", reason: "format")
        }
        return id
    }

    // MARK: Who may act

    /// The department a `department` token acts for: registered here, active, and sitting on the
    /// token's node (a county department's token cannot act for a city department).
    func callerDepartment(_ caller: Caller, on connection: PostgresConnection) async throws -> Department? {
        guard caller.role == .department else { return nil }
        guard let code = caller.department, !code.isEmpty else {
            throw RPCError(code: .permissionDenied, message: "a department token must name its department")
        }
        guard let department = try await department(code, on: connection), department.department.active else {
            throw RPCError(code: .permissionDenied, message: "department '\(code)' is not registered (or no longer active) at node \(node)")
        }
        guard department.department.node == caller.node else {
            throw RPCError(code: .permissionDenied, message: "department '\(code)' belongs to node \(department.department.node); a token of node \(caller.node) may not act for it")
        }
        return department.department
    }

    /// Bureau staff (anything but a department) act on this node only; readers may be the node's
    /// ancestors (the city reads its counties).
    func requireLocal(_ caller: Caller, reading: Bool) throws {
        let allowed = reading ? DivisionCode.isSameOrAncestor(caller.node, of: node) : caller.node == node
        guard allowed else {
            throw RPCError(code: .permissionDenied, message: "token of node \(caller.node) may not \(reading ? "read" : "act on") node \(node)")
        }
    }

    // MARK: Events

    var evaluation: String { "evaluation@\(node)" }
    static func approval(at node: String) -> String { "approval@\(node)" }

    func event(_ message: some SwiftProtobuf.Message, to destination: String, aggregate: String) throws -> OutboxEvent {
        try .make(message, to: destination, aggregate: aggregate, sealedWith: keyring)
    }

    /// The push event for evaluation (PushCreated, PushClaimed, PushRejected, PushClaimOverdue).
    func pushEvent(_ push: Supervision_Push, _ kind: PushEventKind) throws -> OutboxEvent {
        switch kind {
        case .created: try event(Supervision_PushCreated.with { $0.push = push }, to: evaluation, aggregate: push.pushID)
        case .claimed: try event(Supervision_PushClaimed.with { $0.push = push }, to: evaluation, aggregate: push.pushID)
        case .rejected: try event(Supervision_PushRejected.with { $0.push = push }, to: evaluation, aggregate: push.pushID)
        case .claimOverdue: try event(Supervision_PushClaimOverdue.with { $0.push = push }, to: evaluation, aggregate: push.pushID)
        }
    }

    enum PushEventKind { case created, claimed, rejected, claimOverdue }

    // MARK: Changing pushes

    /// Loads one push for update, lets `change` edit it (returning events), refreshes the record from
    /// the rules' state and writes both with the events, in the caller's transaction.
    func changing(
        _ id: UUID, in transaction: PostgresConnection,
        _ change: (inout StoredPush) async throws -> [OutboxEvent]
    ) async throws -> StoredPush {
        guard var push = try await pushStore.find(id: id, forUpdate: true, on: transaction) else {
            throw RPCError(code: .notFound, message: "no push \(id.uuidString.lowercased())")
        }
        let events = try await change(&push)
        push.refreshRecord(today: today, calendar: calendar)
        try await pushStore.update(push, in: transaction)
        try await Outbox.enqueue(events, in: transaction)
        return push
    }
}

/// What each rule error answers over the wire (PROTOCOL.md §12).
extension SupervisionRuleError: ContractStatus {
    public var rpcError: RPCError {
        switch self {
        case .invalidArgument(let violations): RPCError.invalidArgument(violations.map(\.proto))
        case .failedPrecondition(let message): RPCError(code: .failedPrecondition, message: message)
        case .permissionDenied(let message): RPCError(code: .permissionDenied, message: message)
        case .notFound(let message): RPCError(code: .notFound, message: message)
        case .calendar(let error): error.rpcError
        }
    }
}
