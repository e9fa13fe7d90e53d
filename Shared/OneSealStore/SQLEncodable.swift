import Foundation

/// A Swift value that can be sent as a bind parameter.
public protocol SQLEncodable: Sendable {
    var sqlBind: SQLBind { get }
}

extension String: SQLEncodable {
    /// Sent untyped so PostgreSQL infers the column type (text, varchar, jsonb, enum …).
    public var sqlBind: SQLBind { SQLBind(typeOID: PostgresTypeOID.unspecified, text: self) }
}

extension Substring: SQLEncodable {
    public var sqlBind: SQLBind { String(self).sqlBind }
}

extension Int: SQLEncodable {
    public var sqlBind: SQLBind { SQLBind(typeOID: PostgresTypeOID.int8, text: String(self)) }
}

extension Int64: SQLEncodable {
    public var sqlBind: SQLBind { SQLBind(typeOID: PostgresTypeOID.int8, text: String(self)) }
}

extension Int32: SQLEncodable {
    public var sqlBind: SQLBind { SQLBind(typeOID: PostgresTypeOID.int4, text: String(self)) }
}

extension Int16: SQLEncodable {
    public var sqlBind: SQLBind { SQLBind(typeOID: PostgresTypeOID.int2, text: String(self)) }
}

extension Bool: SQLEncodable {
    public var sqlBind: SQLBind { SQLBind(typeOID: PostgresTypeOID.bool, text: self ? "t" : "f") }
}

extension Double: SQLEncodable {
    public var sqlBind: SQLBind {
        let text: String
        if isNaN {
            text = "NaN"
        } else if isInfinite {
            text = self < 0 ? "-Infinity" : "Infinity"
        } else {
            text = "\(self)"
        }
        return SQLBind(typeOID: PostgresTypeOID.float8, text: text)
    }
}

extension Array: SQLEncodable where Element == UInt8 {
    /// Bytes are bound as `bytea` in binary format (no escaping, no hex doubling).
    public var sqlBind: SQLBind { SQLBind(typeOID: PostgresTypeOID.bytea, isBinary: true, bytes: self) }
}

extension Data: SQLEncodable {
    public var sqlBind: SQLBind { SQLBind(typeOID: PostgresTypeOID.bytea, isBinary: true, bytes: [UInt8](self)) }
}

extension UUID: SQLEncodable {
    public var sqlBind: SQLBind { SQLBind(typeOID: PostgresTypeOID.uuid, text: uuidString.lowercased()) }
}

extension Date: SQLEncodable {
    /// Bound as `timestamptz` with microsecond precision in UTC.
    public var sqlBind: SQLBind {
        SQLBind(typeOID: PostgresTypeOID.timestamptz, text: PostgresTimestamp.format(self))
    }
}

/// An array bound as a PostgreSQL array (`text[]`, `int8[]`, `uuid[]`), e.g. for `= ANY($1)`.
///
/// Arrays are wrapped rather than conforming `Array` directly because `[UInt8]` already means bytea.
public struct SQLArray: SQLEncodable, Hashable {
    public let sqlBind: SQLBind

    public init(_ values: [String]) {
        sqlBind = SQLBind(typeOID: PostgresTypeOID.textArray, text: Self.literal(values.map { Self.quote($0) }))
    }

    public init(_ values: [Int]) {
        sqlBind = SQLBind(typeOID: PostgresTypeOID.int8Array, text: Self.literal(values.map(String.init)))
    }

    public init(_ values: [Int64]) {
        sqlBind = SQLBind(typeOID: PostgresTypeOID.int8Array, text: Self.literal(values.map { String($0) }))
    }

    public init(_ values: [UUID]) {
        sqlBind = SQLBind(typeOID: PostgresTypeOID.uuidArray, text: Self.literal(values.map { $0.uuidString.lowercased() }))
    }

    public init(_ values: [Bool]) {
        sqlBind = SQLBind(typeOID: PostgresTypeOID.boolArray, text: Self.literal(values.map { $0 ? "t" : "f" }))
    }

    /// `text[]` whose elements may be NULL.
    public init(_ values: [String?]) {
        sqlBind = SQLBind(typeOID: PostgresTypeOID.textArray, text: Self.literal(values.map { $0.map(Self.quote) ?? "NULL" }))
    }

    /// `bytea[]`, each element written in hex (`\x…`): one array of many rows' payloads, for a
    /// multi-row INSERT … SELECT FROM unnest(…).
    public init(_ values: [[UInt8]]) {
        sqlBind = SQLBind(typeOID: PostgresTypeOID.byteaArray, text: Self.literal(values.map { Self.quote(Hex.lowercase($0, prefix: "\\x")) }))
    }

    /// `timestamptz[]` (microseconds, UTC) whose elements may be NULL.
    public init(_ values: [Date?]) {
        sqlBind = SQLBind(typeOID: PostgresTypeOID.timestamptzArray, text: Self.literal(values.map { $0.map { Self.quote(PostgresTimestamp.format($0)) } ?? "NULL" }))
    }

    private static func literal(_ elements: [String]) -> String {
        "{" + elements.joined(separator: ",") + "}"
    }

    /// Quotes an element of an array literal: always double-quoted, `"` and `\` backslash-escaped.
    private static func quote(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            if scalar == "\"" || scalar == "\\" { out.unicodeScalars.append("\\") }
            out.unicodeScalars.append(scalar)
        }
        return out + "\""
    }
}
