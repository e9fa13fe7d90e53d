import Foundation
import IntakeRules
import OneSealCore
import OneSealPrivacy
import OneSealStore

/// One stored file as the material store describes it (no content).
struct StoredMaterialFile: Sendable, Hashable {
    /// The SHA-256 of the content, 32 bytes.
    let sha256: [UInt8]
    let contentType: MaterialContentType
    let sizeBytes: Int
    let parts: Int
    let storedAt: Date

    /// The file id: the hash in lower-case hex.
    var fileID: String { MaterialStore.hex(sha256) }
}

/// The material store's SQL (migration 0006). Content is kept sealed in parts of at most
/// `partBytes`, each under the context "intake.material:<file id>:<part>", so a part moved to
/// another file or position fails to open.
enum MaterialStore {
    static let partBytes = MaterialUpload.maximumChunkBytes

    static func hex(_ bytes: [UInt8]) -> String { Hex.lowercase(bytes) }

    /// The 32 hash bytes of a file id already checked with `MaterialUpload.isSHA256`.
    static func hashBytes(_ fileID: String) -> [UInt8] {
        let utf8 = Array(fileID.utf8)
        func value(_ c: UInt8) -> UInt8 { c <= 0x39 ? c - 0x30 : c - 0x61 + 10 }
        return stride(from: 0, to: utf8.count, by: 2).map { value(utf8[$0]) << 4 | value(utf8[$0 + 1]) }
    }

    static func context(_ fileID: String, part: Int) -> String { "intake.material:\(fileID):\(part)" }

    static func find(_ sha256: [UInt8], on connection: PostgresConnection) async throws -> StoredMaterialFile? {
        let rows = try await connection.query(
            "SELECT sha256, content_type, size_bytes, parts, stored_at FROM material_files WHERE sha256 = \(sha256)")
        return try rows.first.map { row in
            let type = try row.decode("content_type", as: String.self)
            guard let contentType = MaterialContentType(rawValue: type) else {
                throw MaterialStoreError.corrupt("material_files.content_type '\(type)'")
            }
            return StoredMaterialFile(
                sha256: try row.decode("sha256", as: [UInt8].self), contentType: contentType,
                sizeBytes: try row.decode("size_bytes", as: Int.self), parts: try row.decode("parts", as: Int.self),
                storedAt: try row.decode("stored_at", as: Date.self))
        }
    }

    /// Stores `content` unless the same bytes are stored already, and binds the upload to
    /// `uploader`, in the caller's transaction. Returns the file and whether it was already there.
    static func store(
        content: [UInt8], sha256: [UInt8], type: MaterialContentType, uploader: [UInt8], keyring: DataKeyring,
        in transaction: PostgresConnection
    ) async throws -> (file: StoredMaterialFile, alreadyStored: Bool) {
        let fileID = hex(sha256)
        let parts = (content.count + partBytes - 1) / partBytes
        // ON CONFLICT: two uploads of the same bytes at once store them once; the loser only binds.
        let inserted = try await transaction.execute("""
            INSERT INTO material_files (sha256, content_type, size_bytes, parts)
            VALUES (\(sha256), \(type.rawValue), \(content.count), \(parts))
            ON CONFLICT (sha256) DO NOTHING
            """)
        if inserted == 1 {
            for part in 0..<parts {
                let slice = Array(content[(part * partBytes)..<min(content.count, (part + 1) * partBytes)])
                let sealed = try keyring.seal(slice, context: context(fileID, part: part))
                try await transaction.execute("INSERT INTO material_parts (sha256, seq, sealed) VALUES (\(sha256), \(part), \(sealed))")
            }
        }
        try await transaction.execute("""
            INSERT INTO material_uploaders (sha256, uploader_index) VALUES (\(sha256), \(uploader))
            ON CONFLICT (sha256, uploader_index) DO NOTHING
            """)
        guard let file = try await find(sha256, on: transaction) else { throw MaterialStoreError.corrupt("material \(fileID) vanished while stored") }
        return (file, inserted == 0)
    }

    /// The part `seq` of a file, opened.
    static func part(_ file: StoredMaterialFile, seq: Int, keyring: DataKeyring, on connection: PostgresConnection) async throws -> [UInt8] {
        guard let row = try await connection.query("SELECT sealed FROM material_parts WHERE sha256 = \(file.sha256) AND seq = \(seq)").first else {
            throw MaterialStoreError.corrupt("material \(file.fileID) has no part \(seq)")
        }
        return try keyring.open(try row.decode("sealed", as: [UInt8].self), context: context(file.fileID, part: seq))
    }

    /// Of `files`, the stored ones, each with whether `uploader` uploaded it: one statement for
    /// all the files a submission names (#21; it was a look-up and an uploader check per file).
    static func stored(_ files: [[UInt8]], uploadedBy uploader: [UInt8], on connection: PostgresConnection) async throws -> [[UInt8]: Bool] {
        guard !files.isEmpty else { return [:] }
        var out: [[UInt8]: Bool] = [:]
        for row in try await connection.query("""
            SELECT f.sha256, EXISTS (SELECT 1 FROM material_uploaders u WHERE u.sha256 = f.sha256 AND u.uploader_index = \(uploader)) AS uploaded
            FROM material_files f WHERE f.sha256 = ANY(\(SQLArray(files))::bytea[])
            """) {
            out[try row.decode("sha256", as: [UInt8].self)] = try row.decode("uploaded", as: Bool.self)
        }
        return out
    }

    static func isUploader(_ sha256: [UInt8], _ uploader: [UInt8], on connection: PostgresConnection) async throws -> Bool {
        try await !connection.query("SELECT 1 FROM material_uploaders WHERE sha256 = \(sha256) AND uploader_index = \(uploader)").isEmpty
    }

    /// The applications naming a file (at most `limit`, oldest first).
    static func applications(naming sha256: [UInt8], limit: Int, on connection: PostgresConnection) async throws -> [UUID] {
        try await connection.query("""
            SELECT application_id FROM application_materials WHERE sha256 = \(sha256) ORDER BY application_id LIMIT \(limit)
            """).map { try $0.decode("application_id", as: UUID.self) }
    }

    /// Records that `application` names these files, in the caller's transaction (one statement).
    static func attach(_ files: [[UInt8]], to application: UUID, in transaction: PostgresConnection) async throws {
        guard !files.isEmpty else { return }
        try await transaction.execute("""
            INSERT INTO application_materials (sha256, application_id)
            SELECT DISTINCT sha256, \(application)::uuid FROM unnest(\(SQLArray(files))::bytea[]) AS sha256
            ON CONFLICT DO NOTHING
            """)
    }
}

enum MaterialStoreError: Error, CustomStringConvertible {
    case corrupt(String)

    var description: String {
        switch self {
        case .corrupt(let what): "material store inconsistent: \(what)"
        }
    }
}
