/// Column metadata shared by all rows of one result.
public final class PostgresColumns: Sendable {
    public let names: [String]
    public let typeOIDs: [UInt32]
    let indexByName: [String: Int]

    /// The (no) columns of a command result (INSERT/UPDATE without RETURNING, DDL): one shared
    /// instance instead of an allocation per statement.
    static let none = PostgresColumns(names: [], typeOIDs: [])

    init(names: [String], typeOIDs: [UInt32]) {
        self.names = names
        self.typeOIDs = typeOIDs
        var index: [String: Int] = [:]
        for (i, name) in names.enumerated() where index[name] == nil { index[name] = i }
        self.indexByName = index
    }
}

/// One result row, copied out of libpq (values in PostgreSQL text format) so it outlives the result.
public struct PostgresRow: Sendable {
    public let columns: PostgresColumns
    /// Raw text-format values; nil is SQL NULL.
    public let values: [[UInt8]?]

    /// Reads a column by name; throws ``PostgresDecodingError`` for a missing column, NULL (decode
    /// as `T?` to accept it) or a value of an incompatible PostgreSQL type.
    public func decode<T: SQLDecodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        guard let index = columns.indexByName[column] else {
            throw PostgresDecodingError(column: column, swiftType: "\(T.self)", reason: .missingColumn)
        }
        return try T.decode(SQLCell(column: column, typeOID: columns.typeOIDs[index], bytes: values[index]))
    }

    /// Reads a column by position.
    public func decode<T: SQLDecodable>(at index: Int, as type: T.Type = T.self) throws -> T {
        guard index >= 0, index < values.count else {
            throw PostgresDecodingError(column: "#\(index)", swiftType: "\(T.self)", reason: .missingColumn)
        }
        return try T.decode(SQLCell(column: columns.names[index], typeOID: columns.typeOIDs[index], bytes: values[index]))
    }

    /// A column's value as PostgreSQL sent it (text format), without making a `String` of it — for a
    /// reader that parses the bytes itself (evaluation's facts). Throws for a missing column or NULL.
    public func textBytes(_ column: String) throws -> [UInt8] {
        guard let index = columns.indexByName[column] else {
            throw PostgresDecodingError(column: column, swiftType: "[UInt8]", reason: .missingColumn)
        }
        guard let bytes = values[index] else { throw PostgresDecodingError(column: column, swiftType: "[UInt8]", reason: .unexpectedNull) }
        return bytes
    }

    /// Whether the named column is present and NULL.
    public func isNull(_ column: String) -> Bool {
        guard let index = columns.indexByName[column] else { return false }
        return values[index] == nil
    }
}

/// The rows of a statement plus the count PostgreSQL reports for INSERT/UPDATE/DELETE.
public struct PostgresRows: RandomAccessCollection, Sendable {
    public let columns: PostgresColumns
    public let rows: [PostgresRow]
    /// Rows affected (`PQcmdTuples`), or the row count for SELECT.
    public let affectedRows: Int

    public var startIndex: Int { rows.startIndex }
    public var endIndex: Int { rows.endIndex }
    public subscript(position: Int) -> PostgresRow { rows[position] }

    /// The single row; throws when there is none.
    public func one() throws -> PostgresRow {
        guard let row = rows.first else {
            throw PostgresError(kind: .invalidQuery, message: "expected one row, the statement returned none")
        }
        return row
    }
}
