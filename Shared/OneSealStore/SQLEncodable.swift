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

/// An array bound as a PostgreSQL array (`text[]`, `int8[]`, `uuid[]`, …), e.g. for `= ANY($1)`
/// or a multi-row `INSERT … SELECT FROM unnest(…)`.
///
/// Arrays are wrapped rather than conforming `Array` directly because `[UInt8]` already means bytea.
/// They are sent in PostgreSQL's binary array format (`BinaryArray`), written straight into the
/// bind's bytes: the server copies each element instead of parsing a text literal (`array_in` was
/// ≈ 8 % of PostgreSQL's CPU in the life cycle, #21), and a bytea element travels as its bytes,
/// not as hex twice its size.
public struct SQLArray: SQLEncodable, Hashable {
    public let sqlBind: SQLBind

    public init(_ values: [String]) {
        var array = BinaryArray(element: PostgresTypeOID.text, capacity: values.reduce(0) { $0 + $1.utf8.count + 4 })
        for value in values { array.append(value.utf8) }
        sqlBind = array.bind(PostgresTypeOID.textArray)
    }

    public init(_ values: [Int]) {
        self.init(values.map { Int64($0) })
    }

    public init(_ values: [Int64]) {
        var array = BinaryArray(element: PostgresTypeOID.int8, capacity: values.count * 12)
        for value in values { array.append(int64: value) }
        sqlBind = array.bind(PostgresTypeOID.int8Array)
    }

    public init(_ values: [UUID]) {
        var array = BinaryArray(element: PostgresTypeOID.uuid, capacity: values.count * 20)
        for value in values { withUnsafeBytes(of: value.uuid) { array.append($0) } }
        sqlBind = array.bind(PostgresTypeOID.uuidArray)
    }

    public init(_ values: [Bool]) {
        var array = BinaryArray(element: PostgresTypeOID.bool, capacity: values.count * 5)
        for value in values { array.append(CollectionOfOne(value ? 1 : 0)) }
        sqlBind = array.bind(PostgresTypeOID.boolArray)
    }

    /// `text[]` whose elements may be NULL.
    public init(_ values: [String?]) {
        var array = BinaryArray(element: PostgresTypeOID.text, capacity: values.reduce(0) { $0 + ($1?.utf8.count ?? 0) + 4 })
        for value in values {
            if let value { array.append(value.utf8) } else { array.appendNull() }
        }
        sqlBind = array.bind(PostgresTypeOID.textArray)
    }

    /// `bytea[]`: one array of many rows' payloads, for a multi-row INSERT … SELECT FROM unnest(…).
    public init(_ values: [[UInt8]]) {
        var array = BinaryArray(element: PostgresTypeOID.bytea, capacity: values.reduce(0) { $0 + $1.count + 4 })
        for value in values { array.append(value) }
        sqlBind = array.bind(PostgresTypeOID.byteaArray)
    }

    /// `timestamptz[]` (microseconds, UTC, rounded as `PostgresTimestamp.format` rounds) whose
    /// elements may be NULL.
    public init(_ values: [Date?]) {
        var array = BinaryArray(element: PostgresTypeOID.timestamptz, capacity: values.count * 12)
        for value in values {
            if let value { array.append(int64: PostgresTimestamp.microsecondsSince2000(value)) } else { array.appendNull() }
        }
        sqlBind = array.bind(PostgresTypeOID.timestamptzArray)
    }
}

/// PostgreSQL's binary form of a one-dimensional array, as `array_recv` reads it: the number of
/// dimensions (1; 0 for an empty array), whether any element is NULL, the element type, the
/// dimension's length and lower bound (1), then each element as its length in bytes (-1: NULL)
/// and its binary form. All integers big-endian.
struct BinaryArray {
    private(set) var bytes: [UInt8]
    private var count: Int32 = 0
    private var hasNull = false

    init(element typeOID: UInt32, capacity: Int) {
        bytes = []
        bytes.reserveCapacity(20 + capacity)
        put(Int32(1))
        put(Int32(0))  // has NULLs: set in `bind`
        put(Int32(bitPattern: typeOID))
        put(Int32(0))  // length: set in `bind`
        put(Int32(1))
    }

    private mutating func put(_ value: Int32) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    private mutating func patch(_ value: Int32, at offset: Int) {
        withUnsafeBytes(of: value.bigEndian) { bytes.replaceSubrange(offset..<offset + 4, with: $0) }
    }

    mutating func append(_ element: some Collection<UInt8>) {
        count += 1
        put(Int32(element.count))
        bytes.append(contentsOf: element)
    }

    mutating func append(int64 value: Int64) {
        count += 1
        put(Int32(8))
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func appendNull() {
        count += 1
        hasNull = true
        put(Int32(-1))
    }

    consuming func bind(_ arrayTypeOID: UInt32) -> SQLBind {
        if count == 0 {
            // No dimensions: `{}`. The element type stays; nothing follows it.
            bytes.removeSubrange(12...)
            patch(0, at: 0)
        } else {
            patch(hasNull ? 1 : 0, at: 4)
            patch(count, at: 12)
        }
        return SQLBind(typeOID: arrayTypeOID, isBinary: true, bytes: bytes)
    }
}
