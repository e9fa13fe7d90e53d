import Foundation
import GRPCCore
import IntakeContracts
import IntakeRules
import Logging
import OneSealAuth
import OneSealCore
import OneSealOutbox
import OneSealPrivacy
import OneSealProto
import OneSealServiceKit
import OneSealStore
import SwiftProtobuf

/// Values a node may configure for its window (node_settings), with the defaults used when unset.
public struct IntakeSettings: Sendable, Hashable {
    /// The agency printed on documents (受理通知书 …).
    public var agencyName: String
    /// Working days an applicant has to supply missing materials after 容缺受理, when the clerk
    /// gives none.
    public var deficiencySupplyWorkingDays: Int
    /// Working days after a 告知承诺 acceptance by which the department verifies the commitment.
    public var commitmentVerificationWorkingDays: Int
    /// Art. 43: a county's first review of a forwarded item finishes within this many working days.
    public var firstReviewWorkingDays: Int
    /// USCCs that fail the GB 32100 check but are real (early pilot codes), upper case.
    public var usccAllowList: Set<String>
    /// The node's public web front (ONESEAL_PUBLIC_URL, no trailing slash): the receipt prints
    /// the rating link under it (`/rate?n=<application number>`, W40). nil: no link printed.
    public var publicURL: String?

    public init(
        agencyName: String, deficiencySupplyWorkingDays: Int = 10, commitmentVerificationWorkingDays: Int = 20,
        firstReviewWorkingDays: Int = 20, usccAllowList: Set<String> = []
    ) {
        self.agencyName = agencyName
        self.deficiencySupplyWorkingDays = deficiencySupplyWorkingDays
        self.commitmentVerificationWorkingDays = commitmentVerificationWorkingDays
        self.firstReviewWorkingDays = firstReviewWorkingDays
        self.usccAllowList = usccAllowList
    }

    /// Reads the settings from the node_settings table; unknown keys are ignored, bad numbers refused.
    static func load(node: String, name: String? = nil, from database: PostgresClient) async throws -> IntakeSettings {
        var settings = IntakeSettings(agencyName: name ?? "行政审批服务局（\(node)）")
        for row in try await database.query("SELECT key, value FROM node_settings WHERE key LIKE 'intake.%'") {
            let key = try row.decode("key", as: String.self)
            let value = try row.decode("value", as: String.self)
            func days() throws -> Int {
                guard let number = Int(value), (1...120).contains(number) else {
                    throw NodeConfiguration.Invalid(variable: "node_settings.\(key)", reason: "'\(value)' is not a number of working days in 1...120")
                }
                return number
            }
            switch key {
            case "intake.agency_name": settings.agencyName = value
            case "intake.deficiency_supply_working_days": settings.deficiencySupplyWorkingDays = try days()
            case "intake.commitment_verification_working_days": settings.commitmentVerificationWorkingDays = try days()
            case "intake.first_review_working_days": settings.firstReviewWorkingDays = try days()
            case "intake.uscc_allow_list":
                settings.usccAllowList = Set(value.split(separator: ",").map { IdentityCode.normalized(String($0)) })
            default: break
            }
        }
        return settings
    }
}

/// `oneseal.intake.v1.IntakeService`: the single window. Each handler validates, applies the
/// rules (`IntakeRules`) and writes the new state with its events in one transaction.
public struct IntakeAPI: Intake_IntakeService.SimpleServiceProtocol {
    let database: PostgresClient
    let keyring: DataKeyring
    let node: String
    let settings: IntakeSettings
    let calendar: WorkingDayCalendar
    let clock: @Sendable () -> Date
    let licences: LicenceVerifier
    let logger: Logger
    /// Public progress look-ups per source address: 30 a minute (a family checking three
    /// applications a few times is far below; a guesser is stopped within the first second).
    let progressLookups: SharedAttemptLimiter
    /// Uploads held in memory at once (each up to 20 MiB until complete): 16, so at most 320 MiB.
    let uploadSlots: MaterialUploadSlots
    /// The WatchApplication streams open in this process and the LISTEN that wakes them.
    public let watches: ApplicationWatches
    /// The public guide of current versions, kept while its LISTEN hears every publication.
    public let guides: GuideCache

    public init(
        database: PostgresClient, keyring: DataKeyring, node: String, settings: IntakeSettings,
        calendar: WorkingDayCalendar = .china, clock: @escaping @Sendable () -> Date = { Date() },
        licences: LicenceVerifier, logger: Logger = Logger(label: "oneseal.intake"),
        progressLookups: SharedAttemptLimiter = SharedAttemptLimiter(AttemptLimiter(limit: 30, window: 60)),
        uploadSlots: MaterialUploadSlots = MaterialUploadSlots(limit: 16),
        watches: ApplicationWatches? = nil, guides: GuideCache? = nil
    ) {
        self.watches = watches ?? ApplicationWatches(database: database, logger: logger)
        self.guides = guides ?? GuideCache(database: database, logger: logger)
        self.progressLookups = progressLookups
        self.uploadSlots = uploadSlots
        self.database = database
        self.keyring = keyring
        self.node = node
        self.settings = settings
        self.calendar = calendar
        self.clock = clock
        self.licences = licences
        self.logger = logger
    }

    /// Today in Beijing: the law counts civil days.
    var today: CivilDate { CivilDate.today(now: clock()) }

    var validator: ApplicantValidator { ApplicantValidator(usccAllowList: settings.usccAllowList) }

    // MARK: Errors

    /// The most an application's wire record may take (a quarter of the default frame limit: the
    /// answer adds the parties, findings and documents).
    static let maximumRecordBytes = 1 << 20
    /// The most one page of a listing may take before it ends early (its next_page_token continues).
    static let maximumPageBytes = 2 << 20

    static func notFound(_ what: String) -> RPCError { RPCError(code: .notFound, message: what) }

    static func parseID(_ text: String, field: String = "application_id") throws -> UUID {
        guard !text.isEmpty else { throw RPCError.invalidArgument(field: field, "required", reason: "required") }
        guard let id = UUID(uuidString: text) else {
            throw RPCError.invalidArgument(field: field, "'\(text)' is not an application id (UUID)", reason: "format")
        }
        return id
    }

    // MARK: Events

    /// The destinations of an event type (ONESEAL_PEERS names): evaluation on this node counts
    /// every intake event; approval opens cases on acceptance.
    var evaluation: String { "evaluation@\(node)" }
    func approval(at node: String) -> String { "approval@\(node)" }

    func event(_ message: some SwiftProtobuf.Message, to destination: String, aggregate: UUID) throws -> OutboxEvent {
        try .make(message, to: destination, aggregate: aggregate.uuidString.lowercased(), sealedWith: keyring)
    }

    // MARK: Reading and changing applications

    /// Loads, changes and stores one application in a transaction. `expectedRevision` (0 = don't
    /// check) refuses acting on a stale view. `change` edits the application and returns the
    /// progress steps and events of the change.
    ///
    /// Answers the changed application as `caller` may see it, shown (and its read logged) in the
    /// same transaction: one commit for the change and its read log, not two (#21).
    func changing(
        _ id: UUID, expectedRevision: Int64 = 0, shownTo caller: Caller, purpose: String,
        _ change: (inout StoredApplication, PostgresConnection) async throws -> (steps: [String], events: [OutboxEvent])
    ) async throws -> Intake_Application {
        try await database.withTransaction { transaction in
            try await changingHeld(id, in: transaction) { application in
                guard let application else { throw Self.notFound("no application \(id.uuidString.lowercased())") }
                if expectedRevision != 0, expectedRevision != application.revision {
                    throw RPCError(code: .failedPrecondition, message: "the application changed since you read it (revision \(application.revision), you had \(expectedRevision)); read it again")
                }
                // Shown by the write itself: its read log is a CTE of the statement that writes it.
                let (_, shown) = try await store(application, changedBy: change, shownTo: (caller, purpose), in: transaction)
                guard let shown else { throw RPCError(code: .internalError, message: "the changed application was not rendered; nothing was changed") }
                return shown
            }
        }
    }

    /// Runs `body` in `transaction` on the application to change: the copy this process holds,
    /// unread, else the row read and locked (`ApplicationStore.findForChange`), nil when there is
    /// none. A held copy may be a state another process has moved on from: its write checks that
    /// (`ApplicationStore.update`), and a refusal made on it is never answered from it — the
    /// transaction runs again on the stored row, which answers it (`HeldStates.confirmingRefusals`).
    func changingHeld<T>(_ id: UUID, in transaction: PostgresConnection, _ body: (StoredApplication?) async throws -> T) async throws -> T {
        let application = try await ApplicationStore.findForChange(id: id, on: transaction)
        return try await ApplicationStore.heldStates.confirmingRefusals(
            of: id, fromCopy: application?.heldWriter != nil, "application \(application?.number ?? "")"
        ) { try await body(application) }
    }

    /// Applies `change` to a row already locked in `transaction` and writes the result.
    func store(
        _ loaded: StoredApplication,
        changedBy change: (inout StoredApplication, PostgresConnection) async throws -> (steps: [String], events: [OutboxEvent]),
        in transaction: PostgresConnection
    ) async throws -> StoredApplication {
        try await store(loaded, changedBy: change, shownTo: nil, in: transaction).application
    }

    /// `store`, and the changed application as `viewer` may see it (the one disclosure rule).
    /// Every read in full this write makes — the viewer's, and the watches' it hands the new state
    /// to — is logged by the statement that writes the change (#21: each was a statement of its
    /// own), and the record is rendered once for the size check and the answer.
    func store(
        _ loaded: StoredApplication,
        changedBy change: (inout StoredApplication, PostgresConnection) async throws -> (steps: [String], events: [OutboxEvent]),
        shownTo viewer: (caller: Caller, purpose: String)?,
        in transaction: PostgresConnection
    ) async throws -> (application: StoredApplication, shown: Intake_Application?) {
        var application = loaded
        let (steps, events) = try await change(&application, transaction)
        application.revision += 1
        application.updatedAt = clock()
        application.status = application.state.overallStatus
        // Checked before the commit: an application too large to send back must not be stored and
        // then answered as a failure (issue #15, finding 13). The edge limits keep real ones far below.
        let rendered = record(application)
        let size = (try rendered.serializedBytes() as [UInt8]).count
        guard size <= Self.maximumRecordBytes else {
            throw RPCError(code: .resourceExhausted, message: "application \(application.number) would be \(size) bytes, over the \(Self.maximumRecordBytes) an answer may carry; nothing was changed")
        }
        // The watches that already read this application get the new state from here, their
        // reads logged in this transaction (ApplicationWatches: a view was a commit of its own).
        let readers = watches.readers(of: application.id)
        var reads = readers.compactMap(\.entry)
        var shown: Intake_Application?
        if let viewer {
            let (out, inFull) = try disclosed(application, for: viewer.caller, rendered: rendered)
            if inFull { reads.append(readLogEntry(viewer.caller, purpose: viewer.purpose)) }
            shown = out
        }
        let writer = try await ApplicationStore.update(
            application, steps: steps.map { (application.updatedAt, $0) }, node: node, events: events, reads: reads, in: transaction)
        watches.wrote(application, transaction: writer)
        if !readers.isEmpty { watches.handOff(application, transaction: writer, to: readers.map(\.number)) }
        return (application, shown)
    }

    /// The application's wire record (without the parties), rendered from its state.
    func record(_ application: StoredApplication) -> Intake_Application {
        application.record(calendar: calendar)
    }

    /// The application as `caller` may see it, by the one disclosure rule (`Disclosure`): in full
    /// for this node's window clerks and for the applicant themself (each such read is
    /// logged), masked for everyone else; the query code only to those who see it in full.
    func view(_ application: StoredApplication, for caller: Caller?, purpose: String, on connection: PostgresConnection) async throws -> Intake_Application {
        let (out, inFull) = try disclosed(application, for: caller)
        if inFull, let caller { try await logReads(of: [application.id], by: caller, purpose: purpose, on: connection) }
        return out
    }

    /// The application as `caller` may see it, and whether that is in full (a read to log).
    func disclosed(_ application: StoredApplication, for caller: Caller?, rendered: Intake_Application? = nil) throws -> (application: Intake_Application, inFull: Bool) {
        var out = rendered ?? record(application)
        let parties = try openParties(application)
        let disclosure = disclosure(of: application, for: caller)
        let inFull = disclosure == .full && caller != nil
        if !inFull { out.queryCode = "" }
        out.applicant = parties.applicant.disclosed(disclosure)
        if parties.hasAgent { out.agent = parties.agent.disclosed(disclosure) }
        // The chosen postal address lives in the same seal; it is shown by the same rule, on the
        // choice and on a mail delivery (where it was posted).
        if parties.hasDeliveryChoice, parties.deliveryChoice.hasAddress, out.hasDeliveryChoice, out.deliveryChoice.method == .mail {
            let address = parties.deliveryChoice.address.disclosed(disclosure)
            out.deliveryChoice.address = address
            if out.hasDelivery, out.delivery.method == .mail { out.delivery.address = address }
        }
        return (out, inFull)
    }

    /// How much of `application` `caller` sees, by the one disclosure rule.
    func disclosure(of application: StoredApplication, for caller: Caller?) -> Disclosure {
        Disclosure.of(.application, for: caller, atNode: node, isDataSubject: isDataSubject(application, caller))
    }

    /// Logs `caller`'s reads in full of `applications`, one row each, in one statement.
    func logReads(of applications: [UUID], by caller: Caller, purpose: String, on connection: PostgresConnection) async throws {
        guard !applications.isEmpty else { return }
        try await ApplicationStore.logPersonalDataReads(readLogEntry(caller, purpose: purpose), applications: applications, on: connection)
    }

    /// The row a read in full by `caller` leaves in personal_data_reads. The person reading their
    /// own application is logged as "data_subject": their token's subject is their ID number,
    /// which this table (not sealed) must not hold.
    func readLogEntry(_ caller: Caller, purpose: String) -> ApplicationStore.ReadLogEntry {
        ApplicationStore.ReadLogEntry(
            subject: caller.role == .applicant ? "data_subject" : caller.subject, role: caller.role.rawValue, node: caller.node, purpose: purpose)
    }

    /// Applicant and agent, sealed together under the application id.
    func sealParties(applicant: Common_Applicant, agent: Common_Applicant?, id: UUID) throws -> [UInt8] {
        var parties = Intake_Application()
        parties.applicant = applicant
        if let agent { parties.agent = agent }
        return try keyring.seal(try parties.serializedBytes(), context: "intake.application:\(id.uuidString.lowercased())")
    }

    /// The sealed parties as a whole (applicant, agent and the chosen delivery address), resealed
    /// under the application id after one of them changed.
    func sealParties(_ parties: Intake_Application, id: UUID) throws -> [UInt8] {
        try keyring.seal(try parties.serializedBytes(), context: "intake.application:\(id.uuidString.lowercased())")
    }

    func openParties(_ application: StoredApplication) throws -> Intake_Application {
        let bytes = try keyring.open(application.applicantSealed, context: "intake.application:\(application.id.uuidString.lowercased())")
        return try Intake_Application(serializedBytes: bytes)
    }
}

/// What each rule error answers over the wire (PROTOCOL.md §12).
extension IntakeRuleError: ContractStatus {
    public var rpcError: RPCError {
        switch self {
        case .invalidArgument(let violations): RPCError.invalidArgument(violations.map(\.proto))
        case .failedPrecondition(let message): RPCError(code: .failedPrecondition, message: message)
        case .calendar(let error): error.rpcError
        }
    }
}
