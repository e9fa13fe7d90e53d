import Foundation
import Logging
import OneSealStore

/// A fresh, uniquely named database on the throwaway cluster that `scripts/with-postgres` (used
/// by `scripts/test`) starts, so tests never share state and never touch a real database.
public struct TestDatabase: Sendable {
    /// The variable holding the admin conninfo of the throwaway cluster.
    public static let environmentVariable = "ONESEAL_TEST_POSTGRES"

    public let name: String
    /// libpq conninfo of the fresh database (same server and user as the admin conninfo).
    public let conninfo: String
    public let adminConninfo: String

    /// The admin conninfo from the environment; fails loudly (tests must not silently skip).
    public static func adminConninfo() throws -> String {
        guard let value = ProcessInfo.processInfo.environment[environmentVariable], !value.isEmpty else {
            throw TestDatabaseError.notConfigured
        }
        return value
    }

    /// Creates a new database named `t_<prefix>_<random>`.
    public static func create(prefix: String = "test") async throws -> TestDatabase {
        let admin = try adminConninfo()
        let safePrefix = String(prefix.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }.prefix(20))
        let name = "t_\(safePrefix)_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16))"
        let client = PostgresClient(conninfo: admin, maxConnections: 1)
        do {
            try await client.createDatabaseIfMissing(name: name)
        } catch {
            await client.shutdown()
            throw error
        }
        await client.shutdown()
        return TestDatabase(name: name, conninfo: try PostgresConnInfo.replacingDatabase(in: admin, with: name), adminConninfo: admin)
    }

    /// Drops the database, terminating any sessions still connected.
    public func drop() async throws {
        let client = PostgresClient(conninfo: adminConninfo, maxConnections: 1)
        do {
            try await client.dropDatabaseIfExists(name: name, force: true)
        } catch {
            await client.shutdown()
            throw error
        }
        await client.shutdown()
    }

    /// A new client on this database.
    public func makeClient(maxConnections: Int = 10, label: String = "oneseal.test") -> PostgresClient {
        var logger = Logger(label: label)
        logger.logLevel = .warning
        return PostgresClient(conninfo: conninfo, maxConnections: maxConnections, logger: logger)
    }
}

public enum TestDatabaseError: Error, CustomStringConvertible {
    case notConfigured

    public var description: String {
        "ONESEAL_TEST_POSTGRES is not set. These tests need a real PostgreSQL: run them with `scripts/with-postgres swift test` (or `scripts/test`), which starts a throwaway cluster and sets it."
    }
}

/// Runs `body` with a client on a fresh database that is dropped afterwards (also on failure).
public func withTestDatabase<T>(
    prefix: String = "test", maxConnections: Int = 10,
    _ body: (PostgresClient, TestDatabase) async throws -> T
) async throws -> T {
    let database = try await TestDatabase.create(prefix: prefix)
    let client = database.makeClient(maxConnections: maxConnections)
    do {
        let value = try await body(client, database)
        await client.shutdown()
        try await database.drop()
        return value
    } catch {
        await client.shutdown()
        try? await database.drop()
        throw error
    }
}

/// Runs `body` with a client on a fresh database that is dropped afterwards (also on failure).
public func withTestDatabase<T>(
    prefix: String = "test", maxConnections: Int = 10,
    _ body: (PostgresClient) async throws -> T
) async throws -> T {
    try await withTestDatabase(prefix: prefix, maxConnections: maxConnections) { client, _ in try await body(client) }
}
