import Foundation
import GRPCCore
import OneSealLocalCluster
import OneSealProto
import OneSealStore
import OneSealTestSupport
import Testing

/// Issue #22 item 3: upgrades lose nothing. Both nodes start on the previous release's executables
/// (and so its schema), cases are written, then each of the ten services is stopped and started
/// from this build — its new migrations applied at start — one after another while applicants keep
/// coming. Afterwards every case has reached its end, nothing exists twice, the audit chains verify,
/// and every service runs this build.
///
/// It needs the previous release built: `scripts/upgrade-test` builds it (about 20 minutes on two
/// cores, which is why the test command leaves it out) and runs this suite with
/// `ONESEAL_PREVIOUS_BIN_DIR` set; without it the suite is skipped and says so.
@Suite("Rolling upgrade from the previous release (service by service, under load)", .serialized)
struct UpgradeTests {
    static let previous = ProcessInfo.processInfo.environment["ONESEAL_PREVIOUS_BIN_DIR"].map { URL(fileURLWithPath: $0) }
    static let applicants = 15

    @Test("ten services upgraded one by one while 15 applicants apply: every case ends, none twice, audit chains intact",
          .enabled(if: previous != nil, "scripts/upgrade-test builds the previous release and sets ONESEAL_PREVIOUS_BIN_DIR"))
    func rollingUpgradeUnderLoad() async throws {
        let previous = try #require(Self.previous)
        try await withTwoNodes(binDirectory: previous) { cluster, hall in
            // Written on the previous release before the upgrade starts.
            let before = try await Lifecycle(hall: hall, route: .countyFood, key: "upgrade-before", stepTimeout: .seconds(120)).run()
            let outcomes = try await withThrowingTaskGroup(of: Lifecycle.Outcome?.self) { group in
                for index in 0..<Self.applicants {
                    let route: Lifecycle.Route = index % 3 == 2 ? .cityWaterThroughCounty : .countyFood
                    group.addTask {
                        try await Task.sleep(for: .milliseconds(300 * index))
                        return try await Lifecycle(hall: hall, route: route, key: "upgrade-\(index)", stepTimeout: .seconds(240)).run()
                    }
                }
                group.addTask {
                    try await Task.sleep(for: .milliseconds(500))
                    for address in cluster.allAddresses {
                        try await cluster.upgrade(address, to: buildDirectory)
                        if address.service == .intake {
                            // This build's intake takes only stored files: the window scans the
                            // sample materials into its new store (submissions meanwhile retry).
                            let catalogue = try Hall.sampleCatalogue()
                            try await eventually("the sample scans in \(address)'s material store") {
                                try await hall.scanSampleMaterials(catalogue, on: address.node)
                                return true
                            }
                        }
                        try await Task.sleep(for: .milliseconds(300))
                    }
                    return nil
                }
                var outcomes: [Lifecycle.Outcome] = []
                for try await outcome in group { if let outcome { outcomes.append(outcome) } }
                return outcomes
            }
            #expect(outcomes.count == Self.applicants)
            #expect(Set(outcomes.map(\.caseID)).count == Self.applicants)
            #expect(Set(outcomes.map(\.licenceIdentifier)).count == Self.applicants)
            #expect(cluster.allAddresses.allSatisfy { cluster.binDirectory(of: $0) == buildDirectory })
            try await NothingLostTests.nothingTwice(cluster)
            for node in cluster.nodes {
                let verdict = try await eventually("the audit chain of \(node)") {
                    try await hall.clients.approval(node).verifyAuditChain(Approval_VerifyAuditChainRequest(), metadata: try hall.clients.metadata(.operator, "ops-1", node: node))
                }
                #expect(verdict.intact, "audit chain of \(node): \(verdict.message)")
            }
            // The licence issued by the previous release still verifies on this one.
            let old = try await eventually("the pre-upgrade licence") { try await hall.verify(before.licenceIdentifier, at: Hall.county) }
            #expect(old.authenticity == .authentic && old.includedInLog)
        }
    }
}
