import Foundation
import OneSealStore
import OneSealTestSupport
import Testing

/// A transaction's BEGIN travels with its first statement (libpq pipeline mode): one round trip
/// instead of two (#21). These check, with and without the statement cache, that the pipeline is
/// still an ordinary transaction block — the first statement's effect commits and rolls back with
/// the rest, the isolation level holds — and that a first statement the server refuses (at
/// Parse or at Execute) surfaces as its own error on a connection that stays usable.
@Suite("BEGIN pipelined with the first statement")
struct PipelinedBeginTests {
    /// One connection with the statement cache on (`prepared`) and one with it off.
    static func withClients(_ prefix: String, _ body: (_ client: PostgresClient, _ label: String) async throws -> Void) async throws {
        try await withTestDatabase(prefix: prefix) { _, database in
            for capacity in [256, 0] {
                let client = PostgresClient(configuration: PostgresClientConfiguration(
                    conninfo: database.conninfo, maxConnections: 1, preparedStatementCacheCapacity: capacity))
                do {
                    try await body(client, capacity == 0 ? "unprepared" : "prepared")
                } catch {
                    await client.shutdown()
                    throw error
                }
                await client.shutdown()
            }
        }
    }

    @Test func firstStatementCommitsAndRollsBackWithItsTransaction() async throws {
        try await Self.withClients("pipecommit") { client, label in
            try await client.execute("CREATE TABLE IF NOT EXISTS t (label text, v int)")
            // Twice each: the second time the statement is cached (Bind/Execute only).
            for v in [1, 2] {
                try await client.withTransaction { tx in
                    try await tx.execute("INSERT INTO t VALUES (\(label), \(v))")
                    try await tx.execute("INSERT INTO t VALUES (\(label), \(v * 10))")
                }
                await #expect(throws: ExpectedFailure.self) {
                    try await client.withTransaction { tx in
                        // Only the first statement ran: the Sync after it must not have committed it.
                        try await tx.execute("INSERT INTO t VALUES (\(label), \(v + 100))")
                        throw ExpectedFailure()
                    }
                }
            }
            let values = try await client.query("SELECT v FROM t WHERE label = \(label) ORDER BY v").map { try $0.decode("v", as: Int.self) }
            #expect(values == [1, 2, 10, 20], "\(label)")
        }
    }

    @Test func isolationLevelHoldsForTheFirstStatement() async throws {
        try await Self.withClients("pipeiso") { client, label in
            let level = try await client.withTransaction(isolation: .serializable) { tx in
                try await tx.query("SELECT current_setting('transaction_isolation') AS level").one().decode("level", as: String.self)
            }
            #expect(level == "serializable", "\(label)")
            let inBlock = try await client.withTransaction { tx in
                // now() is the transaction's start: the same for both statements only inside one block.
                let first = try await tx.query("SELECT now()::text AS t, pg_sleep(0.01)::text AS s").one().decode("t", as: String.self)
                let second = try await tx.query("SELECT now()::text AS t").one().decode("t", as: String.self)
                return first == second
            }
            #expect(inBlock, "\(label)")
        }
    }

    @Test func refusedFirstStatementSurfacesAndLeavesTheConnectionUsable() async throws {
        try await Self.withClients("pipefail") { client, label in
            try await client.execute("CREATE TABLE IF NOT EXISTS people (id int CONSTRAINT people_pk PRIMARY KEY)")
            try await client.execute("INSERT INTO people VALUES (1) ON CONFLICT DO NOTHING")
            let pid = try await client.query("SELECT pg_backend_pid() AS pid").one().decode("pid", as: Int32.self)
            for _ in 0..<2 {
                // Refused at Execute (the statement parses).
                do {
                    try await client.withTransaction { tx in try await tx.execute("INSERT INTO people VALUES (1)") }
                    Issue.record("\(label): duplicate insert succeeded")
                } catch let error as PostgresError {
                    #expect(error.sqlState == "23505", "\(label)")
                    #expect(error.constraint == "people_pk", "\(label)")
                    #expect(error.kind == .server, "\(label)")
                }
                // Refused at Parse (no such table): nothing is cached for it.
                do {
                    try await client.withTransaction { tx in try await tx.execute("INSERT INTO no_such_table VALUES (\(1))") }
                    Issue.record("\(label): insert into a missing table succeeded")
                } catch let error as PostgresError {
                    #expect(error.sqlState == "42P01", "\(label)")
                    #expect(error.kind == .server, "\(label)")
                }
            }
            // The same session goes on: not in pipeline mode, not in an aborted block.
            let after = try await client.withTransaction { tx in
                try await tx.query("SELECT pg_backend_pid() AS pid, count(*) AS n FROM people").one()
            }
            #expect(try after.decode("pid", as: Int32.self) == pid, "\(label)")
            #expect(try after.decode("n", as: Int.self) == 1, "\(label)")
        }
    }
}
