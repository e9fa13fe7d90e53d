import Crypto
import Foundation
import OneSealCore

/// `multipart/form-data` (RFC 7578) as the apply-online form sends it: text fields and files. Kept
/// here, pure and tested, rather than a package: the front reads one kind of form from browsers,
/// with limits it checks before anything is sent to intake.
public struct MultipartForm: Sendable, Hashable {
    public struct Part: Sendable, Hashable {
        public var name: String
        /// Present for a file input (even an empty one: the browser sends `filename=""`).
        public var fileName: String?
        public var contentType: String?
        public var body: [UInt8]
    }

    public var parts: [Part]

    public enum Problem: Error, Sendable, Hashable {
        case notMultipart
        case malformed
        case tooManyParts
    }

    /// The boundary of a `Content-Type: multipart/form-data; boundary=…` header, or nil.
    public static func boundary(contentType: String) -> String? {
        let pieces = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard pieces.first?.lowercased() == "multipart/form-data" else { return nil }
        for piece in pieces.dropFirst() {
            let pair = piece.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == "boundary" else { continue }
            var value = pair[1].trimmingCharacters(in: .whitespaces)
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            return (1...70).contains(value.utf8.count) ? value : nil
        }
        return nil
    }

    /// Splits `body` at the boundary; at most `maximumParts` parts (a form has a handful).
    public static func parse(_ body: [UInt8], boundary: String, maximumParts: Int = 32) throws(Problem) -> MultipartForm {
        let delimiter = Array("--\(boundary)".utf8)
        var positions: [Int] = []
        var index = 0
        while let found = Self.find(delimiter, in: body, from: index) {
            positions.append(found)
            index = found + delimiter.count
            if positions.count > maximumParts + 1 { throw .tooManyParts }
        }
        guard positions.count >= 2 else { throw .malformed }
        var parts: [Part] = []
        for (start, end) in zip(positions, positions.dropFirst()) {
            var cursor = start + delimiter.count
            // "\r\n" after the delimiter; the part ends with "\r\n" before the next delimiter.
            guard cursor + 2 <= end, body[cursor] == 13, body[cursor + 1] == 10 else { throw .malformed }
            cursor += 2
            guard let headerEnd = Self.find([13, 10, 13, 10], in: body, from: cursor), headerEnd + 4 <= end - 2,
                  body[end - 2] == 13, body[end - 1] == 10 else { throw .malformed }
            let headerText = String(decoding: body[cursor..<headerEnd], as: UTF8.self)
            var name: String?, fileName: String?, contentType: String?
            for line in headerText.components(separatedBy: "\r\n") {
                let pair = line.split(separator: ":", maxSplits: 1)
                guard pair.count == 2 else { continue }
                let key = pair[0].trimmingCharacters(in: .whitespaces).lowercased()
                let value = pair[1].trimmingCharacters(in: .whitespaces)
                if key == "content-disposition" {
                    name = Self.parameter("name", in: value)
                    fileName = Self.parameter("filename", in: value)
                } else if key == "content-type" {
                    contentType = value
                }
            }
            guard let name else { throw .malformed }
            parts.append(Part(name: name, fileName: fileName, contentType: contentType, body: Array(body[(headerEnd + 4)..<(end - 2)])))
        }
        // The last delimiter is the closing one: "--boundary--".
        let last = positions.last! + delimiter.count
        guard last + 2 <= body.count, body[last] == 45, body[last + 1] == 45 else { throw .malformed }
        return MultipartForm(parts: parts)
    }

    /// Text fields (first wins), for the CSRF token, the idempotency key and the like.
    public var fields: [String: String] {
        var out: [String: String] = [:]
        for part in parts where part.fileName == nil && out[part.name] == nil { out[part.name] = String(decoding: part.body, as: UTF8.self) }
        return out
    }

    /// File parts by field name; an empty file input (no file chosen) is left out.
    public var files: [String: Part] {
        var out: [String: Part] = [:]
        for part in parts where part.fileName != nil && !part.body.isEmpty && out[part.name] == nil { out[part.name] = part }
        return out
    }

    static func parameter(_ key: String, in header: String) -> String? {
        for piece in header.split(separator: ";").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            let pair = piece.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].lowercased() == key else { continue }
            var value = String(pair[1])
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            return value.replacingOccurrences(of: "\\\"", with: "\"")
        }
        return nil
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
        var i = start
        let first = needle[0]
        while i <= haystack.count - needle.count {
            if haystack[i] == first, haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }
}

/// What a material file may be: PDF, JPEG or PNG, judged by its first bytes (as intake judges it,
/// W13), and its name's extension must say the same — a PNG named `.pdf` is refused naming the
/// field, so the applicant fixes the file rather than the window finding a wrong document.
public enum MaterialFile {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case pdf = "application/pdf"
        case jpeg = "image/jpeg"
        case png = "image/png"

        public var label: String {
            switch self {
            case .pdf: "PDF文件"
            case .jpeg: "JPEG图片"
            case .png: "PNG图片"
            }
        }
    }

    /// 20 MiB, intake's limit per file (W13): shown next to every file input.
    public static let maximumBytes = 20 << 20
    public static let limitText = "PDF、JPG或PNG格式，每个文件不超过20MB"

    public static func sniff(_ bytes: [UInt8]) -> Kind? {
        if bytes.starts(with: Array("%PDF-".utf8)) { return .pdf }
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        return nil
    }

    public static func kind(ofFileName name: String) -> Kind? {
        switch name.split(separator: ".").last.map({ $0.lowercased() }) {
        case "pdf": .pdf
        case "jpg", "jpeg": .jpeg
        case "png": .png
        default: nil
        }
    }

    /// The file's kind, or the Chinese error shown next to its input (`label` is the material's name).
    public static func check(fileName: String, bytes: [UInt8], label: String) -> Result<Kind, FieldProblem> {
        if bytes.count > maximumBytes {
            return .failure(FieldProblem("“\(label)”超过20MB（现为\(String(format: "%.1f", Double(bytes.count) / 1_048_576))MB），请压缩或分辨率调低后重新上传"))
        }
        guard let content = sniff(bytes) else {
            return .failure(FieldProblem("“\(label)”不是PDF、JPG或PNG文件，请转换后上传"))
        }
        guard let named = kind(ofFileName: fileName) else {
            return .failure(FieldProblem("“\(label)”的文件名应以.pdf、.jpg或.png结尾"))
        }
        guard named == content else {
            return .failure(FieldProblem("“\(label)”的内容是\(content.label)，与文件名（\(named.label)）不符，请确认上传的是正确的文件"))
        }
        return .success(content)
    }

    /// Lower-case hex SHA-256, as intake names stored files.
    public static func sha256(_ bytes: [UInt8]) -> String {
        Hex.lowercase(SHA256.hash(data: bytes))
    }
}

/// One field's error message.
public struct FieldProblem: Error, Sendable, Hashable {
    public var message: String
    public init(_ message: String) { self.message = message }
}
