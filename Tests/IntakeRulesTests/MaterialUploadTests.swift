import IntakeRules
import OneSealCore
import Testing

/// The material store's rules without I/O: the type by content, the limits, the order of checks.
@Suite("Material uploads: type by content, size limits")
struct MaterialUploadTests {
    static let pdf = Array("%PDF-1.4\n%âãÏÓ\n".utf8)
    static let jpeg: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 0x4A, 0x46, 0x49, 0x46]
    static let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00]

    /// "field reason" of each violation `body` throws (none when it throws nothing).
    func violations(_ body: () throws -> Void) -> [String] {
        do { try body() } catch {
            return ((error as? IntakeRuleError)?.fieldViolations ?? [FieldViolation(field: "?", description: "\(error)", reason: "not a rule error")])
                .map { "\($0.field) \($0.reason)" }
        }
        return []
    }

    @Test("the type is the content's: PDF, JPEG and PNG signatures; anything else is none")
    func detection() {
        #expect(MaterialContentType.detect(Self.pdf) == .pdf)
        #expect(MaterialContentType.detect(Self.jpeg) == .jpeg)
        #expect(MaterialContentType.detect(Self.png) == .png)
        #expect(MaterialContentType.detect(Array("GIF89a".utf8)) == nil)
        #expect(MaterialContentType.detect([0x89, 0x50, 0x4E]) == nil)
        #expect(MaterialContentType.detect([UInt8]()) == nil)
    }

    @Test("the header: every problem at once, each naming its field")
    func header() {
        #expect(violations { _ = try MaterialUpload(fileName: " ", contentType: "image/gif", sizeBytes: 0, sha256: "xyz") } == [
            "header.file_name required", "header.content_type material.type", "header.size_bytes required", "header.sha256 format",
        ])
        #expect(violations { _ = try MaterialUpload(fileName: "a.pdf", contentType: "application/pdf", sizeBytes: Int64(MaterialUpload.maximumFileBytes) + 1, sha256: "") }
            == ["header.size_bytes material.too_large"])
        #expect(violations { _ = try MaterialUpload(fileName: "a.pdf", contentType: " Application/PDF ", sizeBytes: Int64(MaterialUpload.maximumFileBytes), sha256: "") }.isEmpty)
    }

    @Test("a PNG named .pdf is refused on its first chunk, naming header.content_type")
    func renamedPNG() throws {
        var upload = try MaterialUpload(fileName: "licence.pdf", contentType: "application/pdf", sizeBytes: 10, sha256: "")
        #expect(violations { try upload.append(Self.png) } == ["header.content_type material.type_mismatch"])
        #expect(upload.received == 0)
    }

    @Test("a signature split over chunks is judged when enough bytes are in; a short file at the end")
    func splitSignature() throws {
        var upload = try MaterialUpload(fileName: "a.png", contentType: "image/png", sizeBytes: 10, sha256: "")
        try upload.append(Self.png.prefix(3))
        try upload.append(Self.png.dropFirst(3))
        #expect(try upload.finish(computedSHA256: String(repeating: "0", count: 64)) == .png)

        var wrong = try MaterialUpload(fileName: "a.png", contentType: "image/png", sizeBytes: 10, sha256: "")
        try wrong.append([0x89, 0x50])
        #expect(violations { try wrong.append(Array("XXXXXXXX".utf8)) } == ["header.content_type material.type_mismatch"])

        var short = try MaterialUpload(fileName: "a.jpg", contentType: "image/jpeg", sizeBytes: 2, sha256: "")
        try short.append([0xFF, 0xD8])
        #expect(violations { _ = try short.finish(computedSHA256: String(repeating: "0", count: 64)) } == ["header.content_type material.type_mismatch"])
    }

    @Test("sizes: chunks at most 1 MiB and not empty; exactly the declared total; the declared hash must match")
    func sizesAndHash() throws {
        var upload = try MaterialUpload(fileName: "a.pdf", contentType: "application/pdf", sizeBytes: 20, sha256: String(repeating: "A", count: 64))
        #expect(violations { try upload.append([UInt8]()) } == ["chunk[0] required"])
        #expect(violations { try upload.append(Self.pdf + [UInt8](repeating: 0, count: MaterialUpload.maximumChunkBytes)) } == ["chunk[0] material.chunk_too_large"])
        try upload.append(Self.pdf)
        #expect(violations { _ = try upload.finish(computedSHA256: String(repeating: "a", count: 64)) } == ["header.size_bytes material.size_mismatch"])
        #expect(violations { try upload.append([UInt8](repeating: 1, count: 20)) } == ["header.size_bytes material.size_mismatch"])
        try upload.append([UInt8](repeating: 1, count: 20 - Self.pdf.count))
        #expect(violations { _ = try upload.finish(computedSHA256: String(repeating: "b", count: 64)) } == ["header.sha256 material.sha256_mismatch"])
        #expect(try upload.finish(computedSHA256: String(repeating: "a", count: 64)) == .pdf)
    }

    @Test("a file id is 64 lower-case hexadecimal characters")
    func fileIDs() {
        #expect(MaterialUpload.isSHA256(String(repeating: "0a", count: 32)))
        #expect(!MaterialUpload.isSHA256(String(repeating: "0A", count: 32)))
        #expect(!MaterialUpload.isSHA256(String(repeating: "0", count: 63)))
        #expect(!MaterialUpload.isSHA256("scan-01"))
    }
}
