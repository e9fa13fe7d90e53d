import ArgumentParser
import Crypto
import Foundation
import OneSealPrivacy
import OneSealStore

/// `oneseal backup create|restore|show`: a node's five service databases (pg_dump's custom format)
/// and its key files in one file sealed with the operator's passphrase (docs/operators.md, "Backups
/// and restore"; decisions D4–D5).
struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Back up a node (its service databases and key files, sealed with a passphrase) and restore it.",
        subcommands: [Create.self, Restore.self, Show.self]
    )

    static let services = ["intake", "approval", "certificate", "supervision", "evaluation"]

    /// One connection for a few statements, closed whatever happens.
    static func withClient<T>(_ conninfo: String, _ body: (PostgresClient) async throws -> T) async throws -> T {
        let client = PostgresClient(conninfo: conninfo, maxConnections: 1, logger: .init(label: "oneseal.backup"))
        do {
            let result = try await body(client)
            await client.shutdown()
            return result
        } catch {
            await client.shutdown()
            throw error
        }
    }

    /// Where each service's database is: `oneseal_<service>_<node>` (compose, scripts/cluster) unless
    /// `--database SERVICE=NAME` says otherwise.
    struct Databases: ParsableArguments {
        @Option(help: "Admin libpq conninfo of the node's PostgreSQL server (its dbname is replaced per service).")
        var postgres: String
        @Option(help: "A service's database when not oneseal_<service>_<node>, as SERVICE=NAME; repeat.")
        var database: [String] = []

        func names(node: String) throws -> [(service: String, database: String)] {
            var overrides: [String: String] = [:]
            for pair in database {
                let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, Backup.services.contains(parts[0]), (try? SQLIdentifier(parts[1])) != nil else {
                    throw ValidationError("--database: '\(pair)' is not SERVICE=NAME with a service of \(Backup.services.joined(separator: ", ")) and a plain database name")
                }
                overrides[parts[0]] = parts[1]
            }
            return Backup.services.map { ($0, overrides[$0] ?? "oneseal_\($0)_\(node)") }
        }
    }

    struct Passphrase: ParsableArguments {
        @Option(help: "File holding the passphrase (its first line; at least 12 characters). Keep it apart from the backups.")
        var passphraseFile: String

        func bytes() throws -> [UInt8] {
            guard let text = FileManager.default.contents(atPath: passphraseFile).flatMap({ String(data: $0, encoding: .utf8) }) else {
                throw ValidationError("--passphrase-file: cannot read \(passphraseFile)")
            }
            let line = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
            guard line.count >= 12 else { throw ValidationError("--passphrase-file: the passphrase must have at least 12 characters") }
            return Array(line.utf8)
        }
    }

    /// What a backup holds, written as its last entry and checked on restore.
    struct Manifest: Codable {
        struct Entry: Codable {
            var entry: String
            var service: String?
            var database: String?
            var bytes: UInt64
            var sha256: String
        }
        var format = 1
        var node: String
        var createdAt: String
        var pgDump: String
        var databases: [Entry]
        var files: [Entry]
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Dump the node's five service databases and seal them with its key files into one file.",
            discussion: """
            Stop the node's services first (a cold backup): the databases are dumped one after another, and an event \
            delivered between two dumps would be in neither. `--hot` dumps anyway (each database consistent in itself); \
            for production, continuous WAL archiving gives point-in-time recovery (docs/operators.md).
            """)
        @Option(help: "The node (GB/T 2260 code).") var node: String
        @OptionGroup var databases: Databases
        @Option(help: "A key file to keep with the databases, as NAME=PATH (e.g. seal-key=/run/secrets/city-seal-key); repeat.")
        var file: [String] = []
        @OptionGroup var passphrase: Passphrase
        @Option(help: "The backup file to write (refused if it exists).") var out: String
        @Flag(help: "Dump even while other sessions use the databases.") var hot = false

        func validate() throws {
            guard node.count == 6, node.allSatisfy(\.isNumber) else { throw ValidationError("--node: a six-digit GB/T 2260 code") }
            for pair in file {
                let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, Self.isPlainName(parts[0]) else { throw ValidationError("--file: '\(pair)' is not NAME=PATH with a plain NAME") }
            }
        }

        static func isPlainName(_ name: String) -> Bool {
            !name.isEmpty && name.utf8.count <= 64 && !name.hasPrefix(".") && name.allSatisfy { $0.isLetter || $0.isNumber || "-_.".contains($0) }
        }

        func run() async throws {
            guard !FileManager.default.fileExists(atPath: out) else { throw ValidationError("--out: \(out) exists; a backup is never overwritten") }
            let secret = try passphrase.bytes()
            let targets = try databases.names(node: node)
            if !hot {
                try await Backup.withClient(databases.postgres) { admin in
                    for target in targets {
                        let others = try await admin.query("SELECT count(*)::int8 AS n FROM pg_stat_activity WHERE datname = \(target.database) AND pid <> pg_backend_pid()").one().decode("n", as: Int64.self)
                        if others > 0 {
                            throw ValidationError("\(target.database) has \(others) other session(s): stop the node's services first (or --hot; see --help)")
                        }
                    }
                }
            }
            let work = try PrivateDirectory()
            defer { work.remove() }
            let pgDump = try PostgresTools.find("pg_dump")
            var manifest = Manifest(node: node, createdAt: ISO8601DateFormatter().string(from: Date()),
                                    pgDump: try PostgresTools.version(pgDump), databases: [], files: [])
            var entries: [(name: String, path: String)] = []
            for target in targets {
                let dump = work.url.appendingPathComponent("\(target.service).dump").path
                let conninfo = try PostgresConnInfo.replacingDatabase(in: databases.postgres, with: target.database)
                try PostgresTools.run(pgDump, ["--format=custom", "--no-password", "--file=\(dump)", "--dbname=\(conninfo)"], what: "pg_dump of \(target.database)")
                let (size, digest) = try FileDigest.of(dump)
                manifest.databases.append(.init(entry: "\(target.service).dump", service: target.service, database: target.database, bytes: size, sha256: digest))
                entries.append(("\(target.service).dump", dump))
                FileHandle.standardError.write(Data("dumped \(target.database) (\(size) bytes)\n".utf8))
            }
            for pair in file {
                let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                let (size, digest) = try FileDigest.of(parts[1])
                manifest.files.append(.init(entry: "file.\(parts[0])", bytes: size, sha256: digest))
                entries.append(("file.\(parts[0])", parts[1]))
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.keyEncodingStrategy = .convertToSnakeCase
            let manifestPath = work.url.appendingPathComponent("manifest.json").path
            try encoder.encode(manifest).write(to: URL(fileURLWithPath: manifestPath))
            entries.append(("manifest.json", manifestPath))
            try BackupFile.write(entries: entries, to: out, passphrase: secret)
            print("backup of node \(node): \(out) — \(manifest.databases.count) databases, \(manifest.files.count) files, sealed (AES-256-GCM, scrypt)")
        }
    }

    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Restore a node's databases from a backup into fresh databases, and its key files into a directory.",
            discussion: "Each database must be missing or empty. Start the node's services on them afterwards: outboxes resume where the backup left them.")
        @Option(help: "The backup file.") var backup: String
        @OptionGroup var passphrase: Passphrase
        @OptionGroup var databases: Databases
        @Option(help: "Owner of the restored objects, {service} replaced by the service (e.g. oneseal_{service}); default: the connecting user.")
        var owner: String?
        @Option(help: "Directory to write the key files into (created 0700; existing files are never overwritten).")
        var filesOut: String

        func run() async throws {
            let secret = try passphrase.bytes()
            let work = try PrivateDirectory()
            defer { work.remove() }
            let extracted = try BackupFile.extract(backup, passphrase: secret, into: work.url)
            guard let manifestData = FileManager.default.contents(atPath: work.url.appendingPathComponent("manifest.json").path) else {
                throw ValidationError("the backup has no manifest.json")
            }
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            let manifest = try decoder.decode(Manifest.self, from: manifestData)
            for entry in manifest.databases + manifest.files {
                guard extracted.contains(entry.entry) else { throw ValidationError("the backup lacks \(entry.entry), which its manifest lists") }
                let (size, digest) = try FileDigest.of(work.url.appendingPathComponent(entry.entry).path)
                guard size == entry.bytes, digest == entry.sha256 else { throw ValidationError("\(entry.entry) does not match its manifest (size or SHA-256)") }
            }
            let targets = Dictionary(uniqueKeysWithValues: try databases.names(node: manifest.node).map { ($0.service, $0.database) })
            let pgRestore = try PostgresTools.find("pg_restore")
            for entry in manifest.databases {
                guard let service = entry.service, let database = targets[service] else { continue }
                let owner = self.owner.map { $0.replacingOccurrences(of: "{service}", with: service) }
                try await Backup.withClient(databases.postgres) { try await $0.createDatabaseIfMissing(name: database, owner: owner) }
                let conninfo = try PostgresConnInfo.replacingDatabase(in: databases.postgres, with: database)
                let tables = try await Backup.withClient(conninfo) {
                    try await $0.query("SELECT count(*)::int8 AS n FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')").one().decode("n", as: Int64.self)
                }
                guard tables == 0 else { throw ValidationError("\(database) is not empty (\(tables) tables): restore into a fresh database") }
                var arguments = ["--no-owner", "--exit-on-error", "--single-transaction", "--no-password", "--dbname=\(conninfo)"]
                if let owner { arguments.append("--role=\(owner)") }
                arguments.append(work.url.appendingPathComponent(entry.entry).path)
                try PostgresTools.run(pgRestore, arguments, what: "pg_restore into \(database)")
                FileHandle.standardError.write(Data("restored \(service) into \(database)\n".utf8))
            }
            try FileManager.default.createDirectory(atPath: filesOut, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            for entry in manifest.files {
                let name = String(entry.entry.dropFirst("file.".count))
                let target = URL(fileURLWithPath: filesOut).appendingPathComponent(name).path
                guard !FileManager.default.fileExists(atPath: target) else { throw ValidationError("--files-out: \(target) exists; it is never overwritten") }
                let data = try Data(contentsOf: work.url.appendingPathComponent(entry.entry))
                guard FileManager.default.createFile(atPath: target, contents: data, attributes: [.posixPermissions: 0o600]) else {
                    throw ValidationError("--files-out: cannot write \(target)")
                }
            }
            print("restored node \(manifest.node) from the backup of \(manifest.createdAt): \(manifest.databases.count) databases, \(manifest.files.count) files into \(filesOut)")
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Open a backup and print its manifest (checks the passphrase and every chunk).")
        @Option(help: "The backup file.") var backup: String
        @OptionGroup var passphrase: Passphrase

        func run() async throws {
            let work = try PrivateDirectory()
            defer { work.remove() }
            _ = try BackupFile.extract(backup, passphrase: try passphrase.bytes(), into: work.url)
            guard let manifest = FileManager.default.contents(atPath: work.url.appendingPathComponent("manifest.json").path) else {
                throw ValidationError("the backup has no manifest.json")
            }
            print(String(decoding: manifest, as: UTF8.self))
        }
    }
}

/// Streams files through `BackupSealer` / `BackupOpener` in 1 MiB reads, so a dump of any size
/// passes through a bounded amount of memory.
enum BackupFile {
    static func write(entries: [(name: String, path: String)], to path: String, passphrase: [UInt8]) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]),
              let output = FileHandle(forWritingAtPath: path) else { throw ValidationError("--out: cannot create \(path)") }
        defer { try? output.close() }
        var sealer = try BackupSealer(passphrase: passphrase)
        for entry in entries {
            let size = try FileManager.default.attributesOfItem(atPath: entry.path)[.size] as? UInt64 ?? 0
            try output.write(contentsOf: sealer.write(BackupEntries.entryHeader(name: entry.name, size: size)))
            guard let input = FileHandle(forReadingAtPath: entry.path) else { throw ValidationError("cannot read \(entry.path)") }
            var copied: UInt64 = 0
            while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty {
                copied += UInt64(chunk.count)
                try output.write(contentsOf: sealer.write(chunk))
            }
            try input.close()
            guard copied == size else { throw ValidationError("\(entry.path) changed while it was being backed up") }
        }
        try output.write(contentsOf: sealer.write(BackupEntries.end))
        try output.write(contentsOf: sealer.finish())
        try output.synchronize()
    }

    /// Opens the backup into `directory` (entry name → file); returns the entry names.
    static func extract(_ path: String, passphrase: [UInt8], into directory: URL) throws -> Set<String> {
        guard let input = FileHandle(forReadingAtPath: path) else { throw ValidationError("--backup: cannot read \(path)") }
        defer { try? input.close() }
        var opener = BackupOpener(passphrase: passphrase)
        var decoder = BackupEntries.Decoder()
        var names: Set<String> = []
        var current: FileHandle?
        do {
            while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty {
                for event in try decoder.feed(opener.feed(chunk)) {
                    switch event {
                    case .begin(let name, _):
                        guard names.insert(name).inserted else { throw BackupArchive.Failure.malformedEntries("\(name) appears twice") }
                        let target = directory.appendingPathComponent(name).path
                        FileManager.default.createFile(atPath: target, contents: nil, attributes: [.posixPermissions: 0o600])
                        current = FileHandle(forWritingAtPath: target)
                    case .bytes(let bytes): try current?.write(contentsOf: bytes)
                    case .end: try current?.close(); current = nil
                    case .finished: break
                    }
                }
            }
            try opener.finish()
            try decoder.finish()
        } catch let failure as BackupArchive.Failure {
            throw ValidationError("\(path): \(failure)")
        }
        return names
    }
}

/// A 0700 directory for plaintext dumps while they exist, removed afterwards.
struct PrivateDirectory {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("oneseal-backup-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
    }
    func remove() { try? FileManager.default.removeItem(at: url) }
}

enum FileDigest {
    static func of(_ path: String) throws -> (UInt64, String) {
        guard let input = FileHandle(forReadingAtPath: path) else { throw ValidationError("cannot read \(path)") }
        defer { try? input.close() }
        var hasher = SHA256()
        var size: UInt64 = 0
        while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty {
            hasher.update(data: chunk)
            size += UInt64(chunk.count)
        }
        return (size, hasher.finalize().map { String(format: "%02x", $0) }.joined())
    }
}

/// PostgreSQL's client programs: the newest installed major version (pg_dump must be at least the
/// server's), else the one on PATH.
enum PostgresTools {
    static func find(_ program: String) throws -> String {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        for version in versions.compactMap(Int.init).sorted(by: >) {
            let path = "/usr/lib/postgresql/\(version)/bin/\(program)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let path = "\(directory)/\(program)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw ValidationError("\(program) not found: install PostgreSQL's client programs (postgresql-client)")
    }

    static func version(_ program: String) throws -> String {
        try run(program, ["--version"], what: program).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @discardableResult
    static func run(_ program: String, _ arguments: [String], what: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        // One pipe for both streams: reading two pipes one after the other can deadlock when the
        // second fills while the first is read to its end.
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ValidationError("\(what) failed (exit \(process.terminationStatus)): \(String(decoding: out.suffix(2000), as: UTF8.self))")
        }
        return String(decoding: out, as: UTF8.self)
    }
}
