import Foundation
import GRPCCore
import OneSealLocalCluster
import OneSealProto
import OneSealStore
import OneSealTestSupport
import Testing

/// Issue #22 item 2: two processes of every service of both nodes on the same database — relays,
/// sweepers, event consumers, the transparency-log integrator and the number counters must be safe
/// with a twin. Applicants keep coming while one replica of each service is killed with SIGKILL in
/// turn (its twin carries on) and started again; afterwards every case has reached its end,
/// nothing exists twice, the audit chains verify and every licence is in its issuer's log.
@Suite("Replicas (two processes of every service on one database, one of each killed in turn)", .serialized)
struct ReplicaTests {
    static let applicants = 16

    @Test("two replicas of all ten services at load, one of each killed -9 in turn: every case ends, none twice, audit chains and logs verify")
    func twoReplicasOfEveryService() async throws {
        try await withTwoNodes(replicas: 2) { cluster, hall in
            let outcomes = try await withThrowingTaskGroup(of: Lifecycle.Outcome?.self) { group in
                for index in 0..<Self.applicants {
                    let route: Lifecycle.Route = index % 3 == 2 ? .cityWaterThroughCounty : .countyFood
                    group.addTask {
                        try await Task.sleep(for: .milliseconds(200 * index))
                        return try await Lifecycle(hall: hall, route: route, key: "replica-\(index)", stepTimeout: .seconds(180)).run()
                    }
                }
                group.addTask {
                    // One replica of each service killed and restarted in turn, alternating which.
                    try await Task.sleep(for: .milliseconds(500))
                    for (index, address) in cluster.allAddresses.enumerated() {
                        await cluster.kill(address, replica: index % 2)
                        try await Task.sleep(for: .milliseconds(300))
                        try await cluster.restart(address, replica: index % 2)
                    }
                    return nil
                }
                var outcomes: [Lifecycle.Outcome] = []
                for try await outcome in group { if let outcome { outcomes.append(outcome) } }
                return outcomes
            }
            #expect(outcomes.count == Self.applicants)
            #expect(Set(outcomes.map(\.applicationID)).count == Self.applicants)
            #expect(Set(outcomes.map(\.caseID)).count == Self.applicants)
            #expect(Set(outcomes.map(\.licenceIdentifier)).count == Self.applicants, "licence numbers from two counters never collide")
            try await NothingLostTests.nothingTwice(cluster)
            try await Self.numbersOnce(cluster)
            for node in cluster.nodes {
                let verdict = try await eventually("the audit chain of \(node)") {
                    try await hall.clients.approval(node).verifyAuditChain(Approval_VerifyAuditChainRequest(), metadata: try hall.clients.metadata(.operator, "ops-1", node: node))
                }
                #expect(verdict.intact, "audit chain of \(node): \(verdict.message)")
            }
            // The transparency log: every licence included in its issuer's signed tree head, which
            // one integrator at a time extended (a second would fork the tree).
            for outcome in outcomes {
                let logged = try await eventually("\(outcome.licenceIdentifier) in its issuer's log") {
                    let answer = try await hall.verify(outcome.licenceIdentifier, at: Hall.county)
                    return answer.includedInLog ? answer : nil
                }
                #expect(logged.authenticity == .authentic)
            }
        }
    }

    /// Application, case and licence numbers were each handed out once although two processes
    /// drew from every counter.
    static func numbersOnce(_ cluster: LocalCluster) async throws {
        try await NothingLostTests.expectNoRows(cluster, [
            (.intake, "SELECT count(*)::int8 AS n FROM (SELECT application_number FROM applications GROUP BY 1 HAVING count(*) > 1) twice"),
            (.approval, "SELECT count(*)::int8 AS n FROM (SELECT case_number FROM cases GROUP BY 1 HAVING count(*) > 1) twice"),
            (.certificate, "SELECT count(*)::int8 AS n FROM (SELECT licence_number FROM licences WHERE version = 1 GROUP BY 1 HAVING count(*) > 1) twice"),
        ], "numbers handed out twice")
    }
}
