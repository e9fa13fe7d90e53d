import Foundation
import GRPCCore
import OneSealBenchSupport
import OneSealLocalCluster
import OneSealProto
import OneSealStore
import OneSealTestSupport
import Testing

/// docs/architecture.md#the-store: a crash, a restart, a dead link lose nothing. Applicants keep coming while every
/// process of both nodes is killed with SIGKILL once and restarted, PostgreSQL restarts, and the
/// county–city link is cut for a while; afterwards every case has reached its end, nothing exists
/// twice, and the audit chains verify.
@Suite("Nothing lost (kill -9, PostgreSQL restart, link cut; ten processes)", .serialized)
struct NothingLostTests {
    static let applicants = 24

    @Test("at load: every service of both nodes killed -9 and restarted, PostgreSQL restarted, the link cut — every case ends, none twice, audit chains intact")
    func nothingLost() async throws {
        // Its own server: restarting the shared one would cut every other test running meanwhile.
        let postgres = try await OwnPostgres.start()
        do {
            try await Self.run(on: postgres)
        } catch {
            await postgres.stop()
            throw error
        }
        await postgres.stop()
    }

    static func run(on postgres: OwnPostgres) async throws {
        try await withTwoNodes(adminConninfo: postgres.conninfo) { cluster, hall in
            let outcomes = try await withThrowingTaskGroup(of: Lifecycle.Outcome?.self) { group in
                for index in 0..<Self.applicants {
                    let route: Lifecycle.Route = index % 3 == 2 ? .cityWaterThroughCounty : .countyFood
                    group.addTask {
                        // Stagger arrivals so faults hit every stage of the life cycle.
                        try await Task.sleep(for: .milliseconds(150 * index))
                        return try await Lifecycle(hall: hall, route: route, key: "nothing-lost-\(index)", stepTimeout: .seconds(180)).run()
                    }
                }
                group.addTask {
                    try await Self.faults(cluster, postgres: postgres)
                    return nil
                }
                var outcomes: [Lifecycle.Outcome] = []
                for try await outcome in group { if let outcome { outcomes.append(outcome) } }
                return outcomes
            }
            #expect(outcomes.count == Self.applicants)
            #expect(Set(outcomes.map(\.applicationID)).count == Self.applicants)
            #expect(Set(outcomes.map(\.caseID)).count == Self.applicants)
            #expect(Set(outcomes.map(\.licenceIdentifier)).count == Self.applicants)
            try await Self.nothingTwice(cluster)
            for node in cluster.nodes {
                let verdict = try await hall.clients.approval(node).verifyAuditChain(Approval_VerifyAuditChainRequest(), metadata: try hall.clients.metadata(.operator, "ops-1", node: node))
                #expect(verdict.intact, "audit chain of \(node): \(verdict.message)")
                #expect(verdict.entriesChecked > 0)
            }
        }
    }

    /// Kill -9 and restart each of the ten processes in turn, restart PostgreSQL, cut the link.
    static func faults(_ cluster: LocalCluster, postgres: OwnPostgres) async throws {
        try await Task.sleep(for: .seconds(1))
        for address in cluster.allAddresses {
            await cluster.kill(address)
            try await Task.sleep(for: .milliseconds(400))
            try await cluster.restart(address)
        }
        #expect(try await postgres.restart() == 0, "PostgreSQL restarted")
        cluster.cutLinks()
        try await Task.sleep(for: .seconds(4))
        cluster.restoreLinks()
    }

    /// No application opened two cases for one item, no case got two first licences, no department
    /// got the same push twice — checked in each service's own database after the run.
    static func nothingTwice(_ cluster: LocalCluster) async throws {
        try await expectNoRows(cluster, [
            (.approval, "SELECT count(*)::int8 AS n FROM (SELECT application_id, implementation_code FROM cases GROUP BY 1, 2 HAVING count(*) > 1) twice"),
            (.certificate, "SELECT count(*)::int8 AS n FROM (SELECT case_id FROM licences WHERE version = 1 GROUP BY 1 HAVING count(*) > 1) twice"),
            (.supervision, "SELECT count(*)::int8 AS n FROM (SELECT case_id, department_code, kind FROM pushes GROUP BY 1, 2, 3 HAVING count(*) > 1) twice"),
        ], "duplicated rows")
    }

    /// Runs each count query in that service's database on every node and expects 0.
    static func expectNoRows(_ cluster: LocalCluster, _ checks: [(ServiceName, String)], _ what: String) async throws {
        for node in cluster.nodes {
            for (service, sql) in checks {
                let client = PostgresClient(conninfo: try cluster.conninfo(ServiceAddress(service, node)), maxConnections: 1)
                let count = try await client.query(SQLQuery(stringLiteral: sql)).one().decode("n", as: Int.self)
                await client.shutdown()
                #expect(count == 0, "\(service)@\(node): \(count) \(what)")
            }
        }
    }
}
