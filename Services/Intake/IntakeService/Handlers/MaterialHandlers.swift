import Crypto
import Foundation
import GRPCCore
import IntakeRules
import OneSealAuth
import OneSealCore
import OneSealProto
import OneSealServiceKit
import OneSealStore
import SwiftProtobuf
import Synchronization

/// The material store (材料库): uploads bound to their uploader, downloads for the uploader and for
/// those who may read an application naming the file (docs/security.md, "Per-object rules").
extension IntakeAPI {
    /// Applications looked at per download when deciding whether the caller may read a file: a
    /// file named by more (a company's business licence used in hundreds of applications) is
    /// readable by the uploader and by those entitled to the first ones, which always include the
    /// window; listing them all would let one download scan the whole table.
    static let maximumApplicationsPerFileCheck = 200

    public func uploadMaterial(
        request: RPCAsyncSequence<Intake_UploadMaterialRequest, any Error>, context: ServerContext
    ) async throws -> Intake_UploadMaterialResponse {
        let caller = try ServerContext.requireCaller()
        // Each upload is held in memory until complete; a bounded number at once keeps a flood of
        // parallel uploads (256 streams a connection) from exhausting the process's memory.
        guard uploadSlots.acquire() else {
            throw RPCError(code: .resourceExhausted, message: "\(uploadSlots.limit) uploads are in progress on this intake process; retry in a moment")
        }
        defer { uploadSlots.release() }
        var upload: MaterialUpload?
        var content: [UInt8] = []
        var hasher = SHA256()
        // Held in memory until complete, bounded by MaterialUpload (the declared size, at most
        // 20 MiB, is checked before any chunk is kept), so a refused upload stores nothing.
        for try await message in request {
            switch message.part {
            case .header(let header)?:
                guard upload == nil else {
                    throw RPCError.invalidArgument(field: "header", "sent twice; only the first message carries the header", reason: "material.header_twice")
                }
                let checked = try MaterialUpload(
                    fileName: header.fileName, contentType: header.contentType, sizeBytes: header.sizeBytes, sha256: header.sha256)
                content.reserveCapacity(checked.declaredSize)
                upload = checked
            case .chunk(let bytes)?:
                guard upload != nil else {
                    throw RPCError.invalidArgument(field: "header", "required: the first message carries the header, then the chunks", reason: "required")
                }
                try upload?.append(bytes)
                hasher.update(data: bytes)
                content.append(contentsOf: bytes)
            case nil:
                throw RPCError.invalidArgument(field: "part", "required: header or chunk", reason: "required")
            }
        }
        guard let upload else {
            throw RPCError.invalidArgument(field: "header", "required: the first message carries the header, then the chunks", reason: "required")
        }
        let sha256 = Array(hasher.finalize())
        let type = try upload.finish(computedSHA256: MaterialStore.hex(sha256))
        let uploader = submitterIndex(caller)
        let stored = try await database.withTransaction { transaction in
            try await MaterialStore.store(content: content, sha256: sha256, type: type, uploader: uploader, keyring: keyring, in: transaction)
        }
        logger.info(
            "material stored",
            metadata: [
                "file": "\(stored.file.fileID)", "bytes": "\(stored.file.sizeBytes)", "type": "\(type.rawValue)",
                "already_stored": "\(stored.alreadyStored)", "by": "\(caller.logSubject)",
            ])
        var response = Intake_UploadMaterialResponse()
        response.material = stored.file.proto
        response.alreadyStored = stored.alreadyStored
        return response
    }

    public func downloadMaterial(
        request: Intake_DownloadMaterialRequest, response: RPCWriter<Intake_DownloadMaterialResponse>, context: ServerContext
    ) async throws {
        let caller = try ServerContext.requireCaller()
        let sha256 = try Self.parseFileID(request.fileID, field: "file_id")
        let file = try await database.withConnection { connection -> StoredMaterialFile in
            // One answer for "no such file" and "not yours": which hashes are stored is not told.
            guard let file = try await MaterialStore.find(sha256, on: connection), try await mayUse(sha256, by: caller, on: connection) else {
                throw Self.notFound("no material \(MaterialStore.hex(sha256)) that you may read")
            }
            return file
        }
        try await response.write(.with { $0.material = file.proto })
        // One part per round trip to the database: a download holds at most 1 MiB at a time.
        for seq in 0..<file.parts {
            let bytes = try await database.withConnection { try await MaterialStore.part(file, seq: seq, keyring: keyring, on: $0) }
            try await response.write(.with { $0.chunk = Data(bytes) })
        }
        logger.info("material read", metadata: ["file": "\(file.fileID)", "by": "\(caller.logSubject)"])
    }

    /// The hash bytes of a file id: 64 hexadecimal characters (upper case accepted).
    static func parseFileID(_ text: String, field: String) throws -> [UInt8] {
        let id = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard !id.isEmpty else { throw RPCError.invalidArgument(field: field, "required", reason: "required") }
        guard MaterialUpload.isSHA256(id) else {
            throw RPCError.invalidArgument(
                field: field, "not a material store file id (the SHA-256 of the file, 64 hexadecimal characters); upload the file first",
                reason: "format")
        }
        return MaterialStore.hashBytes(id)
    }

    /// Whether `caller` may read, or name as a material, the stored file `sha256`: its uploader
    /// may, and so may whoever may read an application that names it (`authorize(.read, …)`).
    func mayUse(_ sha256: [UInt8], by caller: Caller, on connection: PostgresConnection) async throws -> Bool {
        if try await MaterialStore.isUploader(sha256, submitterIndex(caller), on: connection) { return true }
        return try await mayReadAnApplicationNaming(sha256, by: caller, on: connection)
    }

    /// Whether `caller` may read one of the applications that name the file.
    func mayReadAnApplicationNaming(_ sha256: [UInt8], by caller: Caller, on connection: PostgresConnection) async throws -> Bool {
        for id in try await MaterialStore.applications(naming: sha256, limit: Self.maximumApplicationsPerFileCheck, on: connection) {
            guard let application = try await ApplicationStore.find(id: id, on: connection) else { continue }
            if (try? authorize(.read, on: application, by: caller)) != nil { return true }
        }
        return false
    }

    /// The materials with their file ids checked, and the files they name.
    typealias ResolvedFiles = (materials: [Intake_ProvidedMaterial], files: [[UInt8]])

    /// The materials with every `file_id` checked against the store: a stored file `caller` may
    /// use, its id normalised to lower case and `sha256` set to it (a different declared `sha256`
    /// is refused). Every problem at once, each naming its field. Returns the files' hashes too,
    /// for `MaterialStore.attach` in the write's transaction.
    func resolvingFiles(
        _ materials: [Intake_ProvidedMaterial], by caller: Caller, on connection: PostgresConnection
    ) async throws -> ResolvedFiles {
        func fileID(_ material: Intake_ProvidedMaterial) -> (text: String, id: String)? {
            guard case .fileID(let text)? = material.source, !text.isEmpty else { return nil }
            return (text, text.trimmingCharacters(in: .whitespaces).lowercased())
        }
        // Every well-formed id looked up at once: stored, and whether this caller uploaded it.
        let named = materials.compactMap(fileID).map(\.id).filter(MaterialUpload.isSHA256).map(MaterialStore.hashBytes)
        let stored = try await MaterialStore.stored(named, uploadedBy: submitterIndex(caller), on: connection)
        var out = materials
        var files: [[UInt8]] = []
        var violations: [FieldViolation] = []
        for (index, material) in materials.enumerated() {
            guard let (text, id) = fileID(material) else { continue }
            let field = "materials[\(index)].file_id"
            guard MaterialUpload.isSHA256(id) else {
                violations.append(FieldViolation(
                    field: field, description: "“\(text)” is not a material store file id (64 hexadecimal characters); upload the file first (UploadMaterial)",
                    reason: "format"))
                continue
            }
            let sha256 = MaterialStore.hashBytes(id)
            let usable: Bool
            switch stored[sha256] {
            case nil: usable = false
            case true?: usable = true
            case false?: usable = try await mayReadAnApplicationNaming(sha256, by: caller, on: connection)
            }
            guard usable else {
                violations.append(FieldViolation(
                    field: field, description: "no stored material \(id) that you uploaded or may read; upload the file first (UploadMaterial)",
                    reason: "material.unknown"))
                continue
            }
            let declared = material.sha256.trimmingCharacters(in: .whitespaces).lowercased()
            if !declared.isEmpty, declared != id {
                violations.append(FieldViolation(
                    field: "materials[\(index)].sha256", description: "the stored file \(id) has this hash, not \(declared)",
                    reason: "material.sha256_mismatch"))
                continue
            }
            out[index].fileID = id
            out[index].sha256 = id
            files.append(sha256)
        }
        guard violations.isEmpty else { throw IntakeRuleError.invalidArgument(violations) }
        return (out, files)
    }
}

extension StoredMaterialFile {
    var proto: Intake_StoredMaterial {
        Intake_StoredMaterial.with {
            $0.fileID = fileID
            $0.sha256 = fileID
            $0.contentType = contentType.rawValue
            $0.sizeBytes = Int64(sizeBytes)
            $0.storedAt = Google_Protobuf_Timestamp(date: storedAt)
        }
    }
}

/// How many uploads one intake process holds in memory at once.
public final class MaterialUploadSlots: Sendable {
    public let limit: Int
    private let inUse = Mutex(0)

    public init(limit: Int) { self.limit = max(limit, 1) }

    /// Takes a slot, or answers false when all are taken.
    func acquire() -> Bool {
        inUse.withLock { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
    }

    func release() { inUse.withLock { $0 = max($0 - 1, 0) } }
}
