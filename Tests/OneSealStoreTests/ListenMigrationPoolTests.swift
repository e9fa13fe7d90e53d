import Foundation
import OneSealStore
import OneSealTestSupport
import Testing

@Suite("LISTEN/NOTIFY, migrations, pool")
struct ListenMigrationPoolTests {
    @Test func notifyIsReceivedByListen() async throws {
        try await withTestDatabase(prefix: "listen") { client in
            let notifications = try await client.listen(channel: "events")
            try await client.notify(channel: "events", payload: "first")
            try await client.withTransaction { tx in
                try await PostgresClient.notify(channel: "events", payload: "in tx 'quoted'", on: tx)
            }
            var iterator = notifications.makeAsyncIterator()
            let first = await iterator.next()
            let second = await iterator.next()
            #expect(first?.channel == "events")
            #expect(first?.payload == "first")
            #expect(second?.payload == "in tx 'quoted'")
        }
    }

    @Test func listenerReconnectsAfterItsBackendIsTerminated() async throws {
        try await withTestDatabase(prefix: "relisten") { client, database in
            let notifications = try await client.listen(channel: "jobs")
            var iterator = notifications.makeAsyncIterator()
            // Kill the LISTEN backend, then keep notifying until the re-LISTENed connection hears one.
            try await client.execute(
                "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE datname = \(database.name) AND query LIKE 'LISTEN%'")
            let sender = Task {
                for i in 0..<600 {
                    try await client.notify(channel: "jobs", payload: "after-\(i)")
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
            // The stream says the connection was lost, then that it listens again, then hears.
            let lost = await iterator.next()
            let resumed = await iterator.next()
            let received = await iterator.next()
            sender.cancel()
            #expect(lost?.interruption == .lost && resumed?.interruption == .resumed)
            #expect(received?.interruption == nil && received?.payload.hasPrefix("after-") == true)
        }
    }

    static let migrations = [
        Migration(version: 1, name: "create_cases", sql: "CREATE TABLE cases (id bigserial PRIMARY KEY, title text NOT NULL);"),
        Migration(version: 2, name: "add_state", sql: "ALTER TABLE cases ADD COLUMN state text NOT NULL DEFAULT 'new'; CREATE INDEX cases_state ON cases (state);"),
        Migration(version: 3, name: "seed", sql: "INSERT INTO cases (title) VALUES ('first');"),
    ]

    @Test func migrationsAreIdempotent() async throws {
        try await withTestDatabase(prefix: "migrate") { client in
            #expect(try await Migrator.apply(Self.migrations, on: client) == [1, 2, 3])
            #expect(try await Migrator.apply(Self.migrations, on: client) == [])
            #expect(try await client.query("SELECT count(*) AS n FROM cases").one().decode("n", as: Int.self) == 1)
            let versions = try await client.query("SELECT version FROM schema_migrations ORDER BY version")
            #expect(try versions.map { try $0.decode("version", as: Int.self) } == [1, 2, 3])
        }
    }

    @Test func concurrentAppliersApplyEachMigrationOnce() async throws {
        try await withTestDatabase(prefix: "migconc") { client, database in
            let applied = try await withThrowingTaskGroup(of: [Int].self) { group in
                for _ in 0..<5 {
                    group.addTask {
                        // Separate clients: like five replicas starting at once.
                        let own = database.makeClient(maxConnections: 1)
                        do {
                            let versions = try await Migrator.apply(Self.migrations, on: own)
                            await own.shutdown()
                            return versions
                        } catch {
                            await own.shutdown()
                            throw error
                        }
                    }
                }
                return try await group.reduce(into: [Int]()) { $0 += $1 }
            }
            #expect(applied.sorted() == [1, 2, 3])
            #expect(try await client.query("SELECT count(*) AS n FROM cases").one().decode("n", as: Int.self) == 1)
        }
    }

    @Test func changedMigrationIsRefused() async throws {
        try await withTestDatabase(prefix: "migsum") { client in
            try await Migrator.apply(Self.migrations, on: client)
            var edited = Self.migrations
            edited[0].sql += " -- edited"
            edited.append(Migration(version: 4, name: "later", sql: "CREATE TABLE later (x int);"))
            do {
                try await Migrator.apply(edited, on: client)
                Issue.record("an edited migration was accepted")
            } catch let error as MigrationError {
                guard case .checksumMismatch(let version, _, _, _) = error else {
                    Issue.record("wrong error \(error)")
                    return
                }
                #expect(version == 1)
            }
            // Nothing after the refusal was applied.
            let later = try await client.query("SELECT to_regclass('later') IS NULL AS absent").one()
            #expect(try later.decode("absent", as: Bool.self))
        }
    }

    @Test func migrationsLoadFromDirectory() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mig-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try "CREATE TABLE b (x int);".write(to: directory.appendingPathComponent("0002_second.sql"), atomically: true, encoding: .utf8)
        try "CREATE TABLE a (x int);".write(to: directory.appendingPathComponent("0001_first_table.sql"), atomically: true, encoding: .utf8)
        try "notes".write(to: directory.appendingPathComponent("README.md"), atomically: true, encoding: .utf8)
        let loaded = try Migration.load(from: directory)
        #expect(loaded.map(\.version) == [1, 2])
        #expect(loaded.map(\.name) == ["first_table", "second"])
    }

    @Test func poolReconnectsAfterBackendsAreTerminated() async throws {
        try await withTestDatabase(prefix: "reconnect", maxConnections: 3) { client, database in
            // Open three pooled connections by holding them at once.
            let pids = try await withThrowingTaskGroup(of: Int32.self) { group in
                let barrier = Barrier(parties: 3)
                for _ in 0..<3 {
                    group.addTask {
                        try await client.withConnection { connection in
                            _ = try await connection.query("SELECT 1")
                            await barrier.arrive()
                            return connection.backendPID
                        }
                    }
                }
                return try await group.reduce(into: Set<Int32>()) { $0.insert($1) }
            }
            #expect(pids.count == 3)
            let admin = PostgresClient(conninfo: database.adminConninfo, maxConnections: 1)
            let killed = try await admin.query(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000)) AS n FROM pg_stat_activity WHERE pid = ANY(\(SQLArray(pids.map { Int($0) })))"
            ).one().decode("n", as: Int.self)
            await admin.shutdown()
            #expect(killed == 3)
            // Every following query succeeds on fresh connections.
            for i in 0..<6 {
                let row = try await client.query("SELECT \(i)::int8 AS i, pg_backend_pid() AS pid").one()
                #expect(try row.decode("i", as: Int.self) == i)
                #expect(!pids.contains(try row.decode("pid", as: Int32.self)))
            }
        }
    }

    @Test func createDatabaseIfMissingIsIdempotent() async throws {
        let admin = PostgresClient(conninfo: try TestDatabase.adminConninfo(), maxConnections: 1)
        let name = "t_admin_\(UUID().uuidString.prefix(8).lowercased())"
        #expect(try await admin.createDatabaseIfMissing(name: name) == true)
        #expect(try await admin.createDatabaseIfMissing(name: name) == false)
        try await admin.dropDatabaseIfExists(name: name)
        await #expect(throws: SQLIdentifierError.self) { try await admin.createDatabaseIfMissing(name: "bad\"; DROP DATABASE postgres; --") }
        await admin.shutdown()
    }
}
