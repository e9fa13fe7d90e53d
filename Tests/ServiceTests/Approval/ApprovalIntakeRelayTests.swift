import ApprovalRules
import Foundation
import GRPCCore
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
import Testing
@testable import ApprovalService
@testable import IntakeService
#if canImport(Glibc)
import Glibc
#endif

@Suite("Approval and intake through their outbox relays", .serialized)
struct ApprovalIntakeRelayTests {
    @Test("intake's acceptance opens the case; approval's CaseOpened and CaseDecided reach the window; one case however often delivered")
    func relay() async throws {
        let node = "371302"
        let key = TokenSigningKey.generate(issuer: node)
        let directory = FileManager.default.temporaryDirectory
        let dataKey = directory.appendingPathComponent("oneseal-relay-data-\(UUID().uuidString).key").path
        let serviceKey = directory.appendingPathComponent("oneseal-relay-service-\(UUID().uuidString).key").path
        _ = FileManager.default.createFile(atPath: dataKey, contents: Data(DataKeyring.generateKeyText().utf8), attributes: [.posixPermissions: 0o600])
        _ = FileManager.default.createFile(atPath: serviceKey, contents: Data((key.base64 + "\n").utf8), attributes: [.posixPermissions: 0o600])
        defer {
            try? FileManager.default.removeItem(atPath: dataKey)
            try? FileManager.default.removeItem(atPath: serviceKey)
        }
        let intakePort = try freeLoopbackPort()
        let approvalPort = try freeLoopbackPort()
        let peers = "intake@\(node)=127.0.0.1:\(intakePort),approval@\(node)=127.0.0.1:\(approvalPort)"
        let clock = TestClock(CivilDate(year: 2026, month: 9, day: 21)!)
        let logger = {
            var logger = Logger(label: "oneseal.test.relay")
            logger.logLevel = .critical
            return logger
        }()

        try await withTestDatabase(prefix: "relay_intake") { _, intakeDatabase in
            try await withTestDatabase(prefix: "relay_approval") { approvalDatabase, approvalTestDatabase in
                func configuration(_ service: String, port: Int, database: String) throws -> NodeConfiguration {
                    try NodeConfiguration.fromEnvironment(service: service, environment: ["ONESEAL_INSECURE_LOOPBACK": "1",
                        "ONESEAL_NODE": node, "ONESEAL_PORT": String(port), "ONESEAL_METRICS_PORT": "off", "ONESEAL_LOG_LEVEL": "critical",
                        "ONESEAL_DATABASE_URL": database, "ONESEAL_DB_POOL_SIZE": "4",
                        "ONESEAL_TOKEN_PUBLIC_KEYS": key.testTrustEntries,
                        "ONESEAL_DATA_KEY_FILE": dataKey, "ONESEAL_SERVICE_KEY_FILE": serviceKey, "ONESEAL_PEERS": peers,
                    ])
                }
                let intakeConfiguration = try configuration("intake", port: intakePort, database: intakeDatabase.conninfo)
                let approvalConfiguration = try configuration("approval", port: approvalPort, database: approvalTestDatabase.conninfo)
                let services = Box<[RunningService]>([])
                let intakeDefinition = try IntakeServiceDefinition.make(clock: { clock.date }, sweepInterval: .seconds(3600))
                let approvalDefinition = try ApprovalServiceDefinition.make(clock: { clock.date }, sweepInterval: .seconds(3600))
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        try await ServiceRunner.run(intakeDefinition, configuration: intakeConfiguration, registry: nil, logger: logger, signals: []) { running in
                            services.set(services.get() + [running])
                        }
                    }
                    group.addTask {
                        try await ServiceRunner.run(approvalDefinition, configuration: approvalConfiguration, registry: nil, logger: logger, signals: []) { running in
                            services.set(services.get() + [running])
                        }
                    }
                    var waited = 0
                    while services.get().count < 2, waited < 600 {
                        try await Task.sleep(for: .milliseconds(50))
                        waited += 1
                    }
                    func stop() async { for service in services.get() { await service.shutdown() } }
                    do {
                        try #require(services.get().count == 2)
                        try await exercise(intakePort: intakePort, approvalPort: approvalPort, key: key, approvalDatabase: approvalDatabase)
                    } catch {
                        await stop()
                        throw error
                    }
                    await stop()
                    try await group.waitForAll()
                }
            }
        }
    }

    func exercise(intakePort: Int, approvalPort: Int, key: TokenSigningKey, approvalDatabase: PostgresClient) async throws {
        func metadata(_ role: Role, _ subject: String) throws -> Metadata {
            var metadata = Metadata()
            metadata.addString("Bearer \(try key.mint(subject: subject, role: role, node: "371302"))", forKey: "authorization")
            return metadata
        }
        try await withGRPCClient(transport: OneSealClientTransport(host: "127.0.0.1", port: intakePort)) { intakeClient in
            try await withGRPCClient(transport: OneSealClientTransport(host: "127.0.0.1", port: approvalPort)) { approvalClient in
                let intake = Intake_IntakeService.Client(wrapping: intakeClient)
                let approval = Approval_ApprovalService.Client(wrapping: approvalClient)
                for item in try SampleCatalogue.items {
                    var request = Intake_UpsertItemRequest()
                    request.item = item.proto(version: 0)
                    _ = try await intake.upsertItem(request, metadata: try metadata(.operator, "ops-1"))
                }
                let food = "000117005000371302001"
                try await FixtureFiles.uploadAll(with: intake, as: try metadata(.windowClerk, "clerk-07"))
                let submitted = try await intake.submitApplication(try Fixtures.submit([food]), metadata: try metadata(.windowClerk, "clerk-07"))
                let applicationID = submitted.application.applicationID
                _ = try await intake.accept(Intake_AcceptRequest.with { $0.applicationID = applicationID }, metadata: try metadata(.windowClerk, "clerk-07"))

                // The relay carries ApplicationAccepted to approval, which opens the case …
                var cases: [Approval_Case] = []
                for _ in 0..<200 where cases.isEmpty {
                    cases = try await approval.listCases(Approval_ListCasesRequest.with { $0.applicationID = applicationID }, metadata: try metadata(.director, "director-zhou")).cases
                    if cases.isEmpty { try await Task.sleep(for: .milliseconds(50)) }
                }
                let opened = try #require(cases.first)
                #expect(cases.count == 1)
                #expect(opened.item.implementationCode == food)
                #expect(opened.item.tier == .sole)
                #expect(opened.materials.count == submitted.application.materials.count)
                #expect(opened.applicant.idNumber == Fixtures.uscc)

                // … and CaseOpened comes back: the window shows the case number and "in approval".
                func item() async throws -> Intake_ApplicationItem {
                    try await intake.getApplication(Intake_GetApplicationRequest.with { $0.applicationID = applicationID }, metadata: try metadata(.windowClerk, "clerk-07")).application.items[0]
                }
                var progress = try await item()
                for _ in 0..<200 where progress.caseNumber.isEmpty {
                    try await Task.sleep(for: .milliseconds(50))
                    progress = try await item()
                }
                #expect(progress.caseNumber == opened.caseNumber)
                #expect(progress.progress == .inApproval)
                #expect(progress.deadline.dueOn == opened.deadline.dueOn)

                _ = try await approval.reviewStep(Approval_ReviewStepRequest.with {
                    $0.caseID = opened.caseID; $0.conclusion = .proposeGrant; $0.opinion = ApprovalFixtures.review
                }, metadata: try metadata(.officer, "officer-li"))
                _ = try await approval.decide(Approval_DecideRequest.with { $0.caseID = opened.caseID; $0.grant = ApprovalFixtures.grant }, metadata: try metadata(.officer, "officer-li"))
                for _ in 0..<200 where progress.progress != .granted {
                    try await Task.sleep(for: .milliseconds(50))
                    progress = try await item()
                }
                #expect(progress.progress == .granted)
                let count = try await approvalDatabase.query("SELECT count(*)::int8 AS n FROM cases").one().decode("n", as: Int.self)
                #expect(count == 1)
            }
        }
    }
}
