import CertificateRules
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
@testable import CertificateService

/// Key files of a certificate node under test (written 0600 to the temporary directory).
struct CertificateKeyFiles: Sendable {
    let seal: String
    let data: String
    let service: String

    static func make(seals: [SealKey], token: TokenSigningKey) -> CertificateKeyFiles {
        func write(_ text: String, _ name: String) -> String {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("oneseal-test-\(name)-\(UUID().uuidString).key").path
            _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
            return path
        }
        return CertificateKeyFiles(
            seal: write(seals.map(\.fileLine).joined(separator: "\n") + "\n", "seal"),
            data: write(DataKeyring.generateKeyText(), "data"),
            service: write(token.base64, "service"))
    }

    func rewriteSeals(_ seals: [SealKey]) {
        _ = FileManager.default.createFile(atPath: seal, contents: Data((seals.map(\.fileLine).joined(separator: "\n") + "\n").utf8), attributes: [.posixPermissions: 0o600])
    }

    func remove() {
        for path in [seal, data, service] { try? FileManager.default.removeItem(atPath: path) }
    }
}

/// A running certificate service (ServiceRunner, migrations, auth, OneSeal TCP on a free port) over
/// its own PostgreSQL database, with a client, tokens per role and a second API over the same
/// database for driving the log integrator and the expiry sweeper directly.
struct CertificateNode: Sendable {
    let node: String
    let port: Int
    let token: TokenSigningKey
    let grpc: GRPCClient<OneSealClientTransport>
    let database: PostgresClient
    let clock: TestClock
    let api: CertificateAPI

    var certificate: Certificate_CertificateService.Client<OneSealClientTransport> { Certificate_CertificateService.Client(wrapping: grpc) }
    var sink: Events_EventSink.Client<OneSealClientTransport> { Events_EventSink.Client(wrapping: grpc) }

    func metadata(_ role: Role, subject: String = "cert-op-1", node: String? = nil) throws -> Metadata {
        var metadata = Metadata()
        metadata.addString("Bearer \(try token.mint(subject: subject, role: role, node: node ?? self.node))", forKey: "authorization")
        return metadata
    }

    var operatorToken: Metadata { get throws { try metadata(.certificateOperator) } }
    var approvalToken: Metadata { get throws { try metadata(.peerNode, subject: "approval@\(node)") } }

    /// Integrates every queued log entry now (what the integrator does within the merge delay).
    @discardableResult
    func integrate() async throws -> Int { try await LogIntegrator(api: api).integrateAll() }

    /// Delivers events as approval's relay would (node token, EventSink/Deliver).
    func deliver(_ events: [Events_EventEnvelope]) async throws -> Events_DeliverResponse {
        var request = Events_DeliverRequest()
        request.events = events
        return try await sink.deliver(request, metadata: try approvalToken)
    }

    /// Events waiting in the outbox, as (destination, type, payload) in order.
    func outbox() async throws -> [(destination: String, type: String, payload: [UInt8])] {
        try await database.query("SELECT destination, type, aggregate_id, payload FROM outbox ORDER BY seq").map {
            (try $0.decode("destination", as: String.self), try $0.decode("type", as: String.self), try SealedEventPayload.open(try $0.decode("payload", as: [UInt8].self), type: try $0.decode("type", as: String.self), aggregateID: try $0.decode("aggregate_id", as: String.self), keyring: api.keyring))
        }
    }
}

/// Runs `body` against a certificate node on `node`, today = `today`. `peers` are extra
/// ONESEAL_PEERS entries (name → port on 127.0.0.1); `token` is shared by nodes that trust each other.
func withCertificateNode(
    node: String = "371300", today: CivilDate, seals: [SealKey] = [SealKey.generate()], token: TokenSigningKey? = nil,
    peers: [String: Int] = [:], settings: [String: String] = [:], keyFiles: CertificateKeyFiles? = nil,
    database existing: (PostgresClient, TestDatabase)? = nil,
    _ body: @Sendable (CertificateNode) async throws -> Void
) async throws {
    let token = token ?? TokenSigningKey.generate(issuer: node)
    let files = keyFiles ?? CertificateKeyFiles.make(seals: seals, token: token)
    defer { if keyFiles == nil { files.remove() } }
    let clock = TestClock(today)
    func run(_ database: PostgresClient, _ testDatabase: TestDatabase) async throws {
        try await database.execute("CREATE TABLE IF NOT EXISTS node_settings (key text PRIMARY KEY, value text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())")
        for (key, value) in settings {
            try await database.execute("INSERT INTO node_settings (key, value) VALUES (\(key), \(value)) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value")
        }
        let configuration = try NodeConfiguration.fromEnvironment(service: "certificate", environment: ["ONESEAL_INSECURE_LOOPBACK": "1",
            "ONESEAL_NODE": node, "ONESEAL_PORT": "0", "ONESEAL_METRICS_PORT": "off",
            "ONESEAL_DATABASE_URL": testDatabase.conninfo, "ONESEAL_DB_POOL_SIZE": "4",
            "ONESEAL_TOKEN_PUBLIC_KEYS": token.testTrustEntries,
            "ONESEAL_DATA_KEY_FILE": files.data,
            // Only a node that calls peers gets a service key (without one the outbox relay stays off,
            // so events stay in the outbox for the tests to read).
            "ONESEAL_SERVICE_KEY_FILE": peers.isEmpty ? "" : files.service,
            "ONESEAL_PEERS": peers.map { "\($0.key)=127.0.0.1:\($0.value)" }.joined(separator: ","),
        ])
        let logger = {
            var logger = Logger(label: "oneseal.test.certificate")
            logger.logLevel = .warning
            return logger
        }()
        // The integrator runs every hour here: tests integrate explicitly, so log positions are deterministic.
        let definition = try CertificateServiceDefinition.make(
            environment: ["ONESEAL_SEAL_KEY_FILE": files.seal], clock: { clock.date }, integrationInterval: .seconds(3600))
        try await withRunningService(definition, configuration: configuration, logger: logger) { service, grpc in
            let settings = try await CertificateSettings.load(node: node, from: database)
            let api = CertificateAPI(
                database: database, keyring: try DataKeyring(contentsOfFile: files.data), seals: try SealKeyring(contentsOfFile: files.seal),
                node: node, settings: settings, clock: { clock.date }, logger: logger)
            try await body(CertificateNode(node: node, port: service.port, token: token, grpc: grpc, database: database, clock: clock, api: api))
        }
    }
    if let existing {
        try await run(existing.0, existing.1)
    } else {
        try await withTestDatabase(prefix: "certificate") { database, testDatabase in
            try await run(database, testDatabase)
        }
    }
}

/// Approval's events as the certificate service receives them.
enum ApprovalEvents {
    static let food = "000117005000371302001"
    static let foodLicenceType = "11100000MB01432663101"

    static func envelope(_ message: some SwiftProtobuf.Message, id: UUID = UUID(), from node: String = "371300") throws -> Events_EventEnvelope {
        var envelope = Events_EventEnvelope()
        envelope.eventID = id.uuidString
        envelope.type = type(of: message).protoMessageName
        envelope.sourceService = "approval"
        envelope.sourceNode = node
        envelope.aggregateID = "case"
        envelope.payload = try message.serializedData()
        return envelope
    }

    static func header(caseID: String, applicationID: String = UUID().uuidString.lowercased()) -> Approval_CaseHeader {
        var header = Approval_CaseHeader()
        header.caseID = caseID
        header.caseNumber = "371300-20261123-000123"
        header.applicationID = applicationID
        header.applicationNumber = "371302-20261120-0007"
        header.implementationCode = food
        header.itemName = "食品经营许可"
        header.acceptingNode = Common_NodeRef.with { $0.divisionCode = "371302"; $0.name = "兰山区行政审批服务局" }
        header.decidingNode = Common_NodeRef.with { $0.divisionCode = "371300"; $0.name = "临沂市行政审批服务局" }
        return header
    }

    /// A grant of the food-business licence to the sample company, decided on `decidedOn`.
    static func granted(caseID: String, applicationID: String = UUID().uuidString.lowercased(), decidedOn: CivilDate, holder: Common_Applicant? = nil) -> Approval_CaseDecided {
        var message = Approval_CaseDecided()
        message.header = header(caseID: caseID, applicationID: applicationID)
        var grant = Approval_Grant()
        grant.scope = "热食类食品制售；冷食类食品制售"
        grant.conditions = ["不得超出许可范围经营"]
        grant.place = "山东省临沂市兰山区解放路1号"
        grant.licenceFields = ["主体业态": "餐饮服务经营者", "主体业态代码": "2"]
        message.decision.grant = grant
        message.decision.decidedOn = Common_CivilDate(decidedOn)
        message.applicant = holder ?? Fixtures.company
        message.item.implementationCode = food
        message.item.name = "食品经营许可"
        message.item.licenceTypeCode = foodLicenceType
        message.item.licenceName = "食品经营许可证"
        message.item.licenceValidityMonths = 60
        return message
    }
}
