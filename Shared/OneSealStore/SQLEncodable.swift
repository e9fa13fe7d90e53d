import Foundation
import OneSealCore

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
/// The literal is written straight into the bind's bytes (`ArrayLiteral`): a batch of facts or
/// outbox payloads is one array of many kilobytes, and quoting it scalar by scalar into Strings
/// was a tenth of evaluation's CPU (#21).
public struct SQLArray: SQLEncodable, Hashable {
    public let sqlBind: SQLBind

    public init(_ values: [String]) {
        var literal = ArrayLiteral(capacity: values.reduce(2) { $0 + $1.utf8.count + 3 })
        for value in values { literal.quoted(value.utf8) }
        sqlBind = literal.bind(PostgresTypeOID.textArray)
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
        var literal = ArrayLiteral(capacity: values.reduce(2) { $0 + ($1?.utf8.count ?? 4) + 3 })
        for value in values {
            if let value { literal.quoted(value.utf8) } else { literal.null() }
        }
        sqlBind = literal.bind(PostgresTypeOID.textArray)
    }

    /// `bytea[]`, each element written in hex (`"\\x…"`): one array of many rows' payloads, for a
    /// multi-row INSERT … SELECT FROM unnest(…).
    public init(_ values: [[UInt8]]) {
        var literal = ArrayLiteral(capacity: values.reduce(2) { $0 + $1.count * 2 + 6 })
        for value in values { literal.hex(value) }
        sqlBind = literal.bind(PostgresTypeOID.byteaArray)
    }

    /// `timestamptz[]` (microseconds, UTC) whose elements may be NULL.
    public init(_ values: [Date?]) {
        var literal = ArrayLiteral(capacity: values.count * 32 + 2)
        for value in values {
            if let value { literal.quoted(PostgresTimestamp.format(value).utf8) } else { literal.null() }
        }
        sqlBind = literal.bind(PostgresTypeOID.timestamptzArray)
    }

    /// The literal of elements that need no quoting (numbers, UUIDs, booleans).
    private static func literal(_ elements: [String]) -> String {
        "{" + elements.joined(separator: ",") + "}"
    }
}

/// PostgreSQL's text form of a one-dimensional array, written element by element into bytes:
/// `{"a","b\"c",NULL}`. Every element is double-quoted, with `"` and `\` backslash-escaped —
/// both ASCII, so they never occur inside a multi-byte UTF-8 sequence and the bytes can be
/// copied as they are.
struct ArrayLiteral {
    private(set) var bytes: [UInt8]
    private var first = true

    init(capacity: Int) {
        bytes = []
        bytes.reserveCapacity(capacity)
        bytes.append(UInt8(ascii: "{"))
    }

    private mutating func separate() {
        if first { first = false } else { bytes.append(UInt8(ascii: ",")) }
    }

    mutating func null() {
        separate()
        bytes.append(contentsOf: "NULL".utf8)
    }

    mutating func quoted(_ element: some Sequence<UInt8>) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        for byte in element {
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { bytes.append(UInt8(ascii: "\\")) }
            bytes.append(byte)
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// A bytea element in hex: `"\\x0aff"` (the array's quoting doubles bytea's own backslash).
    mutating func hex(_ element: [UInt8]) {
        separate()
        bytes.append(contentsOf: #""\\x"#.utf8)
        Hex.append(element, to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    consuming func bind(_ typeOID: UInt32) -> SQLBind {
        bytes.append(UInt8(ascii: "}"))
        return SQLBind(typeOID: typeOID, bytes: bytes)
    }
}
