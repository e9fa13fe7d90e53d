import ApprovalContracts
import ApprovalRules
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

/// Values a node may configure for approval (node_settings `approval.*`), with their defaults.
public struct ApprovalSettings: Sendable, Hashable {
    /// The agency printed on decision documents.
    public var agencyName: String
    /// Yellow warning when this many working days or fewer are left (黄牌预警).
    public var yellowDaysBefore: Int
    /// Remedies text for denials; "{agency}" and "{court}" are filled from the request or defaults.
    public var appealRightsTemplate: String
    /// Declared instant-approval rule sets: the built-in ones plus `approval.instant_rule_set.<name>` JSON.
    public var instantRuleSets: [String: InstantRuleSet]

    public init(agencyName: String, yellowDaysBefore: Int = WarningPolicy.default.yellowWhenDaysLeftAtMost,
                appealRightsTemplate: String = AppealRights.defaultTemplate, instantRuleSets: [String: InstantRuleSet] = InstantRuleSet.builtIn) {
        self.agencyName = agencyName
        self.yellowDaysBefore = yellowDaysBefore
        self.appealRightsTemplate = appealRightsTemplate
        self.instantRuleSets = instantRuleSets
    }

    public var warning: WarningPolicy { WarningPolicy(yellowWhenDaysLeftAtMost: yellowDaysBefore) }

    /// Reads node_settings; unknown keys are ignored, bad values stop the service with the key named.
    static func load(node: String, name: String? = nil, from database: PostgresClient) async throws -> ApprovalSettings {
        var settings = ApprovalSettings(agencyName: name ?? "行政审批服务局（\(node)）")
        for row in try await database.query("SELECT key, value FROM node_settings WHERE key LIKE 'approval.%'") {
            let key = try row.decode("key", as: String.self)
            let value = try row.decode("value", as: String.self)
            switch key {
            case "approval.agency_name": settings.agencyName = value
            case "approval.yellow_days_before":
                guard let days = Int(value), (0...30).contains(days) else {
                    throw NodeConfiguration.Invalid(variable: "node_settings.\(key)", reason: "'\(value)' is not a number of working days in 0...30")
                }
                settings.yellowDaysBefore = days
            case "approval.appeal_rights_template":
                guard AppealRights.problem(AppealRights.text(value, reconsiderationAgency: "", court: "")) == nil else {
                    throw NodeConfiguration.Invalid(variable: "node_settings.\(key)", reason: "must name 行政复议 within 六十日 and 行政诉讼 within 六个月")
                }
                settings.appealRightsTemplate = value
            case let name where name.hasPrefix("approval.instant_rule_set."):
                do {
                    var set = try JSONDecoder().decode(InstantRuleSet.self, from: Data(value.utf8))
                    set.name = String(name.dropFirst("approval.instant_rule_set.".count))
                    settings.instantRuleSets[set.name] = set
                } catch {
                    throw NodeConfiguration.Invalid(variable: "node_settings.\(key)", reason: "not an instant rule set (JSON of ApprovalRules.InstantRuleSet): \(error)")
                }
            default: break
            }
        }
        return settings
    }
}

/// A case as stored: the rules' state plus the sealed applicant and the row's bookkeeping.
struct StoredCase: Sendable {
    let id: UUID
    var state: CaseState
    var applicantSealed: [UInt8]
    var revision: Int64
    var createdAt: Date
    var updatedAt: Date
    /// Set when this is the copy this process holds (`CaseStore.findForChange`), not a row read
    /// and locked: the `xmin` of the row version it is, which the write checks.
    var heldWriter: String? = nil
}

extension StoredCase: HeldAggregate {
    var asStored: StoredCase {
        var stored = self
        stored.createdAt = PostgresTimestamp.asStored(createdAt)
        stored.updatedAt = PostgresTimestamp.asStored(updatedAt)
        return stored
    }
}

/// `oneseal.approval.v1.ApprovalService`: each handler validates, applies `ApprovalRules`, and
/// writes the new state, one audit entry and its events in one transaction.
public struct ApprovalAPI: Approval_ApprovalService.SimpleServiceProtocol {
    let database: PostgresClient
    let keyring: DataKeyring
    let node: String
    let settings: ApprovalSettings
    let calendar: WorkingDayCalendar
    let clock: @Sendable () -> Date
    /// Signs exported case files (the node's service key); nil = export unavailable.
    let signer: TokenSigningKey?
    let logger: Logger

    public init(
        database: PostgresClient, keyring: DataKeyring, node: String, settings: ApprovalSettings, calendar: WorkingDayCalendar = .china,
        clock: @escaping @Sendable () -> Date = { Date() }, signer: TokenSigningKey? = nil, logger: Logger = Logger(label: "oneseal.approval")
    ) {
        self.database = database
        self.keyring = keyring
        self.node = node
        self.settings = settings
        self.calendar = calendar
        self.clock = clock
        self.signer = signer
        self.logger = logger
    }

    var today: CivilDate { CivilDate.today(now: clock()) }

    // MARK: Errors

    static func parseCaseID(_ text: String, field: String = "case_id") throws -> UUID {
        guard !text.isEmpty else { throw RPCError.invalidArgument(field: field, "required", reason: "required") }
        guard let id = UUID(uuidString: text) else {
            throw RPCError.invalidArgument(field: field, "'\(text)' is not a case id (UUID)", reason: "format")
        }
        return id
    }

    static func actorOf(_ caller: Caller) -> CaseActor {
        CaseActor(subject: caller.subject, role: caller.role.rawValue, department: caller.department ?? "", node: caller.node)
    }

    // MARK: Events

    func event(_ message: some SwiftProtobuf.Message, to destination: String, aggregate: UUID) throws -> OutboxEvent {
        try .make(message, to: destination, aggregate: aggregate.uuidString.lowercased(), sealedWith: keyring)
    }

    /// `message` to each destination (duplicates removed, order kept).
    func events(_ message: some SwiftProtobuf.Message, to destinations: [String], aggregate: UUID) throws -> [OutboxEvent] {
        var seen = Set<String>()
        return try destinations.filter { seen.insert($0).inserted }.map { try event(message, to: $0, aggregate: aggregate) }
    }

    /// Where progress goes: the window that accepted the application (for forwarded cases, the county).
    func intake(of state: CaseState) -> String { "intake@\(state.acceptingNode.code)" }
    var evaluation: String { "evaluation@\(node)" }
    var certificate: String { "certificate@\(node)" }
    var supervision: String { "supervision@\(node)" }

    // MARK: Reading and changing cases

    func find(_ id: UUID, on connection: PostgresConnection, forUpdate: Bool = false) async throws -> StoredCase {
        guard let found = try await CaseStore.find(id: id, forUpdate: forUpdate, on: connection) else { throw caseNotFound(id) }
        return found
    }

    func caseNotFound(_ id: UUID) -> RPCError {
        RPCError(code: .notFound, message: "no case \(id.uuidString.lowercased()) at node \(node)")
    }

    /// What a change produced: the audit action and details, and the events to send.
    struct Change {
        var action: String
        var details: [String: String]
        var events: [OutboxEvent]
        /// Acts taken before this one in the same transaction (独任审批's review, decided with it):
        /// each its own audit entry, written first, its events sent first.
        var earlier: [Change] = []
        init(_ action: String, _ details: [String: String] = [:], events: [OutboxEvent] = []) {
            self.action = action
            self.details = details
            self.events = events
        }
    }

    /// Loads (locked), changes and stores one case in a transaction with its audit entry and events.
    /// `expectedRevision` (0 = don't check) refuses acting on a stale view; a caller from another
    /// node is refused (a county token cannot act on a city case).
    func changing(
        _ id: UUID, expectedRevision: Int64 = 0, by actor: CaseActor,
        _ change: (inout CaseState, PostgresConnection) async throws -> Change
    ) async throws -> StoredCase {
        try await database.withTransaction { transaction in
            try await changingHeld(id, in: transaction) { stored in
                guard let stored else { throw caseNotFound(id) }
                return try await changingLocked(stored, expectedRevision: expectedRevision, by: actor, in: transaction, change)
            }
        }
    }

    /// `changing`, answering the changed case as `caller` may see it, shown (and its personal-data
    /// read logged) in the change's transaction: one commit, not two (#21).
    func changing(
        _ id: UUID, expectedRevision: Int64 = 0, by actor: CaseActor, shownTo caller: Caller, purpose: String,
        _ change: (inout CaseState, PostgresConnection) async throws -> Change
    ) async throws -> Approval_Case {
        try await database.withTransaction { transaction in
            try await changingHeld(id, in: transaction) { stored in
                guard let stored else { throw caseNotFound(id) }
                // The read in full is logged by the statement that writes the change (`store`).
                let read = fullRead(by: caller, purpose: purpose)
                let changed = try await changingLocked(stored, expectedRevision: expectedRevision, by: actor, in: transaction, logging: read, change)
                return try viewLoggedByWrite(changed, for: caller)
            }
        }
    }

    /// Runs `body` in `transaction` on the case to change: the copy this process holds, unread,
    /// else the row read and locked (`CaseStore.findForChange`), nil when there is none. A held
    /// copy may be a state another process has moved on from: its write checks that
    /// (`CaseStore.update`), and a refusal made on it is never answered from it — the transaction
    /// runs again on the stored row, which answers it (`HeldStates.confirmingRefusals`).
    func changingHeld<T>(_ id: UUID, in transaction: PostgresConnection, _ body: (StoredCase?) async throws -> T) async throws -> T {
        let stored = try await CaseStore.findForChange(id: id, on: transaction)
        return try await CaseStore.heldStates.confirmingRefusals(
            of: id, fromCopy: stored?.heldWriter != nil, "case \(stored?.state.caseNumber ?? "")"
        ) { try await body(stored) }
    }

    /// `changing` for a case already read FOR UPDATE in `transaction`: the node and revision
    /// checks, then `store`.
    func changingLocked(
        _ stored: StoredCase, expectedRevision: Int64 = 0, by actor: CaseActor, in transaction: PostgresConnection,
        logging read: CaseStore.ReadLogEntry? = nil, _ change: (inout CaseState, PostgresConnection) async throws -> Change
    ) async throws -> StoredCase {
        if actor.role != "system", actor.role != "node", actor.node != stored.state.decidingNode.code {
            throw RPCError(code: .permissionDenied, message: "case \(stored.state.caseNumber) is decided by node \(stored.state.decidingNode.code); a token of node \(actor.node) cannot act on it")
        }
        if expectedRevision != 0, expectedRevision != stored.revision {
            throw RPCError(code: .failedPrecondition, message: "case \(stored.state.caseNumber) changed since you read it (revision \(stored.revision), you had \(expectedRevision)); read it again")
        }
        return try await store(stored, by: actor, logging: read, change, in: transaction)
    }

    /// Applies `change` to a case already locked in `transaction` and writes it, its audit entry
    /// and its events (plus CaseWarningChanged when the warning level moved). With `read`, the
    /// read in full of the answer is logged by the case's write. Three statements: the case (its
    /// read log and the audit head locked with it), the audit entries, the events (#21).
    func store(
        _ loaded: StoredCase, by actor: CaseActor, logging read: CaseStore.ReadLogEntry? = nil,
        _ change: (inout CaseState, PostgresConnection) async throws -> Change, in transaction: PostgresConnection
    ) async throws -> StoredCase {
        var stored = loaded
        var result = try await change(&stored.state, transaction)
        stored.revision += 1
        stored.updatedAt = clock()
        result.events = result.earlier.flatMap(\.events) + result.events + (try warningEvents(&stored))
        let head = try await CaseStore.update(stored, derived: try derived(stored.state), logging: read.map { [$0] } ?? [], in: transaction)
        var entries = result.earlier.map { earlier in
            AuditLog.Entry(caseID: stored.id, action: earlier.action, actor: actor, at: clock(), details: earlier.details.merging(["revision": String(stored.revision)]) { $1 })
        }
        var details = result.details
        details["revision"] = String(stored.revision)
        details["status"] = stored.state.status.rawValue
        entries.append(AuditLog.Entry(caseID: stored.id, action: result.action, actor: actor, at: clock(), details: details))
        try await AuditLog.append(entries, after: head, in: transaction)
        try await Outbox.enqueue(result.events, in: transaction)
        return stored
    }

    /// Column values derived from the state (work lists, warning sweeper).
    func derived(_ state: CaseState) throws -> CaseStore.Derived {
        let status = try state.deadlineStatus(asOf: today, calendar: calendar, warning: settings.warning)
        return CaseStore.Derived(
            nextRole: state.nextRole?.rawValue, nextAssignee: state.nextAssignee,
            dueOn: state.status.isOpen && !status.isSuspended ? status.deadline : nil,
            yellowOn: state.status == .inProgress ? try state.yellowOn(calendar: calendar, warning: settings.warning) : nil,
            warning: state.reportedWarning.rawValue,
            revocationReviewOpen: state.revocationReview?.state == .open,
            renewalDueOn: state.status.isOpen ? state.renewal?.window.decisionDueBy : nil)
    }

    /// Emits CaseWarningChanged once per level change of a running case (and clears the level of a
    /// closed one silently).
    func warningEvents(_ stored: inout StoredCase) throws -> [OutboxEvent] {
        guard stored.state.status.isOpen else {
            stored.state.noteReportedWarning(.normal)
            return []
        }
        let status = try stored.state.deadlineStatus(asOf: today, calendar: calendar, warning: settings.warning)
        guard status.level != stored.state.reportedWarning else { return [] }
        stored.state.noteReportedWarning(status.level)
        var message = Approval_CaseWarningChanged()
        message.header = header(stored)
        message.level = status.level.proto
        message.deadline = deadline(stored.state, status)
        message.at = Google_Protobuf_Timestamp(date: clock())
        return try events(message, to: [evaluation], aggregate: stored.id)
    }

    // MARK: Personal data

    func sealApplicant(_ applicant: Common_Applicant, caseID: UUID) throws -> [UInt8] {
        try keyring.seal(try applicant.serializedBytes(), context: "approval.case:\(caseID.uuidString.lowercased())")
    }

    func openApplicant(_ stored: StoredCase) throws -> Common_Applicant {
        try openApplicant(stored.applicantSealed, of: stored.id)
    }

    func openApplicant(_ sealed: [UInt8], of id: UUID) throws -> Common_Applicant {
        try Common_Applicant(serializedBytes: try keyring.open(sealed, context: "approval.case:\(id.uuidString.lowercased())"))
    }

    /// The case's applicant as `caller` may see it, by the one disclosure rule (`Disclosure`):
    /// in full for this node's back office, supervisory for a supervising department, masked for
    /// everyone else; and whether it is in full (a read to log).
    func disclosedApplicant(_ stored: StoredCase, for caller: Caller?) throws -> (applicant: Common_Applicant, inFull: Bool) {
        let applicant = try openApplicant(stored)
        let disclosure = Disclosure.of(.approvalCase, for: caller, atNode: node)
        guard disclosure == .full, caller != nil else { return (applicant.disclosed(disclosure), false) }
        return (applicant, true)
    }

    /// `disclosedApplicant`, a read in full logged.
    func applicant(_ stored: StoredCase, for caller: Caller?, purpose: String, on connection: PostgresConnection) async throws -> Common_Applicant {
        let (applicant, inFull) = try disclosedApplicant(stored, for: caller)
        if inFull, let caller { try await logFullReads(of: [stored.id], by: caller, purpose: purpose, on: connection) }
        return applicant
    }

    /// The read-log row `caller` seeing a case's applicant leaves, if they see it in full (the
    /// disclosure rule of `applicant`, which depends on the caller only).
    func fullRead(by caller: Caller, purpose: String) -> CaseStore.ReadLogEntry? {
        guard Disclosure.of(.approvalCase, for: caller, atNode: node) == .full else { return nil }
        return CaseStore.ReadLogEntry(subject: caller.subject, role: caller.role.rawValue, node: caller.node, purpose: purpose)
    }

    /// Logs that `caller` saw the applicant of each case in `caseIDs` in full: one row per case,
    /// one statement however many (a case, a page of the work list, a case file), sent with the
    /// transaction's next statement (at once outside a transaction), so nothing is shown unlogged.
    func logFullReads(of caseIDs: [UUID], by caller: Caller, purpose: String, on connection: PostgresConnection) async throws {
        try await connection.executeWithNext("""
            INSERT INTO personal_data_reads (subject, role, node, case_id, purpose)
            SELECT \(caller.subject), \(caller.role.rawValue), \(caller.node), id, \(purpose) FROM unnest(\(SQLArray(caseIDs))::uuid[]) AS read(id)
            """)
    }

    /// The case as `caller` may see it.
    func view(_ stored: StoredCase, for caller: Caller?, purpose: String, on connection: PostgresConnection) async throws -> Approval_Case {
        var out = try caseProto(stored)
        out.applicant = try await applicant(stored, for: caller, purpose: purpose, on: connection)
        return out
    }

    /// The case as `caller` may see it, a read in full already logged by the write that changed
    /// it (`fullRead`).
    func viewLoggedByWrite(_ stored: StoredCase, for caller: Caller) throws -> Approval_Case {
        var out = try caseProto(stored)
        out.applicant = try disclosedApplicant(stored, for: caller).applicant
        return out
    }

    /// A page of cases as `caller` may see them, the personal-data reads logged in one statement
    /// for the page (one row per case, as `view` logs one): a work list of 100 cases was 100
    /// autocommitted inserts — 100 commits — per page.
    func views(_ page: [StoredCase], for caller: Caller?, purpose: String, on connection: PostgresConnection) async throws -> [Approval_Case] {
        let disclosure = Disclosure.of(.approvalCase, for: caller, atNode: node)
        let cases = try page.map { stored in
            var out = try caseProto(stored)
            let applicant = try openApplicant(stored)
            out.applicant = disclosure == .full && caller != nil ? applicant : applicant.disclosed(disclosure)
            return out
        }
        if disclosure == .full, let caller, !page.isEmpty {
            try await logFullReads(of: page.map(\.id), by: caller, purpose: purpose, on: connection)
        }
        return cases
    }

    /// The case after a change made in a transaction of its own (the read log commits apart);
    /// most handlers show the case inside the change instead (`changing(…, shownTo:purpose:)`).
    func viewing(_ stored: StoredCase, for caller: Caller, purpose: String) async throws -> Approval_Case {
        try await database.withConnection { try await view(stored, for: caller, purpose: purpose, on: $0) }
    }
}

/// What each rule error answers over the wire (PROTOCOL.md §12).
extension ApprovalRuleError: ContractStatus {
    public var rpcError: RPCError {
        switch self {
        case .invalidArgument(let violations):
            RPCError.invalidArgument(violations.map(\.proto))
        case .failedPrecondition(let message): RPCError(code: .failedPrecondition, message: message)
        case .permissionDenied(let message): RPCError(code: .permissionDenied, message: message)
        case .calendar(let message): RPCError(code: .failedPrecondition, message: "working-day calendar: \(message)")
        }
    }
}
