/// Why a piece of text is not a date; carried so that an operator loading a calendar or an
/// integrator sending a request sees which value was wrong.
public enum CivilDateError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Not of the form YYYY-MM-DD (four, two and two ASCII digits).
    case invalidFormat(String)
    /// Well formed but no such day, e.g. 2026-02-29.
    case nonexistentDate(String)

    public var description: String {
        switch self {
        case .invalidFormat(let text): "“\(text)” is not a date in the form YYYY-MM-DD"
        case .nonexistentDate(let text): "“\(text)” is not a real calendar date"
        }
    }
}

extension CivilDate {
    /// Parses exactly "YYYY-MM-DD", the form used on the wire, in the database and in calendar
    /// files. Nothing looser is accepted so that one date has one spelling.
    public init(parsing text: some StringProtocol) throws(CivilDateError) {
        let bytes = Array(text.utf8)
        self = try bytes.withUnsafeBufferPointer { buffer throws(CivilDateError) in try CivilDate(utf8: buffer) }
    }

    /// `init(parsing:)` over the text's UTF-8 bytes, for a reader that has the bytes and no
    /// `String` (evaluation's `FactJSON` reads two million stored facts at a start).
    public init(utf8 bytes: UnsafeBufferPointer<UInt8>) throws(CivilDateError) {
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") else {
            throw .invalidFormat(String(decoding: bytes, as: UTF8.self))
        }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for byte in bytes[range] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard let y = number(0..<4), let m = number(5..<7), let d = number(8..<10) else {
            throw .invalidFormat(String(decoding: bytes, as: UTF8.self))
        }
        guard let date = CivilDate(year: y, month: m, day: d) else {
            throw .nonexistentDate(String(decoding: bytes, as: UTF8.self))
        }
        self = date
    }

    /// "YYYY-MM-DD" with zero padding; the inverse of `init(parsing:)`.
    public var iso8601: String {
        func pad(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }
}

extension CivilDate: LosslessStringConvertible {
    public init?(_ description: String) {
        guard let date = try? CivilDate(parsing: description) else { return nil }
        self = date
    }

    public var description: String { iso8601 }
}

/// Encoded as the string "YYYY-MM-DD" rather than three numbers, so JSON, logs and SQL all show
/// the same text.
extension CivilDate: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            self = try CivilDate(parsing: text)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(iso8601)
    }
}
