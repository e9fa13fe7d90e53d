/// A SQL statement whose interpolated values are sent as bind parameters (`$1`, `$2`, …).
///
/// Writing `"SELECT * FROM t WHERE name = \(name)"` never splices `name` into the SQL text: it
/// becomes `$1` with `name` as a parameter, so injection is impossible by construction. The only
/// text that can be interpolated verbatim is a validated ``SQLIdentifier`` (identifiers cannot be
/// bound in PostgreSQL).
public struct SQLQuery: Sendable, Hashable, ExpressibleByStringInterpolation, CustomStringConvertible {
    /// The statement text with `$n` placeholders.
    public var sql: String
    public var binds: [SQLBind]

    public init(stringLiteral value: String) {
        self.sql = value
        self.binds = []
    }

    // The interpolation path is @inlinable so it is specialised for each value type at the call
    // site instead of looking up generic metadata on every query built.
    @inlinable
    public init(stringInterpolation: StringInterpolation) {
        self.sql = stringInterpolation.sql
        self.binds = stringInterpolation.binds
    }

    /// A statement with explicit placeholders, for SQL assembled from fixed fragments.
    public init(sql: String, binds: [SQLBind] = []) {
        self.sql = sql
        self.binds = binds
    }

    public var description: String { "\(sql) [\(binds.count) parameter(s)]" }

    public struct StringInterpolation: StringInterpolationProtocol, Sendable {
        public var sql: String
        public var binds: [SQLBind]

        @inlinable
        public init(literalCapacity: Int, interpolationCount: Int) {
            sql = ""
            sql.reserveCapacity(literalCapacity + interpolationCount * 3)
            binds = []
            binds.reserveCapacity(interpolationCount)
        }

        @inlinable
        public mutating func appendLiteral(_ literal: String) {
            sql += literal
        }

        /// Binds a value as the next `$n` parameter.
        @inlinable
        public mutating func appendInterpolation<Value: SQLEncodable>(_ value: Value) {
            binds.append(value.sqlBind)
            sql += "$\(binds.count)"
        }

        /// Binds an optional value; nil becomes SQL NULL.
        @inlinable
        public mutating func appendInterpolation<Value: SQLEncodable>(_ value: Value?) {
            binds.append(value?.sqlBind ?? .null)
            sql += "$\(binds.count)"
        }

        /// Inserts a validated, quoted identifier (table, column, role or database name).
        public mutating func appendInterpolation(identifier: SQLIdentifier) {
            sql += identifier.quoted
        }
    }
}

/// One bind parameter: its type OID, wire format and bytes (nil = NULL).
public struct SQLBind: Sendable, Hashable {
    public var typeOID: UInt32
    /// True to send `bytes` in PostgreSQL's binary format (used for bytea), false for text format.
    public var isBinary: Bool
    public var bytes: [UInt8]?

    public init(typeOID: UInt32, isBinary: Bool = false, bytes: [UInt8]?) {
        self.typeOID = typeOID
        self.isBinary = isBinary
        self.bytes = bytes
    }

    public init(typeOID: UInt32, text: String) {
        self.init(typeOID: typeOID, isBinary: false, bytes: Array(text.utf8))
    }

    /// SQL NULL of unspecified type (PostgreSQL infers it from context).
    public static let null = SQLBind(typeOID: PostgresTypeOID.unspecified, bytes: nil)
}

/// A validated SQL identifier. Identifiers cannot be bind parameters, so they are restricted to
/// `^[a-z_][a-z0-9_]*$` (max 63 bytes) and always double-quoted when put into SQL.
public struct SQLIdentifier: Sendable, Hashable, CustomStringConvertible {
    public let name: String

    /// Fails with ``SQLIdentifierError`` unless `name` matches `^[a-z_][a-z0-9_]*$` and is ≤ 63 bytes.
    public init(_ name: String) throws(SQLIdentifierError) {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= 63 else { throw SQLIdentifierError(name: name) }
        for (index, byte) in bytes.enumerated() {
            let isLower = byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")
            let isDigit = byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
            let isUnderscore = byte == UInt8(ascii: "_")
            guard isLower || isUnderscore || (isDigit && index > 0) else { throw SQLIdentifierError(name: name) }
        }
        self.name = name
    }

    /// The identifier in double quotes, safe to place in SQL text.
    public var quoted: String { "\"\(name)\"" }
    public var description: String { name }
}

public struct SQLIdentifierError: Error, CustomStringConvertible, Sendable {
    public var name: String
    public var description: String {
        "invalid SQL identifier \(name.debugDescription): must match ^[a-z_][a-z0-9_]*$ and be at most 63 bytes"
    }
}
