import Foundation
import GRPCCore
import OneSealLocalCluster
import OneSealProto
import OneSealStore
import OneSealTestSupport
import Testing

/// Issue #22 item 4: a node backed up with `oneseal backup create` (its five databases and its key
/// files, sealed) and restored with `oneseal backup restore` into a fresh PostgreSQL server comes
/// back whole — the audit chain verifies, the transparency log's tree head is the one before, every
/// licence still verifies at both nodes, and the events the backup caught waiting in the outboxes
/// are delivered once the node runs again.
@Suite("Backups restore (oneseal backup create / restore into a fresh PostgreSQL)", .serialized)
struct BackupRestoreTests {
    static let county = Hall.county
    static let passphrase = "correct horse battery staple 兰山"

    @Test("the county backed up cold, its databases lost, restored into a fresh server: audit chain, tree head, licences, outboxes")
    func restoreIntoAFreshServer() async throws {
        let original = try await OwnPostgres.start()
        let fresh: OwnPostgres
        do { fresh = try await OwnPostgres.start() } catch { await original.stop(); throw error }
        do {
            try await Self.run(original: original, fresh: fresh)
        } catch {
            await original.stop()
            await fresh.stop()
            throw error
        }
        await original.stop()
        await fresh.stop()
    }

    static func run(original: OwnPostgres, fresh: OwnPostgres) async throws {
        try await withTwoNodes(adminConninfo: original.conninfo) { cluster, hall in
            let county = Self.county
            let work = FileManager.default.temporaryDirectory.appendingPathComponent("oneseal-backup-test-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: work) }
            let passphraseFile = work.appendingPathComponent("passphrase")
            try (Self.passphrase + "\n").write(to: passphraseFile, atomically: true, encoding: .utf8)

            // Two county cases to their licences, and one licence of the city's.
            var identifiers: [String] = []
            for index in 0..<2 {
                identifiers.append(try await Lifecycle(hall: hall, route: .countyFood, key: "backup-\(index)", stepTimeout: .seconds(120)).run().licenceIdentifier)
            }
            let cityLicence = try await Lifecycle(hall: hall, route: .cityWaterThroughCounty, key: "backup-city", stepTimeout: .seconds(180)).run().licenceIdentifier
            // The log integrates new licences in batches: wait until the last one is in the tree.
            let before = try await eventually("the last county licence in the signed tree head") {
                let answer = try await hall.verify(identifiers.last!, at: county)
                return answer.includedInLog ? answer : nil
            }

            // The county's evaluation is down when the next application is accepted: the events
            // meant for it wait in the county's outboxes, and the backup must carry them.
            await cluster.kill(ServiceAddress(.evaluation, county))
            let waiting = try await hall.submit(at: county, items: [Hall.countyFoodItem], key: "backup-waiting")
            _ = try await hall.accept(at: county, waiting.application.applicationID)
            _ = try await hall.cases(of: waiting.application.applicationID, at: county)
            let waitingBefore = try await Self.undeliveredToEvaluation(cluster, county: county)
            #expect(waitingBefore > 0, "events for evaluation@\(county) wait in the outboxes before the backup")

            // A cold backup: the county's services stopped, then `oneseal backup create`.
            for service in ServiceName.allCases { await cluster.kill(ServiceAddress(service, county)) }
            let backupFile = work.appendingPathComponent("county.osbk")
            let databaseOptions = ServiceName.allCases.flatMap { ["--database", "\($0.rawValue)=\(cluster.databases[ServiceAddress($0, county)]!)"] }
            let secretOptions = cluster.secretFiles(county).sorted { $0.key < $1.key }.flatMap { ["--file", "\($0.key)=\($0.value.path)"] }
            let create = try await runProgram(Self.cli, ["backup", "create", "--node", county, "--postgres", original.conninfo,
                                                         "--passphrase-file", passphraseFile.path, "--out", backupFile.path] + databaseOptions + secretOptions)
            #expect(create.status == 0, "backup create: \(create.output)")
            let sealed = try Data(contentsOf: backupFile)
            #expect(sealed.starts(with: Array("OSBK".utf8)))
            #expect(sealed.range(of: Data(Hall.uscc.utf8)) == nil, "the backup file shows no applicant's code in clear")

            // The disk is lost: the county's databases dropped; the node restored into a fresh server.
            let admin = PostgresClient(conninfo: original.conninfo, maxConnections: 1, logger: .init(label: "test"))
            for service in ServiceName.allCases { try await admin.dropDatabaseIfExists(name: cluster.databases[ServiceAddress(service, county)]!, force: true) }
            await admin.shutdown()
            let wrong = work.appendingPathComponent("wrong")
            try "not the passphrase at all\n".write(to: wrong, atomically: true, encoding: .utf8)
            let refused = try await runProgram(Self.cli, ["backup", "show", "--backup", backupFile.path, "--passphrase-file", wrong.path])
            #expect(refused.status != 0 && refused.output.contains("passphrase is wrong"), "\(refused.output)")
            let keysOut = work.appendingPathComponent("keys")
            let restore = try await runProgram(Self.cli, ["backup", "restore", "--backup", backupFile.path, "--postgres", fresh.conninfo,
                                                          "--passphrase-file", passphraseFile.path, "--files-out", keysOut.path] + databaseOptions)
            #expect(restore.status == 0, "backup restore: \(restore.output)")
            // The node runs on the restored keys: each secret file replaced by the restored one.
            for (name, url) in cluster.secretFiles(county) {
                let restored = try Data(contentsOf: keysOut.appendingPathComponent(name))
                #expect(restored == (try Data(contentsOf: url)), "\(name) restored byte for byte")
                try FileManager.default.removeItem(at: url)
                try FileManager.default.copyItem(at: keysOut.appendingPathComponent(name), to: url)
            }
            cluster.moveNode(county, toServer: fresh.conninfo)
            for service in ServiceName.allCases { try await cluster.restart(ServiceAddress(service, county)) }

            // Whole again: the log's tree head as before, every licence authentic at both nodes,
            // the audit chain intact, the waiting events delivered, and a new case runs.
            // (The test's own connections to the county reconnect with back-off: the first calls retry.)
            let after = try await eventually("the restored certificate service answering") { try await hall.verify(identifiers.last!, at: county) }
            #expect(after.inclusion.treeHead.treeSize == before.inclusion.treeHead.treeSize)
            #expect(after.inclusion.treeHead.rootHash == before.inclusion.treeHead.rootHash)
            for identifier in identifiers + [cityLicence] {
                for node in cluster.nodes {
                    let verdict = try await eventually("\(identifier) verified at \(node)") { try await hall.verify(identifier, at: node) }
                    #expect(verdict.authenticity == .authentic, "\(identifier) at \(node): \(verdict.authenticity)")
                }
            }
            let chain = try await eventually("the restored approval service answering") {
                try await hall.clients.approval(county).verifyAuditChain(Approval_VerifyAuditChainRequest(), metadata: try hall.clients.metadata(.operator, "ops-1", node: county))
            }
            #expect(chain.intact, "audit chain: \(chain.message)")
            #expect(chain.entriesChecked > 0)
            var undelivered = waitingBefore
            for _ in 0..<120 where undelivered > 0 {
                try await Task.sleep(for: .milliseconds(500))
                undelivered = try await Self.undeliveredToEvaluation(cluster, county: county)
            }
            #expect(undelivered == 0, "the events waiting at the backup were delivered after the restore")
            let next = try await Lifecycle(hall: hall, route: .countyFood, key: "backup-after", stepTimeout: .seconds(120)).run()
            // The log goes on from the restored tree: the new licence is logged in a larger tree.
            let grown = try await eventually("the new licence in a tree larger than the backed-up one") {
                let answer = try await hall.verify(next.licenceIdentifier, at: county)
                return answer.includedInLog && answer.inclusion.treeHead.treeSize > before.inclusion.treeHead.treeSize ? answer : nil
            }
            #expect(grown.authenticity == .authentic)
        }
    }

    /// Events for the county's evaluation not yet delivered, across the county's outboxes.
    static func undeliveredToEvaluation(_ cluster: LocalCluster, county: String) async throws -> Int64 {
        var total: Int64 = 0
        for service in ServiceName.allCases where service != .evaluation {
            let client = PostgresClient(conninfo: try cluster.conninfo(ServiceAddress(service, county)), maxConnections: 1, logger: .init(label: "test"))
            do {
                total += try await client.query("SELECT count(*)::int8 AS n FROM outbox WHERE delivered_at IS NULL AND destination LIKE 'evaluation@%'").one().decode("n", as: Int64.self)
            } catch {
                await client.shutdown()
                throw error
            }
            await client.shutdown()
        }
        return total
    }

    static var cli: String { buildDirectory.appendingPathComponent("oneseal").path }
}
