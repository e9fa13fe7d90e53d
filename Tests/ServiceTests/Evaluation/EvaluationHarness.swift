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
import OneSealTestSupport
import OneSealWire
import SwiftProtobuf
import Testing
@testable import EvaluationService

/// A real evaluation service (ServiceRunner, migrations, auth, OneSeal TCP on a free port) over a
/// fresh PostgreSQL database, with tokens for each role. Events arrive through the real
/// EventSink/Deliver RPC, as the other services' relays send them.
struct EvaluationNode: Sendable {
    let node: String
    let key: TokenSigningKey
    let grpc: GRPCClient<OneSealClientTransport>
    let database: PostgresClient
    let clock: TestClock

    var evaluation: Evaluation_EvaluationService.Client<OneSealClientTransport> { Evaluation_EvaluationService.Client(wrapping: grpc) }
    var sink: Events_EventSink.Client<OneSealClientTransport> { Events_EventSink.Client(wrapping: grpc) }

    func token(_ role: Role, subject: String = "eval-1", node: String? = nil) throws -> Metadata {
        var metadata = Metadata()
        metadata.addString("Bearer \(try key.mint(subject: subject, role: role, node: node ?? self.node))", forKey: "authorization")
        return metadata
    }

    var evaluator: Metadata { get throws { try token(.evaluator) } }

    /// Delivers events as a relay would (a `node` token); returns the ids the sink accepted.
    @discardableResult
    func deliver(_ events: [Events_EventEnvelope]) async throws -> [String] {
        var request = Events_DeliverRequest()
        request.events = events
        return try await sink.deliver(request, metadata: try token(.peerNode, subject: "intake@\(node)")).acceptedEventIds
    }

    func count(_ sql: StaticString) async throws -> Int {
        try await database.query("\(unescaped: sql)").one().decode(at: 0, as: Int.self)
    }
}

/// Runs `body` against a running evaluation node, today = `today`.
func withEvaluationNode(node: String = "371302", today: CivilDate, settings: [String: String] = [:], environment extra: [String: String] = [:], _ body: @Sendable (EvaluationNode) async throws -> Void) async throws {
    let key = TokenSigningKey.generate(issuer: node)
    let keyFile = FileManager.default.temporaryDirectory.appendingPathComponent("oneseal-test-eval-\(UUID().uuidString).key").path
    _ = FileManager.default.createFile(atPath: keyFile, contents: Data(DataKeyring.generateKeyText().utf8), attributes: [.posixPermissions: 0o600])
    defer { try? FileManager.default.removeItem(atPath: keyFile) }
    let clock = TestClock(today)
    try await withTestDatabase(prefix: "evaluation") { database, testDatabase in
        let configuration = try NodeConfiguration.fromEnvironment(service: "evaluation", environment: ["ONESEAL_INSECURE_LOOPBACK": "1",
            "ONESEAL_NODE": node, "ONESEAL_PORT": "0", "ONESEAL_METRICS_PORT": "off",
            "ONESEAL_DATABASE_URL": testDatabase.conninfo, "ONESEAL_DB_POOL_SIZE": "4",
            "ONESEAL_TOKEN_PUBLIC_KEYS": key.testTrustEntries,
            "ONESEAL_DATA_KEY_FILE": keyFile,
        ].merging(extra) { _, new in new })
        if !settings.isEmpty {
            // node_settings must exist before the service reads them: apply the migrations first.
            _ = try await Migrator.apply(OutboxMigrations.all + (try EvaluationServiceDefinition.make().migrations), on: database)
            for (key, value) in settings {
                try await database.execute("INSERT INTO node_settings (key, value) VALUES (\(key), \(value))")
            }
        }
        let logger = {
            var logger = Logger(label: "oneseal.test.evaluation")
            logger.logLevel = .warning
            return logger
        }()
        let definition = try EvaluationServiceDefinition.make(clock: { clock.date })
        try await withRunningService(definition, configuration: configuration, logger: logger) { service, grpc in
            try await body(EvaluationNode(node: node, key: key, grpc: grpc, database: database, clock: clock))
        }
    }
}

/// The events of the service tests: three applications at county 371302 in October 2026.
///
/// | app | window | item  | submitted | outcome                              | case | approval                                   |
/// |-----|--------|-------|-----------|--------------------------------------|------|--------------------------------------------|
/// | a1  | W1     | F001  | 10-09     | accepted 10-09, delivered 10-16 (1 visit) | c1 | opened, returned once, granted 10-14 on time in 3 wd |
/// | a2  | W2     | D002  | 10-12     | correction 10-12, accepted 10-13     | c2   | opened 10-13, due 10-20, still running → overdue |
/// | a3  | W2     | D002  | 10-15     | not accepted 10-15                   |      |                                            |
/// One consultation (W1) on 10-22. a1's applicant is a person (resident ID below), a2's a company.
enum EvaluationEvents {
    static let county = "371302"
    static let residentID = "371302199001011233"
    static let otherResidentID = "11010519491231002X"
    static let uscc = "91371302MA3C1234X7"
    static let a1 = "0b1c7a52-0000-4000-8000-0000000000a1"
    static let a2 = "0b1c7a52-0000-4000-8000-0000000000a2"
    static let a3 = "0b1c7a52-0000-4000-8000-0000000000a3"
    static let c1 = "c0000000-0000-4000-8000-0000000000c1"
    static let c2 = "c0000000-0000-4000-8000-0000000000c2"

    static func envelope(_ message: some SwiftProtobuf.Message, source: String, aggregate: String, id: UUID = UUID()) throws -> Events_EventEnvelope {
        var envelope = Events_EventEnvelope()
        envelope.eventID = id.uuidString
        envelope.type = type(of: message).protoMessageName
        envelope.sourceService = source
        envelope.sourceNode = county
        envelope.aggregateID = aggregate
        envelope.payload = try message.serializedData()
        return envelope
    }

    static func date(_ text: String) -> Common_CivilDate { Common_CivilDate(try! CivilDate(parsing: text)) }
    static func at(_ text: String) -> Google_Protobuf_Timestamp { Google_Protobuf_Timestamp(date: (try! CivilDate(parsing: text)).startOfDayInstant().addingTimeInterval(10 * 3600)) }

    static func person(_ id: String) -> Common_Applicant {
        Common_Applicant.with { $0.kind = .naturalPerson; $0.name = "张三"; $0.idType = .residentID; $0.idNumber = id; $0.phone = "13812345678" }
    }

    static func item(_ code: String) -> Intake_AcceptedItem {
        Intake_AcceptedItem.with {
            $0.implementationCode = code
            $0.itemName = code == "F001" ? "食品经营许可" : "药品零售许可"
            $0.competentDepartment = Common_DepartmentRef.with { $0.code = code == "F001" ? "SCJG" : "YPJG"; $0.name = code == "F001" ? "市场准入科" : "药品科"; $0.node = county }
            $0.statutoryDays = 20
            $0.promisedDays = 5
        }
    }

    static func submitted(_ app: String, _ number: String, _ code: String, window: String, on: String) throws -> Events_EventEnvelope {
        try envelope(Intake_ApplicationSubmitted.with {
            $0.applicationID = app; $0.applicationNumber = number; $0.acceptingNode = county; $0.implementationCodes = [code]
            $0.channel = .window; $0.windowID = window; $0.submittedAt = at(on)
        }, source: "intake", aggregate: app)
    }

    static func accepted(_ app: String, _ number: String, _ code: String, window: String, on: String, applicant: Common_Applicant) throws -> Events_EventEnvelope {
        try envelope(Intake_ApplicationAccepted.with {
            $0.applicationID = app; $0.applicationNumber = number; $0.receiptNumber = "R-\(number)"
            $0.acceptingNode = Common_NodeRef.with { $0.divisionCode = county; $0.name = "兰山区行政审批服务局" }
            $0.acceptanceKind = .complete; $0.acceptedOn = date(on); $0.applicant = applicant; $0.items = [item(code)]; $0.windowID = window
            $0.acceptedBy = Common_ActorRef.with { $0.subject = "clerk-\(window)"; $0.role = "window_clerk" }
        }, source: "intake", aggregate: app)
    }

    static func header(_ caseID: String, app: String, number: String, code: String) -> Approval_CaseHeader {
        Approval_CaseHeader.with {
            $0.caseID = caseID; $0.caseNumber = "兰审\(number)"; $0.applicationID = app; $0.applicationNumber = number
            $0.implementationCode = code; $0.itemName = item(code).itemName
            $0.acceptingNode = Common_NodeRef.with { $0.divisionCode = county }
            $0.decidingNode = Common_NodeRef.with { $0.divisionCode = county; $0.name = "兰山区行政审批服务局" }
            $0.department = item(code).competentDepartment
            $0.officer = Common_ActorRef.with { $0.subject = "officer-1"; $0.name = "王芳" }
        }
    }

    static func deadline(started: String, due: String) -> Common_Deadline {
        Common_Deadline.with { $0.startedOn = date(started); $0.dueOn = date(due); $0.workingDaysTotal = 5 }
    }

    /// The whole stream, in the order the relays might deliver it.
    static func stream() throws -> [Events_EventEnvelope] {
        let h1 = header(c1, app: a1, number: "N1", code: "F001")
        let h2 = header(c2, app: a2, number: "N2", code: "D002")
        return [
            try submitted(a1, "N1", "F001", window: "W1", on: "2026-10-09"),
            try accepted(a1, "N1", "F001", window: "W1", on: "2026-10-09", applicant: person(residentID)),
            try envelope(Approval_CaseOpened.with { $0.header = h1; $0.acceptanceKind = .complete; $0.acceptedOn = date("2026-10-09"); $0.deadline = deadline(started: "2026-10-09", due: "2026-10-16") }, source: "approval", aggregate: c1),
            try envelope(Approval_CaseReturned.with { $0.header = h1; $0.targetStepIndex = 0; $0.reason = "材料需核实" }, source: "approval", aggregate: c1),
            try envelope(Approval_CaseDecided.with {
                $0.header = h1; $0.applicant = person(residentID); $0.returns = 1; $0.acceptedOn = date("2026-10-09")
                $0.decision = Approval_Decision.with { $0.grant = Approval_Grant.with { $0.scope = "热食类食品制售" }; $0.decidedOn = date("2026-10-14"); $0.onTime = true; $0.workingDaysTaken = 3 }
            }, source: "approval", aggregate: c1),
            try submitted(a2, "N2", "D002", window: "W2", on: "2026-10-12"),
            try envelope(Intake_CorrectionNoticeIssued.with { $0.applicationID = a2; $0.applicationNumber = "N2"; $0.notice.issuedOn = date("2026-10-12"); $0.windowID = "W2" }, source: "intake", aggregate: a2),
            try accepted(a2, "N2", "D002", window: "W2", on: "2026-10-13", applicant: Common_Applicant.with { $0.kind = .legalPerson; $0.idType = .uscc; $0.idNumber = uscc; $0.name = "好味道餐饮有限公司" }),
            try envelope(Approval_CaseOpened.with { $0.header = h2; $0.acceptanceKind = .complete; $0.acceptedOn = date("2026-10-13"); $0.deadline = deadline(started: "2026-10-13", due: "2026-10-20") }, source: "approval", aggregate: c2),
            try submitted(a3, "N3", "D002", window: "W2", on: "2026-10-15"),
            try envelope(Intake_ApplicationNotAccepted.with { $0.applicationID = a3; $0.applicationNumber = "N3"; $0.notice.issuedOn = date("2026-10-15"); $0.windowID = "W2" }, source: "intake", aggregate: a3),
            try envelope(Intake_ResultDelivered.with { $0.applicationID = a1; $0.applicationNumber = "N1"; $0.visits = 1; $0.windowID = "W1"; $0.caseIds = [c1]; $0.delivery.deliveredAt = at("2026-10-16"); $0.delivery.method = .window }, source: "intake", aggregate: a1),
            try envelope(Intake_ConsultationRecorded.with { $0.consultationID = "q1"; $0.implementationCode = "F001"; $0.windowID = "W1"; $0.at = at("2026-10-22") }, source: "intake", aggregate: "q1"),
        ]
    }

    static var october: Common_DateRange {
        Common_DateRange.with { $0.from = date("2026-10-01"); $0.to = date("2026-10-31") }
    }
}
