import ApprovalRules
import Foundation
import GRPCCore
import Logging
import OneSealAuth
import OneSealCore
import OneSealPrivacy
import OneSealProto
import OneSealServiceKit
import OneSealStore
import OneSealTestSupport
import OneSealWire
import SwiftProtobuf
import Testing
@testable import ApprovalService

/// A real approval service (ServiceRunner, migrations, auth, OneSeal TCP on a free port) over its
/// own fresh PostgreSQL database, with tokens for each role and a way to deliver events to its
/// EventSink exactly as a peer's outbox relay does.
struct ApprovalNode: Sendable {
    let node: String
    let key: TokenSigningKey
    let grpc: GRPCClient<OneSealClientTransport>
    let database: PostgresClient
    let clock: TestClock
    /// A second API over the same database, for driving the sweeper directly.
    let api: ApprovalAPI
    let port: Int

    var approval: Approval_ApprovalService.Client<OneSealClientTransport> { Approval_ApprovalService.Client(wrapping: grpc) }

    func token(_ role: Role, _ subject: String, node: String? = nil, department: String? = nil) throws -> String {
        try key.mint(subject: subject, role: role, node: node ?? self.node, department: department)
    }

    func metadata(_ role: Role, _ subject: String, node: String? = nil, department: String? = nil) throws -> Metadata {
        var metadata = Metadata()
        metadata.addString("Bearer \(try token(role, subject, node: node, department: department))", forKey: "authorization")
        return metadata
    }

    var officer: Metadata { get throws { try metadata(.officer, "officer-li", department: "SC-01") } }
    var officer2: Metadata { get throws { try metadata(.officer, "officer-wang", department: "SC-01") } }
    var chief: Metadata { get throws { try metadata(.sectionChief, "chief-zhao", department: "SC-01") } }
    var deputy: Metadata { get throws { try metadata(.deputyDirector, "deputy-sun") } }
    var director: Metadata { get throws { try metadata(.director, "director-zhou") } }
    var operatorToken: Metadata { get throws { try metadata(.operator, "ops-1") } }

    /// Delivers events to this node's EventSink with a peer-node token, as a relay would.
    @discardableResult
    func deliver(_ message: some SwiftProtobuf.Message, id: UUID = UUID(), from source: String = "intake", sourceNode: String? = nil) async throws -> Events_DeliverResponse {
        var envelope = Events_EventEnvelope()
        envelope.eventID = id.uuidString
        envelope.type = type(of: message).protoMessageName
        envelope.sourceService = source
        envelope.sourceNode = sourceNode ?? node
        envelope.aggregateID = "test"
        envelope.payload = try message.serializedData()
        var request = Events_DeliverRequest()
        request.events = [envelope]
        var metadata = Metadata()
        metadata.addString("Bearer \(try key.mint(subject: "\(source)@\(sourceNode ?? node)", role: .peerNode, node: sourceNode ?? node))", forKey: "authorization")
        return try await Events_EventSink.Client(wrapping: grpc).deliver(request, metadata: metadata)
    }

    /// Events waiting in the outbox, in order.
    func outbox() async throws -> [(destination: String, type: String, payload: [UInt8])] {
        try await database.query("SELECT destination, type, aggregate_id, payload FROM outbox ORDER BY seq").map {
            (try $0.decode("destination", as: String.self), try $0.decode("type", as: String.self), try SealedEventPayload.open(try $0.decode("payload", as: [UInt8].self), type: try $0.decode("type", as: String.self), aggregateID: try $0.decode("aggregate_id", as: String.self), keyring: api.keyring))
        }
    }

    func destinations<Event: SwiftProtobuf.Message>(of type: Event.Type) async throws -> [String] {
        OutboxRows.of(type, in: try await outbox()).map(\.destination)
    }

    /// Opens cases the way intake does: an ApplicationAccepted for `items`; returns the cases by item code.
    func accept(_ items: [Intake_AcceptedItem], application: String = UUID().uuidString.lowercased(), acceptedOn: CivilDate? = nil,
                materials: [Intake_ProvidedMaterial] = [], kind: Common_AcceptanceKind = .complete) async throws -> [String: Approval_Case] {
        var accepted = Intake_ApplicationAccepted()
        accepted.applicationID = application
        accepted.applicationNumber = "N-\(application.prefix(8))"
        accepted.acceptingNode = Common_NodeRef.with { $0.divisionCode = node; $0.name = "测试窗口" }
        accepted.acceptanceKind = kind
        accepted.acceptedOn = Common_CivilDate(acceptedOn ?? CivilDate.today(now: clock.date))
        accepted.applicant = ApprovalFixtures.company
        accepted.items = items
        accepted.materials = materials
        try await deliver(accepted)
        return try await cases(of: application)
    }

    func cases(of application: String) async throws -> [String: Approval_Case] {
        let listed = try await approval.listCases(Approval_ListCasesRequest.with { $0.applicationID = application }, metadata: try director)
        return Dictionary(uniqueKeysWithValues: listed.cases.map { ($0.item.implementationCode, $0) })
    }

    func get(_ id: String) async throws -> Approval_Case {
        try await approval.getCase(Approval_GetCaseRequest.with { $0.caseID = id }, metadata: try director).case
    }
}

enum ApprovalFixtures {
    static var company: Common_Applicant {
        Common_Applicant.with {
            $0.kind = .legalPerson
            $0.name = "临沂市兰山区好味道餐饮有限公司"
            $0.idType = .uscc
            $0.idNumber = "91371302MA3C1234X7"
            $0.legalRepresentative = "李四"
            $0.contactName = "王五"
            $0.contactPhone = "13812345678"
        }
    }

    static func item(_ code: String, tier: Common_ApprovalTier, name: String = "食品经营许可", promised: Int32 = 5, node: String = "371302",
                     instant: Bool = false, ruleSet: String = "") -> Intake_AcceptedItem {
        Intake_AcceptedItem.with {
            $0.implementationCode = code
            $0.itemVersion = 1
            $0.itemName = name
            $0.tier = tier
            $0.statutoryDays = 20
            $0.promisedDays = promised
            $0.competentDepartment = Common_DepartmentRef.with { $0.code = "SC-01"; $0.name = "市场准入科"; $0.node = node }
            $0.implementingNode = Common_NodeRef.with { $0.divisionCode = node }
            $0.instantApprovalAllowed = instant
            $0.instantRuleSet = ruleSet
            $0.licenceTypeCode = "11100000000013338W001"
            $0.licenceName = name + "证"
            $0.licenceValidityMonths = 60
        }
    }

    static let review = "经审查，申请材料齐全，现场核查经营场所布局合理，符合《食品经营许可管理办法》第十一条规定"
    static let signOff = "已核对承办人审查意见及现场核查记录，设施与布局符合要求，同意准予许可"
    static var grant: Approval_Grant { Approval_Grant.with { $0.scope = "预包装食品销售，散装食品销售"; $0.place = "兰山区解放路1号" } }
}

/// Runs `body` against a running approval node on `node`, today = `today`.
func withApprovalNode(node: String = "371302", today: CivilDate, settings: [String: String] = [:], _ body: @Sendable (ApprovalNode) async throws -> Void) async throws {
    let key = TokenSigningKey.generate(issuer: node)
    let keyFile = FileManager.default.temporaryDirectory.appendingPathComponent("oneseal-test-approval-\(UUID().uuidString).key").path
    _ = FileManager.default.createFile(atPath: keyFile, contents: Data(DataKeyring.generateKeyText().utf8), attributes: [.posixPermissions: 0o600])
    defer { try? FileManager.default.removeItem(atPath: keyFile) }
    let clock = TestClock(today)
    try await withTestDatabase(prefix: "approval") { database, testDatabase in
        // Node settings exist before start (the table comes with migration 1).
        if !settings.isEmpty {
            // The same statement as migration 0001 (IF NOT EXISTS), so the settings are there before start.
            try await database.execute("CREATE TABLE IF NOT EXISTS node_settings (key text PRIMARY KEY, value text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())")
            for (name, value) in settings {
                try await database.execute("INSERT INTO node_settings (key, value) VALUES (\(name), \(value))")
            }
        }
        let configuration = try NodeConfiguration.fromEnvironment(service: "approval", environment: ["ONESEAL_INSECURE_LOOPBACK": "1",
            "ONESEAL_NODE": node, "ONESEAL_PORT": "0", "ONESEAL_METRICS_PORT": "off",
            "ONESEAL_DATABASE_URL": testDatabase.conninfo, "ONESEAL_DB_POOL_SIZE": "4",
            "ONESEAL_TOKEN_PUBLIC_KEYS": key.testTrustEntries,
            "ONESEAL_DATA_KEY_FILE": keyFile,
        ])
        let logger = {
            var logger = Logger(label: "oneseal.test.approval")
            logger.logLevel = .error
            return logger
        }()
        let definition = try ApprovalServiceDefinition.make(clock: { clock.date }, sweepInterval: .seconds(3600), caseFileSigner: key)
        try await withRunningService(definition, configuration: configuration, logger: logger) { service, grpc in
            let api = ApprovalAPI(
                database: database, keyring: try DataKeyring(contentsOfFile: keyFile), node: node,
                settings: try await ApprovalSettings.load(node: node, from: database), clock: { clock.date }, signer: key, logger: logger)
            try await body(ApprovalNode(node: node, key: key, grpc: grpc, database: database, clock: clock, api: api, port: service.port))
        }
    }
}
