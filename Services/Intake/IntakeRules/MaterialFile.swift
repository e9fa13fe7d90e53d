import Foundation
import OneSealCore

/// The kinds of file the material store keeps. Decided by the first bytes of the content, never by
/// the name or the declared type: a PNG renamed `.pdf` is still a PNG (issue #18, item 4).
public enum MaterialContentType: String, Sendable, Hashable, CaseIterable {
    case pdf = "application/pdf"
    case jpeg = "image/jpeg"
    case png = "image/png"

    /// The signature each kind starts with: `%PDF-` (ISO 32000), the JPEG SOI marker followed by
    /// the start of a marker (`FF D8 FF`), the eight-byte PNG signature.
    public var magic: [UInt8] {
        switch self {
        case .pdf: [0x25, 0x50, 0x44, 0x46, 0x2D]
        case .jpeg: [0xFF, 0xD8, 0xFF]
        case .png: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        }
    }

    /// The most leading bytes `detect` needs.
    public static let signatureLength = 8

    /// The kind whose signature `prefix` starts with, or nil.
    public static func detect(_ prefix: some Collection<UInt8>) -> MaterialContentType? {
        allCases.first { prefix.starts(with: $0.magic) }
    }

    /// What the applicant reads in an error ("PDF", "JPEG", "PNG").
    public var label: String {
        switch self {
        case .pdf: "PDF"
        case .jpeg: "JPEG"
        case .png: "PNG"
        }
    }
}

/// One upload to the material store, checked as it arrives: the header first, then each chunk,
/// then the end. Plain values, no I/O — the service feeds it and hashes the bytes itself.
///
/// Why a file is refused as soon as it passes the size limit, and its type as soon as the first
/// bytes are in: the service keeps the upload in memory until it is complete, so a 2 GB stream or a
/// renamed executable is stopped after at most one chunk over the limit, not after it has all arrived.
public struct MaterialUpload: Sendable {
    /// A scanned material of many pages at 300 dpi stays far below; one file per material.
    public static let maximumFileBytes = 20 << 20
    /// One chunk: a quarter of the 4 MiB frame limit, so a chunk with its frame never nears it.
    public static let maximumChunkBytes = 1 << 20

    public let fileName: String
    public let declaredType: MaterialContentType
    public let declaredSize: Int
    /// Lower-case hex, or nil when the uploader gave none.
    public let declaredSHA256: String?
    public private(set) var received = 0
    public private(set) var chunks = 0
    private var prefix: [UInt8] = []

    /// Checks the header; every problem at once, each naming its field under `header.`.
    public init(fileName: String, contentType: String, sizeBytes: Int64, sha256: String) throws(IntakeRuleError) {
        var violations: [FieldViolation] = []
        let name = fileName.trimmingCharacters(in: .whitespaces)
        if name.isEmpty { violations.append(.required("header.file_name")) }
        let type = MaterialContentType(rawValue: contentType.trimmingCharacters(in: .whitespaces).lowercased())
        if type == nil {
            violations.append(FieldViolation(
                field: "header.content_type",
                description: "“\(contentType)” is not accepted; a material is application/pdf, image/jpeg or image/png",
                reason: "material.type"))
        }
        if sizeBytes < 1 || sizeBytes > Int64(Self.maximumFileBytes) {
            violations.append(FieldViolation(
                field: "header.size_bytes",
                description: "\(sizeBytes) bytes; a material holds 1 byte to \(Self.maximumFileBytes) bytes (20 MiB)",
                reason: sizeBytes < 1 ? "required" : "material.too_large"))
        }
        let hash = sha256.trimmingCharacters(in: .whitespaces).lowercased()
        if !hash.isEmpty, !Self.isSHA256(hash) {
            violations.append(FieldViolation(field: "header.sha256", description: "64 hexadecimal characters", reason: "format"))
        }
        guard violations.isEmpty, let type else { throw .invalidArgument(violations) }
        self.fileName = name
        self.declaredType = type
        self.declaredSize = Int(sizeBytes)
        self.declaredSHA256 = hash.isEmpty ? nil : hash
    }

    /// Counts one chunk; refuses an empty or too large chunk, a file growing past its declared size,
    /// and content whose first bytes are not of the declared type.
    public mutating func append(_ chunk: some Collection<UInt8>) throws(IntakeRuleError) {
        let field = "chunk[\(chunks)]"
        guard !chunk.isEmpty else {
            throw .invalidArgument([FieldViolation(field: field, description: "empty; send only chunks with content", reason: "required")])
        }
        guard chunk.count <= Self.maximumChunkBytes else {
            throw .invalidArgument([FieldViolation(
                field: field, description: "\(chunk.count) bytes; a chunk holds at most \(Self.maximumChunkBytes) bytes (1 MiB)", reason: "material.chunk_too_large")])
        }
        guard received + chunk.count <= declaredSize else {
            throw .invalidArgument([FieldViolation(
                field: "header.size_bytes",
                description: "more than the declared \(declaredSize) bytes arrived; nothing was stored",
                reason: "material.size_mismatch")])
        }
        if prefix.count < MaterialContentType.signatureLength {
            prefix += chunk.prefix(MaterialContentType.signatureLength - prefix.count)
            try checkType(complete: false)
        }
        received += chunk.count
        chunks += 1
    }

    /// The end of the stream: the declared size must have arrived, the type must be known, and the
    /// hash the service computed (lower-case hex) must equal the declared one, if any.
    public func finish(computedSHA256: String) throws(IntakeRuleError) -> MaterialContentType {
        guard received == declaredSize else {
            throw .invalidArgument([FieldViolation(
                field: "header.size_bytes",
                description: "declared \(declaredSize) bytes but \(received) arrived; nothing was stored",
                reason: "material.size_mismatch")])
        }
        try checkType(complete: true)
        if let declaredSHA256, declaredSHA256 != computedSHA256 {
            throw .invalidArgument([FieldViolation(
                field: "header.sha256",
                description: "the received bytes hash to \(computedSHA256), not \(declaredSHA256); nothing was stored",
                reason: "material.sha256_mismatch")])
        }
        return declaredType
    }

    /// Refuses content that is not of the declared type once enough bytes are in to tell (or at the
    /// end, for a file shorter than a signature).
    private func checkType(complete: Bool) throws(IntakeRuleError) {
        let decidable = prefix.count >= MaterialContentType.signatureLength || complete
        let detected = MaterialContentType.detect(prefix)
        guard detected != declaredType else { return }
        // Not yet enough bytes and still a prefix of the declared signature: wait for more.
        if !decidable, declaredType.magic.starts(with: prefix) || prefix.starts(with: declaredType.magic) { return }
        let found = detected.map { "a \($0.label) file" } ?? "neither PDF, JPEG nor PNG"
        throw .invalidArgument([FieldViolation(
            field: "header.content_type",
            description: "declared \(declaredType.label) (“\(fileName)”) but the content is \(found); the type is decided by the content, not the name",
            reason: "material.type_mismatch")])
    }

    /// Whether `text` is 64 lower-case hexadecimal characters, the form of a file id.
    public static func isSHA256(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}
