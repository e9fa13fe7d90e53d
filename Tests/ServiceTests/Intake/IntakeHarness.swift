import Foundation
import SwiftProtobuf
import GRPCCore
import IntakeContracts
import IntakeRules
import Logging
import OneSealAuth
import OneSealCore
import OneSealPrivacy
import OneSealLocalCluster
import OneSealProto
import OneSealServiceKit
import OneSealStore
import OneSealTestSupport
import OneSealWire
import Synchronization
import Testing
@testable import IntakeService

/// "Today" for a node under test: the law counts civil days, so tests pin the date (noon in
/// Beijing) and move it forward to cross holidays.
final class TestClock: Sendable {
    private let now = Mutex<Date>(Date())
    init(_ date: CivilDate) { set(date) }
    func set(_ date: CivilDate) { now.withLock { $0 = date.startOfDayInstant().addingTimeInterval(12 * 3600) } }
    var date: Date { now.withLock { $0 } }
}

/// A real intake service (ServiceRunner, migrations, auth, OneSeal TCP on a free port) over its
/// own fresh PostgreSQL database, and a client with tokens for each role.
struct IntakeNode: Sendable {
    let node: String
    /// The port the intake service listens on (127.0.0.1), for clients other than `grpc`.
    let port: Int
    let key: TokenSigningKey
    let grpc: GRPCClient<OneSealClientTransport>
    let database: PostgresClient
    let clock: TestClock
    let api: IntakeAPI

    var intake: Intake_IntakeService.Client<OneSealClientTransport> { Intake_IntakeService.Client(wrapping: grpc) }

    func metadata(_ role: Role, subject: String = "clerk-07", node: String? = nil) throws -> Metadata {
        var metadata = Metadata()
        metadata.addString("Bearer \(try key.mint(subject: subject, role: role, node: node ?? self.node))", forKey: "authorization")
        return metadata
    }

    var clerk: Metadata { get throws { try metadata(.windowClerk) } }
    var operatorToken: Metadata { get throws { try metadata(.operator, subject: "ops-1") } }

    /// Publishes the sample catalogue (Services/Intake/catalogue/sample-catalogue.json) through UpsertItem.
    func publishSampleCatalogue() async throws {
        for item in try SampleCatalogue.items {
            var request = Intake_UpsertItemRequest()
            request.item = item.proto(version: 0)
            request.changeNote = "sample catalogue"
            _ = try await intake.upsertItem(request, metadata: try operatorToken)
        }
    }

    /// Uploads the fixture file of every requirement code `materials` name, as `metadata`: the
    /// material store binds each upload to its uploader, and SubmitApplication takes only files
    /// the submitter uploaded (or may read).
    func uploadFixtures(for materials: [Intake_ProvidedMaterial], as metadata: Metadata) async throws {
        for code in Set(materials.filter { !$0.fileID.isEmpty }.map(\.requirementCode)) {
            let uploaded = try await intake.uploadMaterial(FixtureFiles.content(code), fileName: "\(code).pdf", contentType: "application/pdf", metadata: metadata)
            #expect(uploaded.material.fileID == FixtureFiles.id(code))
        }
    }

    /// Events waiting in the outbox, as (destination, type, payload) in order, payloads opened as the relay opens them.
    func outbox() async throws -> [(destination: String, type: String, payload: [UInt8])] {
        try await database.query("SELECT destination, type, aggregate_id, payload FROM outbox ORDER BY seq").map { (try $0.decode("destination", as: String.self), try $0.decode("type", as: String.self), try SealedEventPayload.open(try $0.decode("payload", as: [UInt8].self), type: try $0.decode("type", as: String.self), aggregateID: try $0.decode("aggregate_id", as: String.self), keyring: api.keyring)) }
    }
}

/// Outbox rows of one event type. A plain synchronous loop on purpose: the same filter written
/// inline in a long async test body gave a wrong count in some debug builds (Swift 6.3.1; ASan
/// and checked continuations found nothing), see docs/decisions.md.
enum OutboxRows {
    static func of<Event: SwiftProtobuf.Message>(_ type: Event.Type, in rows: [(destination: String, type: String, payload: [UInt8])]) -> [(destination: String, type: String, payload: [UInt8])] {
        var matching: [(destination: String, type: String, payload: [UInt8])] = []
        for row in rows where row.type == Event.protoMessageName {
            matching.append(row)
        }
        return matching
    }
}

enum SampleCatalogue {
    static var items: [CatalogueItem] {
        get throws {
            let url = URL(fileURLWithPath: #filePath)
                .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("Services/Intake/catalogue/sample-catalogue.json")
            return try CatalogueFile.decode(try Data(contentsOf: url))
        }
    }
}

/// Runs `body` against a running intake node on `node`, today = `today`.
func withIntakeNode(node: String = "371302", today: CivilDate, _ body: @Sendable (IntakeNode) async throws -> Void) async throws {
    let key = TokenSigningKey.generate(issuer: node)
    let keyFile = FileManager.default.temporaryDirectory.appendingPathComponent("oneseal-test-data-\(UUID().uuidString).key").path
    _ = FileManager.default.createFile(atPath: keyFile, contents: Data(DataKeyring.generateKeyText().utf8), attributes: [.posixPermissions: 0o600])
    defer { try? FileManager.default.removeItem(atPath: keyFile) }
    let clock = TestClock(today)
    try await withTestDatabase(prefix: "intake") { database, testDatabase in
        let configuration = try NodeConfiguration.fromEnvironment(service: "intake", environment: ["ONESEAL_INSECURE_LOOPBACK": "1",
            "ONESEAL_NODE": node, "ONESEAL_PORT": "0", "ONESEAL_METRICS_PORT": "off",
            "ONESEAL_DATABASE_URL": testDatabase.conninfo, "ONESEAL_DB_POOL_SIZE": "4",
            "ONESEAL_TOKEN_PUBLIC_KEYS": key.testTrustEntries,
            "ONESEAL_DATA_KEY_FILE": keyFile,
        ])
        let logger = {
            var logger = Logger(label: "oneseal.test.intake")
            logger.logLevel = .warning
            return logger
        }()
        let definition = try IntakeServiceDefinition.make(clock: { clock.date }, sweepInterval: .seconds(3600))
        try await withRunningService(definition, configuration: configuration, logger: logger) { service, grpc in
            // A second API over the same database, for driving the sweeper directly in tests.
            let keyring = try DataKeyring(contentsOfFile: keyFile)
            let api = IntakeAPI(
                database: database, keyring: keyring, node: node, settings: IntakeSettings(agencyName: "测试审批局"),
                clock: { clock.date }, licences: LicenceVerifier(client: nil, token: nil), logger: logger)
            let running = IntakeNode(node: node, port: service.port, key: key, grpc: grpc, database: database, clock: clock, api: api)
            // The window's scans of every sample material, as the clerk the tests act as.
            try await FixtureFiles.uploadAll(with: running.intake, as: try running.clerk)
            try await body(running)
        }
    }
}

// MARK: Applicants and materials used across the tests

/// The stand-in scan of each requirement code, the local cluster's (`Hall.sampleScan`): the same
/// code is the same stored file (the store keeps it once) and its file id is known in advance.
enum FixtureFiles {
    static func content(_ code: String) -> [UInt8] { Hall.sampleScan(code) }

    static func id(_ code: String) -> String { Hall.sampleScanID(code) }

    /// Uploads the file of every material code of the sample catalogue as `metadata`.
    static func uploadAll(with intake: Intake_IntakeService.Client<OneSealClientTransport>, as metadata: Metadata) async throws {
        let codes = Set(try SampleCatalogue.items.flatMap { $0.materials.map(\.code) })
        for code in codes.sorted() {
            _ = try await intake.uploadMaterial(content(code), fileName: "\(code).pdf", contentType: "application/pdf", metadata: metadata)
        }
    }
}

enum Fixtures {
    /// A valid resident ID (GB 11643 check digit computed), born 1990-01-01 in 兰山区.
    static let residentID = "371302199001011233"
    /// A valid USCC (GB 32100 check character computed).
    static let uscc = Hall.uscc

    static var person: Common_Applicant {
        Common_Applicant.with {
            $0.kind = .naturalPerson
            $0.name = "张三"
            $0.idType = .residentID
            $0.idNumber = residentID
            $0.phone = "13812345678"
            $0.address = "山东省临沂市兰山区解放路1号"
        }
    }

    /// The same company the end-to-end tests use.
    static var company: Common_Applicant { Hall.company }

    /// Every required material of `codes` (one per requirement code, shared across items), in
    /// the first form the item accepts, except those in `leaving`.
    static func materials(for items: [CatalogueItem], leaving: Set<String> = []) -> [Intake_ProvidedMaterial] {
        var seen = Set<String>()
        var out: [Intake_ProvidedMaterial] = []
        for item in items {
            for material in item.materials where material.required && !leaving.contains(material.code) {
                let key = material.code + "|" + material.forms.map(\.rawValue).joined()
                let shared = items.filter { $0.material(code: material.code) != nil }.count > 1
                if shared, !seen.insert(key).inserted { continue }
                var provided = Intake_ProvidedMaterial()
                provided.requirementCode = material.code
                if !shared { provided.implementationCodes = [item.implementationCode] }
                provided.name = material.name
                provided.form = material.forms[0].proto
                provided.copies = Int32(max(material.copies, 1))
                provided.fileID = FixtureFiles.id(material.code)
                out.append(provided)
            }
        }
        return out
    }

    static func submit(_ codes: [String], applicant: Common_Applicant = company, leaving: Set<String> = [], key: String = UUID().uuidString) throws -> Intake_SubmitApplicationRequest {
        let catalogue = try SampleCatalogue.items
        let items = codes.map { code in catalogue.first { $0.implementationCode == code }! }
        var request = Intake_SubmitApplicationRequest()
        request.applicant = applicant
        request.items = codes.map { code in Intake_RequestedItem.with { $0.implementationCode = code } }
        request.materials = materials(for: items, leaving: leaving)
        request.channel = .window
        request.windowID = "07"
        request.idempotencyKey = key
        return request
    }
}

/// The status code and violated fields of an RPC failure, for `#expect(throws:)` checks.
func rpcFailure(_ error: any Error) -> (code: RPCError.Code, fields: [String], reasons: [String], message: String)? {
    guard let error = error as? RPCError else { return nil }
    return (error.code, error.fieldViolations.map(\.field), error.fieldViolations.map(\.reason), error.message)
}

/// A value shared between tasks under a lock.
final class Box<Value: Sendable>: Sendable {
    private let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
    func get() -> Value { value.withLock { $0 } }
    func set(_ new: Value) { value.withLock { $0 = new } }
}
