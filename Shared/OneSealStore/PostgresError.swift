/// An error from PostgreSQL or from talking to it.
///
/// Server errors keep every diagnostic field libpq reports, so callers can branch on SQLSTATE
/// (e.g. turn a unique violation into `ALREADY_EXISTS`) instead of parsing messages.
public struct PostgresError: Error, CustomStringConvertible, Sendable {
    /// Where the error came from; decides whether the connection can still be used.
    public enum Kind: Sendable, Equatable {
        /// The server rejected a statement; the connection is still usable.
        case server
        /// Could not connect, or the connection broke while in use; the connection is discarded.
        case connection
        /// The client was shut down.
        case clientClosed
        /// A query could not be sent (e.g. a parameter contains a NUL byte).
        case invalidQuery
    }

    public var kind: Kind
    /// Five-character SQLSTATE code, e.g. `23505`; nil for client-side errors.
    public var sqlState: String?
    public var severity: String?
    public var message: String
    public var detail: String?
    public var hint: String?
    public var schema: String?
    public var table: String?
    public var column: String?
    public var constraint: String?
    /// The server routine that raised the error (libpq's `PG_DIAG_SOURCE_FUNCTION`). Unlike the
    /// message it is never translated, so the client can recognise errors such as a stale
    /// prepared statement by it.
    public internal(set) var routine: String?
    /// Set when the error came from a cached prepared statement that the server could no longer
    /// use inside a transaction block; the cache has been fixed, so running the transaction
    /// again succeeds (``PostgresClient/withTransaction(isolation:maxAttempts:_:)`` does).
    var preparedStatementInvalidated = false

    public init(
        kind: Kind, sqlState: String? = nil, severity: String? = nil, message: String,
        detail: String? = nil, hint: String? = nil, schema: String? = nil, table: String? = nil,
        column: String? = nil, constraint: String? = nil
    ) {
        self.kind = kind
        self.sqlState = sqlState
        self.severity = severity
        self.message = message
        self.detail = detail
        self.hint = hint
        self.schema = schema
        self.table = table
        self.column = column
        self.constraint = constraint
    }

    /// SQLSTATE 23505.
    public var isUniqueViolation: Bool { sqlState == "23505" }
    /// SQLSTATE 23503.
    public var isForeignKeyViolation: Bool { sqlState == "23503" }
    /// SQLSTATE 23514.
    public var isCheckViolation: Bool { sqlState == "23514" }
    /// SQLSTATE 40001: the transaction may succeed when run again.
    public var isSerializationFailure: Bool { sqlState == "40001" }
    /// SQLSTATE 40P01: the transaction may succeed when run again.
    public var isDeadlock: Bool { sqlState == "40P01" }
    /// True for errors after which re-running the whole transaction is the documented remedy.
    public var isRetryableTransactionFailure: Bool { isSerializationFailure || isDeadlock }
    /// True when the connection that produced this error must not be reused.
    public var isConnectionFailure: Bool {
        kind == .connection || (sqlState.map { $0.hasPrefix("08") || $0.hasPrefix("57P") } ?? false)
    }

    public var description: String {
        var text = "PostgresError(\(kind)"
        if let sqlState { text += ", SQLSTATE \(sqlState)" }
        text += "): \(message)"
        if let detail { text += " DETAIL: \(detail)" }
        if let hint { text += " HINT: \(hint)" }
        if let constraint { text += " CONSTRAINT: \(constraint)" }
        if let table { text += " TABLE: \(table)" }
        if let column { text += " COLUMN: \(column)" }
        return text
    }
}

/// A column could not be read as the requested Swift type.
public struct PostgresDecodingError: Error, CustomStringConvertible, Sendable {
    public enum Reason: Sendable, Equatable {
        case missingColumn
        case unexpectedNull
        case typeMismatch(postgresTypeOID: UInt32)
        case malformedValue(String)
    }

    public var column: String
    public var swiftType: String
    public var reason: Reason

    public var description: String {
        switch reason {
        case .missingColumn:
            return "column \"\(column)\" is not in the result (decoding \(swiftType))"
        case .unexpectedNull:
            return "column \"\(column)\" is NULL; decode it as \(swiftType)? to accept NULL"
        case .typeMismatch(let oid):
            return "column \"\(column)\" has PostgreSQL type OID \(oid), which cannot be decoded as \(swiftType)"
        case .malformedValue(let text):
            return "column \"\(column)\" value \(text.prefix(64).debugDescription) is not a valid \(swiftType)"
        }
    }
}
