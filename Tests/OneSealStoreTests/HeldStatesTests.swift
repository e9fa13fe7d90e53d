import Foundation
import OneSealStore
import OneSealTestSupport
import Testing

/// What `HeldStates` relies on, asked of a real PostgreSQL: the `xmin` a write answers is the
/// one a later read sees while nobody else wrote the row, and every other writer — another
/// transaction, a savepoint, a write rolled back — leaves a row version with another `xmin`.
@Suite("Held states")
struct HeldStatesTests {
    /// The row as a read by id that binds the held version sees it: the state, or NULL when held.
    static func read(_ id: Int, held: HeldStates<String>.Entry?, on connection: PostgresConnection) async throws -> String? {
        try await connection.query("SELECT \(HeldStates<String>.stateColumn(held: held)) FROM aggregates WHERE id = \(id) FOR UPDATE")
            .one().decode("state", as: String?.self)
    }

    static func write(_ id: Int, revision: Int64, state: String, into held: HeldStates<String>, on connection: PostgresConnection) async throws {
        let writer = try await connection.query("UPDATE aggregates SET revision = \(revision), state = \(state) WHERE id = \(id) RETURNING xmin::text AS writer")
            .one().decode("writer", as: String.self)
        held.remember(key(id), revision: revision, writer: writer, value: state)
    }

    static func key(_ id: Int) -> UUID { UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, UInt8(id))) }

    @Test("the version written is left out; another transaction's, a savepoint's or a rolled-back write's is not")
    func versions() async throws {
        try await withTestDatabase(prefix: "held") { client in
            try await client.execute("CREATE TABLE aggregates (id int PRIMARY KEY, revision int8 NOT NULL, state text NOT NULL)")
            try await client.execute("INSERT INTO aggregates VALUES (1, 1, 'a')")
            let held = HeldStates<String>(capacity: 8)

            try await client.withTransaction { try await Self.write(1, revision: 2, state: "b", into: held, on: $0) }
            #expect(try await client.withTransaction { try await Self.read(1, held: held.entry(Self.key(1)), on: $0) } == nil)

            // Written again by a transaction that did not remember it: same revision, another xmin.
            try await client.execute("UPDATE aggregates SET state = 'c' WHERE id = 1")
            #expect(try await client.withTransaction { try await Self.read(1, held: held.entry(Self.key(1)), on: $0) } == "c")

            // Remembered in a transaction that rolled back; another commits that revision.
            await #expect(throws: ExpectedFailure.self) {
                try await client.withTransaction { transaction in
                    try await Self.write(1, revision: 3, state: "d", into: held, on: transaction)
                    throw ExpectedFailure()
                }
            }
            try await client.execute("UPDATE aggregates SET revision = 3, state = 'e' WHERE id = 1")
            #expect(try await client.withTransaction { try await Self.read(1, held: held.entry(Self.key(1)), on: $0) } == "e")

            // A savepoint's write carries the savepoint's own xmin: the top-level writer never matches it.
            try await client.withTransaction { transaction in
                try await transaction.execute("SAVEPOINT s")
                try await transaction.execute("UPDATE aggregates SET revision = 4, state = 'f' WHERE id = 1")
                try await transaction.execute("RELEASE SAVEPOINT s")
                let top = try await transaction.query("SELECT pg_current_xact_id()::text AS x").one().decode("x", as: String.self)
                held.remember(Self.key(1), revision: 4, writer: top, value: "not f")
            }
            #expect(try await client.withTransaction { try await Self.read(1, held: held.entry(Self.key(1)), on: $0) } == "f")
        }
    }

    @Test("full, it forgets everything before it holds another aggregate")
    func capacity() {
        let held = HeldStates<String>(capacity: 2)
        held.remember(Self.key(1), revision: 1, writer: "10", value: "a")
        held.remember(Self.key(2), revision: 1, writer: "11", value: "b")
        held.remember(Self.key(2), revision: 2, writer: "12", value: "c")
        #expect(held.count == 2)
        #expect(held.entry(Self.key(2))?.value == "c")
        held.remember(Self.key(3), revision: 1, writer: "13", value: "d")
        #expect(held.count == 1)
        #expect(held.entry(Self.key(1)) == nil)
        #expect(held.entry(Self.key(3))?.revision == 1)
    }
}
