import ArgumentParser
import Foundation
import GRPCCore
import IntakeRules
import OneSealAuth
import OneSealProto

/// `oneseal material …`: the material store (材料库) of intake — upload a scan or a file and get
/// its file id (for `application submit --material CODE=FILE_ID`), download a stored file.
struct MaterialCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "material",
        abstract: "Materials in intake's store: upload (prints the file id), download.",
        subcommands: [Upload.self, Download.self]
    )

    struct Upload: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Upload a PDF, JPEG or PNG (at most 20 MiB); prints its file id, the SHA-256 of its bytes.",
            discussion: "The type is read from the file's first bytes; the service checks it again, and the hash it computes.")
        @Option(help: "The file to upload.") var file: String
        @OptionGroup var connection: Connection
        @OptionGroup var credentials: Credentials
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let metadata = try credentials.metadata(node: connection.node, defaultRole: .windowClerk)
            let content = try MaterialFiles.read(file, option: "--file")
            let name = URL(fileURLWithPath: file).lastPathComponent
            let response = try await connection.intake {
                try await $0.uploadMaterial(content.bytes, fileName: name, contentType: content.type.rawValue, metadata: metadata)
            }
            let material = response.material
            try output.emit(response, text: "\(material.fileID)\n\(material.contentType), \(material.sizeBytes) bytes\(response.alreadyStored ? " (already stored)" : "")")
        }
    }

    struct Download: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Download a stored material you may read to a file.")
        @Option(help: "The file id (SHA-256, 64 hexadecimal characters).") var fileID: String
        @Option(help: "Where to write it (refused if it exists).") var out: String
        @OptionGroup var connection: Connection
        @OptionGroup var credentials: Credentials
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let metadata = try credentials.metadata(node: connection.node, defaultRole: .windowClerk)
            guard !FileManager.default.fileExists(atPath: out) else { throw ValidationError("--out: \(out) exists; give a new path") }
            let id = fileID
            let downloaded = try await connection.intake { try await $0.downloadMaterial(fileID: id, metadata: metadata) }
            guard FileManager.default.createFile(atPath: out, contents: Data(downloaded.content), attributes: [.posixPermissions: 0o600]) else {
                throw ValidationError("--out: cannot write \(out)")
            }
            try output.emit(downloaded.material, text: "\(out): \(downloaded.material.contentType), \(downloaded.content.count) bytes")
        }
    }
}

/// Reading a material from disk for an upload, with the store's limits checked before any call.
enum MaterialFiles {
    static func read(_ path: String, option: String) throws -> (bytes: [UInt8], type: MaterialContentType) {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        guard let size = (attributes?[.size] as? NSNumber)?.intValue else { throw ValidationError("\(option): cannot read \(path)") }
        guard size <= MaterialUpload.maximumFileBytes else {
            throw ValidationError("\(option): \(path) has \(size) bytes; a material holds at most \(MaterialUpload.maximumFileBytes) (20 MiB)")
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("\(option): cannot read \(path)") }
        let bytes = [UInt8](data)
        guard let type = MaterialContentType.detect(bytes.prefix(MaterialContentType.signatureLength)) else {
            throw ValidationError("\(option): \(path) is neither PDF, JPEG nor PNG by its content")
        }
        return (bytes, type)
    }
}
