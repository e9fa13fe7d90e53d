import Foundation
import OneSealStore
import OneSealTestSupport
import Synchronization
import Testing

struct ExpectedFailure: Error {}

@Suite("Transactions and errors")
struct TransactionTests {
    @Test func commitAndRollback() async throws {
        try await withTestDatabase(prefix: "tx") { client in
            try await client.execute("CREATE TABLE t (v int)")
            _ = try await client.withTransaction { tx in
                try await tx.execute("INSERT INTO t VALUES (1)")
            }
            await #expect(throws: ExpectedFailure.self) {
                try await client.withTransaction { tx in
                    try await tx.execute("INSERT INTO t VALUES (2)")
                    throw ExpectedFailure()
                }
            }
            let rows = try await client.query("SELECT v FROM t ORDER BY v")
            #expect(try rows.map { try $0.decode("v", as: Int.self) } == [1])
        }
    }

    /// What a writer asks to learn after the commit runs after COMMIT succeeded, in the order
    /// asked, and never for a transaction that rolled back (or for an attempt run again);
    /// outside a transaction it runs at once.
    @Test func afterCommitRunsOnlyOnceCommitted() async throws {
        try await withTestDatabase(prefix: "after") { client in
            try await client.execute("CREATE TABLE t (v int PRIMARY KEY)")
            let seen = Mutex<[String]>([])
            try await client.withTransaction { tx in
                try await tx.execute("INSERT INTO t VALUES (1)")
                tx.afterCommit { seen.withLock { $0.append("first") } }
                tx.afterCommit { seen.withLock { $0.append("second") } }
                // Not yet: the transaction is still open.
                #expect(seen.withLock { $0 }.isEmpty)
            }
            #expect(seen.withLock { $0 } == ["first", "second"])
            await #expect(throws: ExpectedFailure.self) {
                try await client.withTransaction { tx in
                    try await tx.execute("INSERT INTO t VALUES (2)")
                    tx.afterCommit { seen.withLock { $0.append("rolled back") } }
                    throw ExpectedFailure()
                }
            }
            // A COMMIT that fails (a deferred statement's error) runs nothing either.
            await #expect(throws: PostgresError.self) {
                try await client.withTransaction { tx in
                    try await tx.executeWithNext("INSERT INTO t VALUES (1)")
                    tx.afterCommit { seen.withLock { $0.append("commit failed") } }
                }
            }
            try await client.withConnection { connection in
                connection.afterCommit { seen.withLock { $0.append("autocommit") } }
            }
            #expect(seen.withLock { $0 } == ["first", "second", "autocommit"])
        }
    }

    @Test func uniqueViolationCarriesFields() async throws {
        try await withTestDatabase(prefix: "uniq") { client in
            try await client.execute("CREATE TABLE people (id int CONSTRAINT people_pk PRIMARY KEY)")
            try await client.execute("INSERT INTO people VALUES (1)")
            do {
                try await client.execute("INSERT INTO people VALUES (1)")
                Issue.record("duplicate insert succeeded")
            } catch let error as PostgresError {
                #expect(error.sqlState == "23505")
                #expect(error.isUniqueViolation)
                #expect(error.constraint == "people_pk")
                #expect(error.table == "people")
                #expect(error.detail?.contains("(id)=(1)") == true)
                #expect(error.kind == .server)
            }
            // The connection that saw the error is still usable.
            #expect(try await client.query("SELECT count(*) AS n FROM people").one().decode("n", as: Int.self) == 1)
        }
    }

    /// Two SERIALIZABLE transactions read what the other writes; PostgreSQL aborts one with 40001
    /// and withTransaction runs it again, so both end up committed.
    @Test func serializationFailureIsRetried() async throws {
        try await withTestDatabase(prefix: "serial") { client in
            try await client.execute("CREATE TABLE doctors (name text PRIMARY KEY, on_call bool NOT NULL)")
            try await client.execute("INSERT INTO doctors VALUES ('alice', true), ('bob', true)")
            let attempts = AttemptLog()
            let bothRead = Barrier(parties: 2)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for name in ["alice", "bob"] {
                    group.addTask {
                        try await client.withTransaction(isolation: .serializable, maxAttempts: 5) { tx in
                            let attempt = attempts.next(name)
                            let onCall = try await tx.query("SELECT count(*) AS n FROM doctors WHERE on_call").one()
                                .decode("n", as: Int.self)
                            if attempt == 1 { await bothRead.arrive() }
                            if onCall >= 2 {
                                try await tx.execute("UPDATE doctors SET on_call = false WHERE name = \(name)")
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let total = attempts.total
            #expect(total == 3, "exactly one of the two transactions must have been retried once")
            // The retry re-ran the closure with a fresh read, saw the other's commit and kept its
            // doctor on call: the invariant "someone stays on call" holds.
            let offCall = try await client.query("SELECT count(*) AS n FROM doctors WHERE NOT on_call").one()
            #expect(try offCall.decode("n", as: Int.self) == 1)
        }
    }

    @Test func serializationFailureSurfacesWhenAttemptsRunOut() async throws {
        try await withTestDatabase(prefix: "serial1") { client in
            try await client.execute("CREATE TABLE c (k int PRIMARY KEY, v int)")
            try await client.execute("INSERT INTO c VALUES (1, 0), (2, 0)")
            let bothRead = Barrier(parties: 2)
            let results = try await withThrowingTaskGroup(of: PostgresError?.self) { group in
                for key in [1, 2] {
                    group.addTask {
                        do {
                            try await client.withTransaction(isolation: .serializable, maxAttempts: 1) { tx in
                                _ = try await tx.query("SELECT sum(v) FROM c")
                                await bothRead.arrive()
                                try await tx.execute("UPDATE c SET v = v + 1 WHERE k = \(key)")
                            }
                            return nil
                        } catch let error as PostgresError {
                            return error
                        }
                    }
                }
                return try await group.reduce(into: [PostgresError?]()) { $0.append($1) }
            }
            let failures = results.compactMap { $0 }
            #expect(failures.count == 1)
            #expect(failures.first?.isSerializationFailure == true)
        }
    }
}

/// Lets N tasks wait until all have arrived (used to force a real interleaving, not a timing).
final class Barrier: Sendable {
    private let state: Mutex<(count: Int, waiters: [CheckedContinuation<Void, Never>])>
    private let parties: Int

    init(parties: Int) {
        self.parties = parties
        self.state = Mutex((0, []))
    }

    func arrive() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let release: [CheckedContinuation<Void, Never>] = state.withLock { state in
                state.count += 1
                state.waiters.append(continuation)
                if state.count >= parties {
                    defer { state.waiters = [] }
                    return state.waiters
                }
                return []
            }
            for waiter in release { waiter.resume() }
        }
    }
}

/// Counts closure runs per key across concurrent transactions.
final class AttemptLog: Sendable {
    private let counts = Mutex<[String: Int]>([:])

    func next(_ key: String) -> Int {
        counts.withLock { counts in
            counts[key, default: 0] += 1
            return counts[key]!
        }
    }

    var total: Int { counts.withLock { $0.values.reduce(0, +) } }
}
