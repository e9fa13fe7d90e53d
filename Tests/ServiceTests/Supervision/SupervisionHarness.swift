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
import SupervisionRules
import SwiftProtobuf
import Synchronization
import Testing
@testable import SupervisionService

/// "Now" for a supervision node under test: a Beijing wall-clock instant that tests move across
/// weekends and holidays, and forward by seconds past a delivery backoff.
final class SupervisionClock: Sendable {
    private let now = Mutex<Date>(Date())
    init(_ date: CivilDate, hour: Int = 10) { set(date, hour: hour) }
    func set(_ date: CivilDate, hour: Int = 10, minute: Int = 0) {
        now.withLock { $0 = date.startOfDayInstant().addingTimeInterval(Double(hour * 3600 + minute * 60)) }
    }
    func advance(seconds: Double) { now.withLock { $0 = $0.addingTimeInterval(seconds) } }
    var date: Date { now.withLock { $0 } }
}

/// A real supervision service (ServiceRunner, migrations, auth, OneSeal TCP on a free port) over its
/// own fresh PostgreSQL database, with tokens for each role and the event sink other services call.
struct SupervisionNode: Sendable {
    let node: String
    let key: TokenSigningKey
    let grpc: GRPCClient<OneSealClientTransport>
    let database: PostgresClient
    let clock: SupervisionClock
    let api: SupervisionAPI

    var supervision: Supervision_SupervisionService.Client<OneSealClientTransport> { Supervision_SupervisionService.Client(wrapping: grpc) }

    func token(_ role: Role, subject: String = "staff-1", node: String? = nil, department: String? = nil) throws -> Metadata {
        var metadata = Metadata()
        metadata.addString("Bearer \(try key.mint(subject: subject, role: role, node: node ?? self.node, department: department))", forKey: "authorization")
        return metadata
    }

    var operatorToken: Metadata { get throws { try token(.operator, subject: "ops-1") } }
    var sectionChief: Metadata { get throws { try token(.sectionChief, subject: "chief-3") } }

    /// A department's token: its own node and code.
    func department(_ code: String, node: String? = nil, subject: String = "inspector-1") throws -> Metadata {
        try token(.department, subject: subject, node: node ?? self.node, department: code)
    }

    /// Delivers an event as another service's outbox relay would (EventSink/Deliver, node token).
    @discardableResult
    func deliver(
        _ message: some SwiftProtobuf.Message, id: UUID = UUID(), from service: String = "approval", aggregate: String = "case",
        asType: String? = nil, payload: [UInt8]? = nil
    ) async throws -> [String] {
        var envelope = Events_EventEnvelope()
        envelope.eventID = id.uuidString
        envelope.type = asType ?? type(of: message).protoMessageName
        envelope.sourceService = service
        envelope.sourceNode = node
        envelope.aggregateID = aggregate
        envelope.payload = try payload.map { Data($0) } ?? message.serializedData()
        var metadata = Metadata()
        metadata.addString("Bearer \(try key.mint(subject: "\(service)@\(node)", role: .peerNode, node: node))", forKey: "authorization")
        let response = try await Events_EventSink.Client(wrapping: grpc).deliver(Events_DeliverRequest.with { $0.events = [envelope] }, metadata: metadata)
        return response.acceptedEventIds
    }

    /// Events waiting in the outbox, oldest first.
    func outbox() async throws -> [OutboxRow] {
        try await database.query("SELECT destination, type, aggregate_id, payload FROM outbox ORDER BY seq").map {
            OutboxRow(
                destination: try $0.decode("destination"), type: try $0.decode("type"),
                payload: try SealedEventPayload.open(try $0.decode("payload"), type: try $0.decode("type"), aggregateID: try $0.decode("aggregate_id"), keyring: api.keyring))
        }
    }

    func setting(_ key: String, _ value: String) async throws {
        try await database.execute("INSERT INTO node_settings (key, value) VALUES (\(key), \(value)) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value")
    }

    var worker: EndpointDeliveryWorker { EndpointDeliveryWorker(api: api, interval: .seconds(3600), callTimeout: .seconds(3), token: nil) }
    var sweeper: ClaimOverdueSweeper { ClaimOverdueSweeper(api: api, interval: .seconds(3600)) }

    // MARK: Setting up departments and the boundary list

    func addDepartment(_ code: String, _ name: String, node: String? = nil, level: Common_AdministrativeLevel = .city, endpoint: String? = nil) async throws {
        var department = Supervision_Department()
        department.code = code
        department.name = name
        department.node = node ?? self.node
        department.level = level
        department.delivery = endpoint == nil ? .pull : .endpoint
        department.endpoint = endpoint ?? ""
        department.contactName = "联络员"
        department.contactPhone = "0539-8000000"
        _ = try await supervision.upsertDepartment(Supervision_UpsertDepartmentRequest.with { $0.department = department }, metadata: try operatorToken)
    }

    @discardableResult
    func setBoundary(_ implementationCode: String, _ departments: [String], itemName: String = "食品经营许可") async throws -> Supervision_BoundaryEntry {
        var entry = Supervision_BoundaryEntry()
        entry.implementationCode = implementationCode
        entry.itemName = itemName
        entry.departments = departments.map { code in
            Supervision_SupervisingDepartment.with { $0.department.code = code; $0.responsibility = "\(code) 日常监管" }
        }
        return try await supervision.upsertBoundary(Supervision_UpsertBoundaryRequest.with { $0.entry = entry }, metadata: try operatorToken).entry
    }

    /// Pushes of a department (through its own token), newest first.
    func inbox(_ code: String, node: String? = nil) async throws -> [Supervision_Push] {
        try await supervision.listPushes(Supervision_ListPushesRequest(), metadata: try department(code, node: node)).pushes
    }
}

struct OutboxRow: Sendable {
    var destination: String
    var type: String
    var payload: [UInt8]
}

/// Outbox rows of one event type, decoded (a plain loop on purpose, see OutboxRows in IntakeHarness).
enum SupervisionOutbox {
    static func of<Event: SwiftProtobuf.Message>(_ type: Event.Type, in rows: [OutboxRow]) throws -> [(destination: String, event: Event)] {
        var matching: [(destination: String, event: Event)] = []
        for row in rows where row.type == Event.protoMessageName {
            matching.append((row.destination, try Event(serializedBytes: row.payload)))
        }
        return matching
    }
}

/// Runs `body` against a running supervision node (default the city 371300), now = `today` at 10:00.
func withSupervisionNode(node: String = "371300", today: CivilDate, _ body: @Sendable (SupervisionNode) async throws -> Void) async throws {
    let key = TokenSigningKey.generate(issuer: node)
    let clock = SupervisionClock(today)
    let keyFile = FileManager.default.temporaryDirectory.appendingPathComponent("oneseal-test-supervision-\(UUID().uuidString).key").path
    _ = FileManager.default.createFile(atPath: keyFile, contents: Data(DataKeyring.generateKeyText().utf8), attributes: [.posixPermissions: 0o600])
    defer { try? FileManager.default.removeItem(atPath: keyFile) }
    try await withTestDatabase(prefix: "supervision") { database, testDatabase in
        let configuration = try NodeConfiguration.fromEnvironment(service: "supervision", environment: ["ONESEAL_INSECURE_LOOPBACK": "1",
            "ONESEAL_NODE": node, "ONESEAL_PORT": "0", "ONESEAL_METRICS_PORT": "off",
            "ONESEAL_DATABASE_URL": testDatabase.conninfo, "ONESEAL_DB_POOL_SIZE": "4",
            "ONESEAL_TOKEN_PUBLIC_KEYS": key.testTrustEntries,
            "ONESEAL_DATA_KEY_FILE": keyFile,
        ])
        let logger = {
            var logger = Logger(label: "oneseal.test.supervision")
            logger.logLevel = .warning
            return logger
        }()
        // The service's own workers wait an hour between passes: the tests drive them directly.
        let definition = try SupervisionServiceDefinition.make(clock: { clock.date }, sweepInterval: .seconds(3600), deliveryInterval: .seconds(3600))
        try await withRunningService(definition, configuration: configuration, logger: logger) { service, grpc in
            let api = SupervisionAPI(database: database, node: node, clock: { clock.date }, logger: logger, keyring: try DataKeyring(contentsOfFile: keyFile))
            try await body(SupervisionNode(node: node, key: key, grpc: grpc, database: database, clock: clock, api: api))
        }
    }
}

// MARK: Events other services send

enum SupervisionFixtures {
    static let residentID = "371302199001011233"
    static let uscc = "91371302MA3C1234X7"
    static let foodCity = "000117005000371300001"    // 食品经营许可, implemented by the city
    static let hygiene = "000117016000371300002"     // 公共场所卫生许可
    static let forestry = "000105008000371300004"    // no boundary entry in the tests

    static func header(case caseID: String, item: String = foodCity, name: String = "食品经营许可", node: String = "371300") -> Approval_CaseHeader {
        Approval_CaseHeader.with {
            $0.caseID = caseID
            $0.caseNumber = "371300-20261120-\(caseID.suffix(6))"
            $0.applicationID = UUID().uuidString.lowercased()
            $0.implementationCode = item
            $0.itemName = name
            $0.decidingNode = Common_NodeRef.with { $0.divisionCode = node; $0.level = .city }
            $0.acceptingNode = Common_NodeRef.with { $0.divisionCode = "371302"; $0.level = .county }
        }
    }

    static func grant(case caseID: String, item: String = foodCity, decidedOn: CivilDate, commitment: Bool = false) -> Approval_CaseDecided {
        Approval_CaseDecided.with {
            $0.header = header(case: caseID, item: item)
            $0.applicant = Common_Applicant.with {
                $0.kind = .naturalPerson
                $0.name = "张三"
                $0.idType = .residentID
                $0.idNumber = residentID
                $0.phone = "13812345678"
                $0.address = "山东省临沂市兰山区解放路1号"
                $0.email = "zhangsan@example.com"
            }
            $0.decision = Approval_Decision.with {
                $0.grant = Approval_Grant.with {
                    $0.scope = "预包装食品销售；热食类食品制售"
                    $0.conditions = ["每年报告经营情况"]
                    $0.place = "临沂市兰山区解放路1号"
                    $0.validFrom = Common_CivilDate(decidedOn)
                    $0.validUntil = Common_CivilDate(CivilDate(year: decidedOn.year + 5, month: decidedOn.month, day: 1)!)
                }
                $0.decidedOn = Common_CivilDate(decidedOn)
                $0.decidedAt = Google_Protobuf_Timestamp(date: decidedOn.startOfDayInstant().addingTimeInterval(9 * 3600))
            }
            $0.acceptanceKind = commitment ? .commitment : .complete
            $0.item = Approval_ItemSnapshot.with { $0.licenceTypeCode = "11100000000013338W001"; $0.licenceName = "食品经营许可证" }
        }
    }

    static func denial(case caseID: String, decidedOn: CivilDate) -> Approval_CaseDecided {
        Approval_CaseDecided.with {
            $0.header = header(case: caseID)
            $0.decision = Approval_Decision.with {
                $0.denial = Approval_Denial.with { $0.reasons = ["经营场所不符合要求"] }
                $0.decidedOn = Common_CivilDate(decidedOn)
            }
        }
    }

    static func licence(case caseID: String, number: String, item: String = foodCity, issuedOn: CivilDate, version: String = "001") -> Certificate_LicenceIssued {
        Certificate_LicenceIssued.with {
            $0.licence = Certificate_Licence.with {
                $0.licenceID = UUID().uuidString.lowercased()
                $0.content = Certificate_LicenceContent.with {
                    $0.licenceName = "食品经营许可证"
                    $0.licenceNumber = number
                    $0.licenceIdentifier = "1.2.156.3005.2.11100000000013338W001.11371300MB28XXXXXX.\(number).\(version).X"
                    $0.holderName = "张三"
                    $0.holderCode = residentID
                    $0.holderCodeType = .residentID
                    $0.issueDate = Common_CivilDate(issuedOn)
                    $0.scope = "预包装食品销售"
                    $0.place = "临沂市兰山区解放路1号"
                    $0.caseID = caseID
                    $0.caseNumber = "371300-20261120-\(caseID.suffix(6))"
                    $0.implementationCode = item
                    $0.issuingNode = "371300"
                    $0.version = version
                }
                $0.issuedAt = Google_Protobuf_Timestamp(date: issuedOn.startOfDayInstant().addingTimeInterval(9.5 * 3600))
            }
            $0.acceptingNode = "371302"
        }
    }

    static func revoked(case caseID: String, licenceNumber: String, on date: CivilDate) -> Approval_GrantRevoked {
        Approval_GrantRevoked.with {
            $0.header = header(case: caseID)
            $0.revocation = Approval_Revocation.with {
                $0.ground = .fraudOrBribery
                $0.facts = "以欺骗手段取得许可"
                $0.effectiveOn = Common_CivilDate(date)
            }
            $0.licence = Common_LicenceRef.with { $0.licenceNumber = licenceNumber }
        }
    }

    static func licenceRevoked(case caseID: String, licenceNumber: String, on date: CivilDate) -> Certificate_LicenceStatusChanged {
        Certificate_LicenceStatusChanged.with {
            $0.licenceID = UUID().uuidString.lowercased()
            $0.licence = Common_LicenceRef.with { $0.licenceNumber = licenceNumber }
            $0.previousStatus = .valid
            $0.status = .revoked
            $0.reason = "以欺骗手段取得许可"
            $0.effectiveOn = Common_CivilDate(date)
            $0.caseID = caseID
            $0.holderName = "张三"
            $0.implementationCode = foodCity
        }
    }
}
