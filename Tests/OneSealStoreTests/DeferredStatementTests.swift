import Foundation
import OneSealStore
import OneSealTestSupport
import Testing

/// `executeWithNext`: a statement nobody waits for rides with the transaction's next statement or
/// its COMMIT (#21). What these pin down: it runs, in order, before whatever follows it; it
/// commits and rolls back with its transaction; its error fails the call that carried it, and the
/// transaction commits nothing; outside a transaction it runs at once.
@Suite("Statements sent with the next one")
struct DeferredStatementTests {
    @Test func runsInOrderAndCommitsWithItsTransaction() async throws {
        try await PipelinedBeginTests.withClients("defer") { client, label in
            try await client.execute("CREATE TABLE IF NOT EXISTS t (label text, v int)")
            for round in 0..<2 {  // the second time every statement is cached
                let seen = try await client.withTransaction { tx in
                    try await tx.executeWithNext("INSERT INTO t VALUES (\(label), \(round * 10 + 1))")
                    try await tx.executeWithNext("INSERT INTO t VALUES (\(label), \(round * 10 + 2))")
                    // The next statement sees both: they ran before it, in this transaction.
                    return try await tx.query("SELECT count(*)::int8 AS n FROM t WHERE label = \(label)").one().decode("n", as: Int.self)
                }
                #expect(seen == round * 3 + 2, "\(label)")
                // Deferred to the COMMIT itself (nothing after it in the transaction).
                try await client.withTransaction { tx in
                    try await tx.executeWithNext("INSERT INTO t VALUES (\(label), \(round * 10 + 3))")
                }
                // Rolled back with the transaction, never sent.
                await #expect(throws: ExpectedFailure.self) {
                    try await client.withTransaction { tx in
                        try await tx.executeWithNext("INSERT INTO t VALUES (\(label), \(round * 10 + 9))")
                        throw ExpectedFailure()
                    }
                }
            }
            let values = try await client.query("SELECT v FROM t WHERE label = \(label) ORDER BY v").map { try $0.decode("v", as: Int.self) }
            #expect(values == [1, 2, 3, 11, 12, 13], "\(label)")
        }
    }

    @Test func itsErrorFailsTheCarryingCallAndNothingCommits() async throws {
        try await PipelinedBeginTests.withClients("defererr") { client, label in
            try await client.execute("CREATE TABLE IF NOT EXISTS people (id int CONSTRAINT people_pk PRIMARY KEY, label text)")
            try await client.execute("INSERT INTO people VALUES (1, 'seed') ON CONFLICT DO NOTHING")
            // Carried by the next statement: that call throws the deferred statement's error.
            do {
                _ = try await client.withTransaction { tx in
                    try await tx.execute("INSERT INTO people VALUES (\(label == "prepared" ? 2 : 3), \(label))")
                    try await tx.executeWithNext("INSERT INTO people VALUES (1, \(label))")
                    return try await tx.query("SELECT 1 AS one").one().decode("one", as: Int.self)
                }
                Issue.record("\(label): a duplicate key committed")
            } catch let error as PostgresError {
                #expect(error.sqlState == "23505" && error.constraint == "people_pk", "\(label)")
            }
            // Carried by the COMMIT.
            do {
                try await client.withTransaction { tx in
                    try await tx.execute("INSERT INTO people VALUES (\(label == "prepared" ? 4 : 5), \(label))")
                    try await tx.executeWithNext("INSERT INTO people VALUES (1, \(label))")
                }
                Issue.record("\(label): a duplicate key committed")
            } catch let error as PostgresError {
                #expect(error.sqlState == "23505", "\(label)")
            }
            // Neither transaction left anything; the connection goes on.
            #expect(try await client.query("SELECT count(*)::int8 AS n FROM people WHERE label = \(label)").one().decode("n", as: Int.self) == 0)
        }
    }

    @Test func runsBeforeAScriptAndAtOnceOutsideATransaction() async throws {
        try await PipelinedBeginTests.withClients("deferscript") { client, label in
            try await client.execute("CREATE TABLE IF NOT EXISTS t (label text, v int)")
            // Before a savepoint's script: rolled back to the savepoint set after it, it stays.
            try await client.withTransaction { tx in
                try await tx.executeWithNext("INSERT INTO t VALUES (\(label), 1)")
                try await tx.executeScript("SAVEPOINT s")
                try await tx.execute("INSERT INTO t VALUES (\(label), 2)")
                try await tx.executeScript("ROLLBACK TO SAVEPOINT s")
            }
            // Outside a transaction: run (and committed) before the call returns.
            try await client.withConnection { connection in
                try await connection.executeWithNext("INSERT INTO t VALUES (\(label), 3)")
            }
            let values = try await client.query("SELECT v FROM t WHERE label = \(label) ORDER BY v").map { try $0.decode("v", as: Int.self) }
            #expect(values == [1, 3], "\(label)")
        }
    }
}
