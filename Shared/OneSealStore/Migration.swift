import Foundation

/// One versioned schema change. Versions are applied in ascending order, each once.
public struct Migration: Sendable, Hashable {
    public var version: Int
    public var name: String
    public var sql: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }

    /// Loads `NNNN_name.sql` files from `directory` (e.g. a bundle's `Migrations` resource folder),
    /// sorted by version. Other files are ignored; a repeated version is an error.
    public static func load(from directory: URL) throws -> [Migration] {
        let files = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
        var migrations: [Migration] = []
        for file in files where file.pathExtension == "sql" {
            let base = file.deletingPathExtension().lastPathComponent
            guard let underscore = base.firstIndex(of: "_"), let version = Int(base[..<underscore]) else {
                throw MigrationError.badFileName(file.lastPathComponent)
            }
            let sql = try String(contentsOf: file, encoding: .utf8)
            migrations.append(Migration(version: version, name: String(base[base.index(after: underscore)...]), sql: sql))
        }
        migrations.sort { $0.version < $1.version }
        for (a, b) in zip(migrations, migrations.dropFirst()) where a.version == b.version {
            throw MigrationError.duplicateVersion(a.version)
        }
        return migrations
    }
}

public enum MigrationError: Error, CustomStringConvertible, Sendable, Equatable {
    case badFileName(String)
    case duplicateVersion(Int)
    /// An applied migration's SQL was edited afterwards; write a new migration instead.
    case checksumMismatch(version: Int, name: String, applied: String, current: String)

    public var description: String {
        switch self {
        case .badFileName(let name):
            return "migration file \(name) must be named NNNN_name.sql"
        case .duplicateVersion(let version):
            return "two migrations have version \(version)"
        case .checksumMismatch(let version, let name, let applied, let current):
            return "migration \(version) (\(name)) was changed after it was applied (checksum \(applied) recorded, \(current) now); add a new migration instead of editing an applied one"
        }
    }
}

/// Applies migrations at start-up; safe when several replicas start at once.
public enum Migrator {
    /// Default advisory-lock key (any replicas of one service share the same database and key).
    public static let defaultLockKey: Int64 = 0x4F6E_6553_6561_6C4D  // "OneSealM"

    /// Applies every migration whose version is not yet in `schema_migrations`, in order, each in
    /// its own transaction, while holding `pg_advisory_lock(lockKey)` so concurrent starters wait
    /// and then find nothing to do. Refuses (before applying anything) when an applied migration's
    /// SQL changed. Returns the versions applied by this call.
    @discardableResult
    public static func apply(_ migrations: [Migration], on client: PostgresClient, lockKey: Int64 = defaultLockKey) async throws -> [Int] {
        let sorted = migrations.sorted { $0.version < $1.version }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.version == b.version {
            throw MigrationError.duplicateVersion(a.version)
        }
        return try await client.withConnection { connection in
            try await connection.execute("SELECT pg_advisory_lock(\(lockKey))")
            do {
                let applied = try await applyLocked(sorted, on: connection)
                try await connection.execute("SELECT pg_advisory_unlock(\(lockKey))")
                return applied
            } catch {
                _ = try? await connection.executeScript("ROLLBACK")
                _ = try? await connection.execute("SELECT pg_advisory_unlock(\(lockKey))")
                throw error
            }
        }
    }

    private static func applyLocked(_ migrations: [Migration], on connection: PostgresConnection) async throws -> [Int] {
        try await connection.executeScript(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version bigint PRIMARY KEY,
                name text NOT NULL,
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """)
        var recorded: [Int: String] = [:]
        for row in try await connection.query("SELECT version, checksum FROM schema_migrations") {
            recorded[try row.decode("version", as: Int.self)] = try row.decode("checksum", as: String.self)
        }
        var checksums: [Int: String] = [:]
        for migration in migrations {
            let checksum = try await connection.query(
                "SELECT encode(sha256(convert_to(\(migration.sql), 'UTF8')), 'hex') AS checksum"
            ).one().decode("checksum", as: String.self)
            checksums[migration.version] = checksum
            if let old = recorded[migration.version], old != checksum {
                throw MigrationError.checksumMismatch(version: migration.version, name: migration.name, applied: old, current: checksum)
            }
        }
        var applied: [Int] = []
        for migration in migrations where recorded[migration.version] == nil {
            try await connection.executeScript("BEGIN")
            try await connection.executeScript(migration.sql)
            try await connection.execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES (\(migration.version), \(migration.name), \(checksums[migration.version]!))"
            )
            try await connection.executeScript("COMMIT")
            applied.append(migration.version)
        }
        return applied
    }
}
