// oneseal-bench-certificate: how fast does one certificate service issue and verify licences, beside
// the raw Ed25519 sign/verify rate of the same seal key on the same machine in the same run?
//
//   scripts/with-postgres .build/release/oneseal-bench-certificate --licences 2000 --callers 16
//
// Runs the real service in-process (ServiceRunner, migrations, auth, OneSeal TCP on loopback) over a
// fresh database on the throwaway cluster, and drives it through its RPCs:
//   issue:     IssueLicence from `callers` concurrent callers: validation, counters, canonical bytes,
//              Ed25519 seal, sealed content, log entry and three outbox events in one transaction;
//   integrate: the background log integrator (every 0.5 s) appending the queued entries (leaf +
//              perfect nodes) and signing tree heads, batch by batch, while issuing goes on;
//   verify:    VerifyLicence by identifier from `callers` concurrent callers: look-up, seal check
//              against the trust list, status, inclusion proof against the signed tree head.
// "Issued incl. log append" = licences / (first request until every entry is under a signed head).
//
// A benchmark program, not a test: it prints figures and never fails on them.
import ArgumentParser
import CertificateRules
import CertificateService
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
import Synchronization

@main
struct BenchCertificate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "oneseal-bench-certificate",
        abstract: "Licences issued and verified per second through the certificate service, beside raw Ed25519.")

    @Option(help: "Licences to issue (and then verify).") var licences: Int = 2000
    @Option(help: "Concurrent callers.") var callers: Int = 16
    @Option(help: "Raw Ed25519 operations to time.") var rawOperations: Int = 20000

    func run() async throws {
        guard ProcessInfo.processInfo.environment[TestDatabase.environmentVariable] != nil else {
            throw ValidationError("set ONESEAL_TEST_POSTGRES (run under scripts/with-postgres)")
        }
        let seal = SealKey.generate()
        let content = Self.sampleContent()
        let bytes = content.canonicalBytes
        print("canonical licence bytes: \(bytes.count); load average at start: \(Self.loadAverage())")

        // Raw Ed25519 over the same bytes, with the same key type and domain label.
        var start = ContinuousClock.now
        var signature: [UInt8] = []
        for _ in 0..<rawOperations { signature = seal.sign(bytes, purpose: .licence) }
        let signRate = Double(rawOperations) / seconds(ContinuousClock.now - start)
        start = ContinuousClock.now
        for _ in 0..<rawOperations { try seal.publicKey.verify(signature, over: bytes, purpose: .licence) }
        let verifyRate = Double(rawOperations) / seconds(ContinuousClock.now - start)
        print(String(format: "raw Ed25519 (one core): sign %.0f/s, verify %.0f/s", signRate, verifyRate))

        let token = TokenSigningKey.generate(issuer: "371300")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("oneseal-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let sealFile = directory.appendingPathComponent("seal.key").path
        let dataFile = directory.appendingPathComponent("data.key").path
        _ = FileManager.default.createFile(atPath: sealFile, contents: Data((seal.fileLine + "\n").utf8), attributes: [.posixPermissions: 0o600])
        _ = FileManager.default.createFile(atPath: dataFile, contents: Data(DataKeyring.generateKeyText().utf8), attributes: [.posixPermissions: 0o600])

        let database = try await TestDatabase.create(prefix: "benchcert")
        let configuration = try NodeConfiguration.fromEnvironment(service: "certificate", environment: ["ONESEAL_INSECURE_LOOPBACK": "1",
            "ONESEAL_NODE": "371300", "ONESEAL_PORT": "0", "ONESEAL_METRICS_PORT": "off",
            "ONESEAL_DATABASE_URL": database.conninfo, "ONESEAL_DB_POOL_SIZE": String(max(4, callers)),
            "ONESEAL_TOKEN_PUBLIC_KEYS": "371300=" + token.publicKey.rawRepresentation.base64EncodedString(),
            "ONESEAL_DATA_KEY_FILE": dataFile, "ONESEAL_LOG_LEVEL": "error",
        ])
        let logger = {
            var logger = Logger(label: "oneseal.bench.certificate")
            logger.logLevel = .error
            return logger
        }()
        let definition = try CertificateServiceDefinition.make(environment: ["ONESEAL_SEAL_KEY_FILE": sealFile])
        let running = RunningBox()
        let callers = self.callers
        let total = self.licences
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await ServiceRunner.run(definition, configuration: configuration, registry: nil, logger: logger, signals: []) { service in
                    running.value.withLock { $0 = service }
                }
            }
            var service: RunningService?
            while service == nil {
                try await Task.sleep(for: .milliseconds(50))
                service = running.value.withLock { $0 }
            }
            guard let service else { return }
            var metadata = Metadata()
            metadata.addString("Bearer \(try token.mint(subject: "bench", role: .certificateOperator, node: "371300", lifetime: .seconds(3600)))", forKey: "authorization")
            let operatorMetadata = metadata
            try await withGRPCClient(transport: OneSealClientTransport(host: "127.0.0.1", port: service.port)) { grpc in
                let certificate = Certificate_CertificateService.Client(wrapping: grpc)
                // Warm-up (connections, prepared statements), not counted.
                for index in 0..<20 { _ = try await certificate.issueLicence(Self.request(case: "warm-\(index)"), metadata: operatorMetadata) }

                let issueStart = ContinuousClock.now
                let identifiers = try await withThrowingTaskGroup(of: [String].self) { callersGroup in
                    for caller in 0..<callers {
                        callersGroup.addTask {
                            var made: [String] = []
                            var index = caller
                            while index < total {
                                let response = try await certificate.issueLicence(Self.request(case: "bench-\(index)"), metadata: operatorMetadata)
                                made.append(response.licence.content.licenceIdentifier)
                                index += callers
                            }
                            return made
                        }
                    }
                    var all: [String] = []
                    for try await made in callersGroup { all += made }
                    return all
                }
                let issueTime = seconds(ContinuousClock.now - issueStart)

                // Wait until the background integrator has every entry under a signed tree head.
                let integrateStart = ContinuousClock.now
                var head = try await certificate.getSignedTreeHead(Certificate_GetSignedTreeHeadRequest()).treeHead
                while head.treeSize < Int64(total + 20) {
                    try await Task.sleep(for: .milliseconds(5))
                    head = try await certificate.getSignedTreeHead(Certificate_GetSignedTreeHeadRequest()).treeHead
                    if ContinuousClock.now - integrateStart > .seconds(600) { break }
                }
                _ = head
                let integrateTime = seconds(ContinuousClock.now - integrateStart)
                let endToEnd = seconds(ContinuousClock.now - issueStart)

                let verifyStart = ContinuousClock.now
                let valid = try await withThrowingTaskGroup(of: Int.self) { verifiers in
                    for caller in 0..<callers {
                        verifiers.addTask {
                            var ok = 0
                            var index = caller
                            while index < identifiers.count {
                                let answer = try await certificate.verifyLicence(Certificate_VerifyLicenceRequest.with { $0.licenceIdentifier = identifiers[index] })
                                if answer.valid && answer.includedInLog { ok += 1 }
                                index += callers
                            }
                            return ok
                        }
                    }
                    var sum = 0
                    for try await ok in verifiers { sum += ok }
                    return sum
                }
                let verifyTime = seconds(ContinuousClock.now - verifyStart)

                print(String(format: "issue (RPC, %d callers): %d licences in %.2f s = %.0f licences/s", callers, total, issueTime, Double(total) / issueTime))
                print(String(format: "log: last entry under a signed tree head %.2f s after the last issue (integrator every 0.5 s)", integrateTime))
                print(String(format: "issued incl. signing and log append (first request to all in a signed head): %.0f licences/s", Double(total) / endToEnd))
                print(String(format: "verify (RPC, %d callers): %d in %.2f s = %.0f verifications/s (%d valid and in the log)", callers, identifiers.count, verifyTime, Double(identifiers.count) / verifyTime, valid))
                print("load average at end: \(Self.loadAverage())")
                print(String(format: "ratios: issuing %.3f of raw sign, verifying %.3f of raw verify", Double(total) / endToEnd / signRate, Double(identifiers.count) / verifyTime / verifyRate))
            }
            await service.shutdown()
            try await group.waitForAll()
        }
        try await database.drop()
    }

    /// /proc/loadavg's first three figures (other processes on a shared machine skew every figure).
    static func loadAverage() -> String {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return "unknown" }
        return text.split(separator: " ").prefix(3).joined(separator: " ")
    }

    static func request(case id: String) -> Certificate_IssueLicenceRequest {
        var request = Certificate_IssueLicenceRequest()
        request.caseID = id
        request.caseNumber = "371300-20261123-\(id)"
        request.applicationID = UUID().uuidString.lowercased()
        request.implementationCode = "000117005000371302001"
        request.licenceTypeCode = "11100000MB01432663101"
        request.licenceName = "食品经营许可证"
        request.holder = Common_Applicant.with {
            $0.kind = .legalPerson
            $0.name = "临沂市兰山区好味道餐饮有限公司"
            $0.idType = .uscc
            $0.idNumber = "91371302MA3C1234X7"
        }
        request.scope = "热食类食品制售；冷食类食品制售"
        request.conditions = ["不得超出许可范围经营"]
        request.place = "山东省临沂市兰山区解放路1号"
        request.extraFields = ["主体业态": "餐饮服务经营者"]
        request.acceptingNode = "371302"
        return request
    }

    static func sampleContent() -> LicenceContent {
        let identifier = try! LicenceIdentifier(typeCode: "11100000MB01432663101", issuer: "11371300MB0000000X", serial: "371300202600000001", version: 1)
        let day = CivilDate(year: 2026, month: 11, day: 23)!
        return LicenceContent(
            licenceName: "食品经营许可证", licenceTypeCode: "11100000MB01432663101", licenceNumber: "3713002026000001",
            licenceIdentifier: identifier.description, issuerName: "临沂市行政审批服务局", issuerCode: "11371300MB0000000X",
            issueDate: day, holderName: "临沂市兰山区好味道餐饮有限公司", holderCode: "91371302MA3C1234X7", holderCodeType: .uscc,
            validFrom: day, validUntil: CivilDate(year: 2031, month: 11, day: 22), scope: "热食类食品制售；冷食类食品制售",
            conditions: ["不得超出许可范围经营"], place: "山东省临沂市兰山区解放路1号", extraFields: ["主体业态": "餐饮服务经营者"],
            serial: identifier.serial, version: "001", issuingNode: "371300", caseID: "c", caseNumber: "n", implementationCode: "000117005000371302001")
    }
}

/// The running service, set by the runner's callback in another task.
final class RunningBox: Sendable {
    let value = Mutex<RunningService?>(nil)
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}
