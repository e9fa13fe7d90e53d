import Foundation
import OneSealStore
import OneSealTestSupport
import Testing

/// The per-connection prepared statement cache, observed from the server's side through
/// `pg_prepared_statements` (which lists the statements of the session that queries it). Every
/// client here has one connection, so each query sees the session the previous ones used.
@Suite("Prepared statement cache")
struct PreparedStatementTests {
    /// The session's prepared statements as "text parameter-types", leaving out this query itself.
    static func preparedStatements(_ client: PostgresClient) async throws -> [String] {
        try await client.query(
            """
            SELECT statement || ' ' || parameter_types::text AS s FROM pg_prepared_statements
            WHERE statement NOT LIKE '%pg_prepared_statements%' ORDER BY 1
            """
        ).map { try $0.decode("s", as: String.self) }
    }

    @Test func repeatedStatementIsPreparedOncePerParameterTypes() async throws {
        try await withTestDatabase(prefix: "prep", maxConnections: 1) { client async throws in
            for i in 0..<3 {
                #expect(try await client.query("SELECT \(i) AS v").one().decode("v", as: Int.self) == i)
            }
            #expect(try await client.query("SELECT \("text") AS v").one().decode("v", as: String.self) == "text")
            #expect(try await Self.preparedStatements(client) == ["SELECT $1 AS v {bigint}", "SELECT $1 AS v {text}"])
        }
    }

    /// `SELECT *` prepared before ALTER TABLE ADD COLUMN fails on the server with "cached plan
    /// must not change result type"; the client prepares it again instead of surfacing that.
    @Test func alteredTableRepreparesInsteadOfFailing() async throws {
        try await withTestDatabase(prefix: "prepalter", maxConnections: 1) { client in
            try await client.execute("CREATE TABLE cases (id int PRIMARY KEY)")
            try await client.execute("INSERT INTO cases VALUES (1)")
            #expect(try await client.query("SELECT * FROM cases").columns.names == ["id"])

            try await client.execute("ALTER TABLE cases ADD COLUMN state text NOT NULL DEFAULT 'new'")
            // Autocommit: the failed statement had no effect, so it is simply sent again.
            let row = try await client.query("SELECT * FROM cases").one()
            #expect(row.columns.names == ["id", "state"])
            #expect(try row.decode("state", as: String.self) == "new")

            try await client.execute("ALTER TABLE cases ADD COLUMN note text")
            // In a transaction the stale plan aborts the first attempt; the closure runs again.
            let attempts = AttemptLog()
            let names = try await client.withTransaction { tx in
                _ = attempts.next("tx")
                return try await tx.query("SELECT * FROM cases").columns.names
            }
            #expect(names == ["id", "state", "note"])
            #expect(attempts.total == 2)
        }
    }

    /// Statements dropped behind the cache's back (26000 "prepared statement does not exist")
    /// are prepared again, in autocommit and inside a transaction.
    @Test func statementsDeallocatedBehindTheCacheArePreparedAgain() async throws {
        try await withTestDatabase(prefix: "prepgone", maxConnections: 1) { client in
            try await client.execute("CREATE TABLE t (v int8)")
            try await client.execute("INSERT INTO t VALUES (\(1))")
            try await client.withConnection { try await $0.executeScript("DEALLOCATE ALL") }
            try await client.execute("INSERT INTO t VALUES (\(2))")

            try await client.withConnection { try await $0.executeScript("DEALLOCATE ALL") }
            let attempts = AttemptLog()
            try await client.withTransaction { tx in
                _ = attempts.next("tx")
                try await tx.execute("INSERT INTO t VALUES (\(3))")
            }
            #expect(attempts.total == 2)
            let values = try await client.query("SELECT v FROM t ORDER BY v").map { try $0.decode("v", as: Int.self) }
            #expect(values == [1, 2, 3])
        }
    }

    /// After the backend is killed the pool opens a new connection, whose cache starts empty:
    /// the same statement is prepared again on the new backend instead of failing with a name
    /// the new backend never saw.
    @Test func cacheStartsOverOnAReconnectedConnection() async throws {
        try await withTestDatabase(prefix: "prepreconn", maxConnections: 1) { client, database in
            func probe(_ value: Int) async throws -> (pid: Int32, value: Int) {
                let row = try await client.query("SELECT pg_backend_pid() AS pid, \(value) AS v").one()
                return (try row.decode("pid", as: Int32.self), try row.decode("v", as: Int.self))
            }
            let first = try await probe(1)
            #expect(first.value == 1)
            let admin = PostgresClient(conninfo: database.adminConninfo, maxConnections: 1)
            let killed = try await admin.query("SELECT pg_terminate_backend(\(first.pid), 5000) AS ok").one()
            await admin.shutdown()
            #expect(try killed.decode("ok", as: Bool.self))

            let second = try await probe(2)
            #expect(second.pid != first.pid)
            #expect(second.value == 2)
            #expect(try await Self.preparedStatements(client) == ["SELECT pg_backend_pid() AS pid, $1 AS v {bigint}"])
        }
    }

    @Test func capacityEvictsLeastRecentlyUsedAndZeroTurnsCachingOff() async throws {
        try await withTestDatabase(prefix: "prepcap") { _, database in
            let small = PostgresClient(
                configuration: PostgresClientConfiguration(
                    conninfo: database.conninfo, maxConnections: 1, preparedStatementCacheCapacity: 2))
            let off = PostgresClient(
                configuration: PostgresClientConfiguration(
                    conninfo: database.conninfo, maxConnections: 1, preparedStatementCacheCapacity: 0))
            do {
                for sql: SQLQuery in ["SELECT 1 AS a", "SELECT 2 AS b", "SELECT 3 AS c"] {
                    _ = try await small.query(sql)
                    _ = try await off.query(sql)
                }
                // "a" was evicted when "c" came in, and deallocated before the next statement; the
                // listing query itself then pushed out "b", whose DEALLOCATE is still pending.
                #expect(try await Self.preparedStatements(small) == ["SELECT 2 AS b {}", "SELECT 3 AS c {}"])
                _ = try await small.query("SELECT 4 AS d")
                #expect(try await Self.preparedStatements(small) == ["SELECT 4 AS d {}"])
                #expect(try await Self.preparedStatements(off) == [])
            } catch {
                await small.shutdown()
                await off.shutdown()
                throw error
            }
            await small.shutdown()
            await off.shutdown()
        }
    }
}
