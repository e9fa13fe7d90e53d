import Foundation

/// One column value handed to ``SQLDecodable``: text-format bytes (nil = NULL) and the type OID.
public struct SQLCell: Sendable {
    public let column: String
    public let typeOID: UInt32
    public let bytes: [UInt8]?

    public var text: String? { bytes.map { String(decoding: $0, as: UTF8.self) } }

    func fail(_ swiftType: Any.Type, _ reason: PostgresDecodingError.Reason) -> PostgresDecodingError {
        PostgresDecodingError(column: column, swiftType: "\(swiftType)", reason: reason)
    }

    /// The text value for a non-optional decode whose column must have one of `allowed` types.
    func requireText(_ swiftType: Any.Type, allowed: Set<UInt32>) throws -> String {
        guard allowed.contains(typeOID) else { throw fail(swiftType, .typeMismatch(postgresTypeOID: typeOID)) }
        guard let text else { throw fail(swiftType, .unexpectedNull) }
        return text
    }
}

/// A Swift type that can be read from a result column.
public protocol SQLDecodable: Sendable {
    static func decode(_ cell: SQLCell) throws -> Self
}

extension Optional: SQLDecodable where Wrapped: SQLDecodable {
    public static func decode(_ cell: SQLCell) throws -> Wrapped? {
        guard cell.bytes != nil else { return nil }
        return try Wrapped.decode(cell)
    }
}

private let textTypes: Set<UInt32> = [
    PostgresTypeOID.text, PostgresTypeOID.varchar, PostgresTypeOID.bpchar, PostgresTypeOID.name,
    PostgresTypeOID.unknown, PostgresTypeOID.json, PostgresTypeOID.jsonb, PostgresTypeOID.uuid,
]
private let integerTypes: Set<UInt32> = [PostgresTypeOID.int2, PostgresTypeOID.int4, PostgresTypeOID.int8, PostgresTypeOID.oid]

extension String: SQLDecodable {
    /// Accepts text-like types and user-defined types (enums, domains over text).
    public static func decode(_ cell: SQLCell) throws -> String {
        guard textTypes.contains(cell.typeOID) || cell.typeOID >= PostgresTypeOID.firstUserDefined else {
            throw cell.fail(String.self, .typeMismatch(postgresTypeOID: cell.typeOID))
        }
        guard let text = cell.text else { throw cell.fail(String.self, .unexpectedNull) }
        return text
    }
}

extension Int: SQLDecodable {
    public static func decode(_ cell: SQLCell) throws -> Int {
        let text = try cell.requireText(Int.self, allowed: integerTypes)
        guard let value = Int(text) else { throw cell.fail(Int.self, .malformedValue(text)) }
        return value
    }
}

extension Int64: SQLDecodable {
    public static func decode(_ cell: SQLCell) throws -> Int64 {
        let text = try cell.requireText(Int64.self, allowed: integerTypes)
        guard let value = Int64(text) else { throw cell.fail(Int64.self, .malformedValue(text)) }
        return value
    }
}

extension Int32: SQLDecodable {
    public static func decode(_ cell: SQLCell) throws -> Int32 {
        let text = try cell.requireText(Int32.self, allowed: integerTypes)
        guard let value = Int32(text) else { throw cell.fail(Int32.self, .malformedValue(text)) }
        return value
    }
}

extension Bool: SQLDecodable {
    public static func decode(_ cell: SQLCell) throws -> Bool {
        let text = try cell.requireText(Bool.self, allowed: [PostgresTypeOID.bool])
        switch text {
        case "t": return true
        case "f": return false
        default: throw cell.fail(Bool.self, .malformedValue(text))
        }
    }
}

extension Double: SQLDecodable {
    public static func decode(_ cell: SQLCell) throws -> Double {
        let text = try cell.requireText(
            Double.self, allowed: integerTypes.union([PostgresTypeOID.float4, PostgresTypeOID.float8, PostgresTypeOID.numeric]))
        switch text {
        case "NaN": return .nan
        case "Infinity": return .infinity
        case "-Infinity": return -.infinity
        default:
            guard let value = Double(text) else { throw cell.fail(Double.self, .malformedValue(text)) }
            return value
        }
    }
}

extension UUID: SQLDecodable {
    public static func decode(_ cell: SQLCell) throws -> UUID {
        let text = try cell.requireText(UUID.self, allowed: [PostgresTypeOID.uuid, PostgresTypeOID.text, PostgresTypeOID.varchar])
        guard let value = UUID(uuidString: text) else { throw cell.fail(UUID.self, .malformedValue(text)) }
        return value
    }
}

extension Date: SQLDecodable {
    public static func decode(_ cell: SQLCell) throws -> Date {
        let text = try cell.requireText(
            Date.self, allowed: [PostgresTypeOID.timestamptz, PostgresTypeOID.timestamp, PostgresTypeOID.date])
        guard let value = PostgresTimestamp.parse(text) else { throw cell.fail(Date.self, .malformedValue(text)) }
        return value
    }
}

extension Array: SQLDecodable where Element == UInt8 {
    /// Reads `bytea` (hex output format `\x…`).
    public static func decode(_ cell: SQLCell) throws -> [UInt8] {
        guard cell.typeOID == PostgresTypeOID.bytea else {
            throw cell.fail([UInt8].self, .typeMismatch(postgresTypeOID: cell.typeOID))
        }
        guard let bytes = cell.bytes else { throw cell.fail([UInt8].self, .unexpectedNull) }
        guard bytes.count >= 2, bytes[0] == UInt8(ascii: "\\"), bytes[1] == UInt8(ascii: "x"), bytes.count % 2 == 0 else {
            throw cell.fail([UInt8].self, .malformedValue(cell.text ?? ""))
        }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        var out = [UInt8]()
        out.reserveCapacity((bytes.count - 2) / 2)
        var i = 2
        while i < bytes.count {
            guard let hi = nibble(bytes[i]), let lo = nibble(bytes[i + 1]) else {
                throw cell.fail([UInt8].self, .malformedValue(cell.text ?? ""))
            }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }
}

extension Data: SQLDecodable {
    public static func decode(_ cell: SQLCell) throws -> Data {
        Data(try [UInt8].decode(cell))
    }
}

/// Reads a one-dimensional `text[]`/`varchar[]` (or any array, element-wise as text) column.
public struct SQLTextArray: SQLDecodable, Hashable {
    public var elements: [String?]

    public static func decode(_ cell: SQLCell) throws -> SQLTextArray {
        guard let text = cell.text else { throw cell.fail(SQLTextArray.self, .unexpectedNull) }
        guard let parsed = parseArrayLiteral(text) else { throw cell.fail(SQLTextArray.self, .malformedValue(text)) }
        return SQLTextArray(elements: parsed)
    }

    /// Parses `{a,"b c",NULL}`; nil for malformed or multi-dimensional input.
    static func parseArrayLiteral(_ text: String) -> [String?]? {
        var scalars = Array(text.unicodeScalars)
        if let eq = scalars.firstIndex(of: "="), scalars.first == "[" { scalars = Array(scalars[(eq + 1)...]) }
        guard scalars.first == "{", scalars.last == "}" else { return nil }
        var result: [String?] = []
        var i = 1
        let end = scalars.count - 1
        if i == end { return [] }
        while i <= end {
            var element = String.UnicodeScalarView()
            var quoted = false
            if scalars[i] == "\"" {
                quoted = true
                i += 1
                while i < end, scalars[i] != "\"" {
                    if scalars[i] == "\\" { i += 1 }
                    guard i < end else { return nil }
                    element.append(scalars[i])
                    i += 1
                }
                i += 1
            } else {
                while i < end, scalars[i] != "," {
                    if scalars[i] == "{" { return nil }
                    element.append(scalars[i])
                    i += 1
                }
            }
            let value = String(element)
            result.append(!quoted && value == "NULL" ? nil : value)
            guard i == end || scalars[i] == "," else { return nil }
            i += 1
        }
        return result
    }
}
