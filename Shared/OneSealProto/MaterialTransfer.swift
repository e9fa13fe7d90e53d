import Foundation
import GRPCCore

/// The material store's two streaming calls as one call each, for every Swift client (the CLI,
/// the local cluster, the web front, tests): the chunking and reassembly live here once.
extension Intake_IntakeService.Client {
    /// Uploads `content` as a header and chunks of at most `chunkBytes` (the service's limit is
    /// 1 MiB a chunk). The service decides the type by content and refuses one that differs from
    /// `contentType`.
    public func uploadMaterial(
        _ content: [UInt8], fileName: String, contentType: String, sha256: String = "", chunkBytes: Int = 1 << 20,
        metadata: Metadata
    ) async throws -> Intake_UploadMaterialResponse {
        let size = max(chunkBytes, 1)
        return try await uploadMaterial(metadata: metadata, requestProducer: { writer in
            try await writer.write(.with {
                $0.header = .with {
                    $0.fileName = fileName
                    $0.contentType = contentType
                    $0.sizeBytes = Int64(content.count)
                    $0.sha256 = sha256
                }
            })
            var offset = 0
            while offset < content.count {
                let end = min(content.count, offset + size)
                try await writer.write(.with { $0.chunk = Data(content[offset..<end]) })
                offset = end
            }
        })
    }

    /// Downloads a stored file: what the store says about it and its bytes (refused when more
    /// bytes arrive than the store said the file holds).
    public func downloadMaterial(fileID: String, metadata: Metadata) async throws -> (material: Intake_StoredMaterial, content: [UInt8]) {
        try await downloadMaterial(.with { $0.fileID = fileID }, metadata: metadata) { response in
            var material: Intake_StoredMaterial?
            var content: [UInt8] = []
            for try await message in response.messages {
                switch message.part {
                case .material(let stored)?:
                    material = stored
                    content.reserveCapacity(Int(clamping: min(stored.sizeBytes, 20 << 20)))
                case .chunk(let bytes)?:
                    guard let material, content.count + bytes.count <= material.sizeBytes else {
                        throw RPCError(code: .internalError, message: "the download sent more bytes than the file holds, or bytes before saying which file")
                    }
                    content.append(contentsOf: bytes)
                case nil:
                    break
                }
            }
            guard let material, content.count == material.sizeBytes else {
                throw RPCError(code: .internalError, message: "the download ended before the whole file arrived")
            }
            return (material, content)
        }
    }
}
