/// A connection leased from a ``PostgresClient`` (inside `withConnection` / `withTransaction`).
///
/// All calls are async; the blocking libpq work happens on the client's thread pool. Do not keep
/// it after the closure returns: the connection goes back to the pool.
public struct PostgresConnection: Sendable {
    let raw: LibPQConnection
    let executor: BlockingExecutor

    /// Runs a statement and returns its rows.
    public func query(_ query: SQLQuery) async throws -> PostgresRows {
        try await blocking { try $0.execute(query) }
    }

    /// Runs a statement and returns the number of rows it affected.
    @discardableResult
    public func execute(_ query: SQLQuery) async throws -> Int {
        try await self.query(query).affectedRows
    }

    /// Runs `query` in this transaction without waiting for its answer: it is sent in the same
    /// write as the transaction's next statement or its COMMIT (one round trip fewer, #21). For a
    /// write whose result nobody reads — an outbox row, a read-log row, an audit entry. Its error
    /// fails that next statement or the COMMIT, so the transaction never commits without it.
    /// Outside a transaction it runs at once, as `execute` does.
    public func executeWithNext(_ query: SQLQuery) async throws {
        try await blocking { try $0.executeWithNext(query) }
    }

    /// Runs `action` once this transaction has committed (after `withTransaction`'s COMMIT
    /// succeeded; never when it rolls back). Outside a transaction each statement commits as it
    /// returns, so `action` runs at once. For what a process may only believe once its write is
    /// durable and visible to others (`HeldStates.committed`).
    public func afterCommit(_ action: @escaping @Sendable () -> Void) {
        if raw.inTransaction { raw.afterCommit.append(action) } else { action() }
    }

    /// Commits the transaction `withTransaction` opened (and sends what is deferred with it).
    func commit() async throws {
        try await blocking { try $0.commit() }
    }

    /// Runs trusted, parameterless SQL that may hold several statements (migration files, fixed
    /// DDL). Never pass text built from input: use ``query(_:)`` with interpolated binds instead.
    public func executeScript(_ sql: String) async throws {
        try await blocking { try $0.executeScript(sql) }
    }

    /// Runs a blocking libpq call: right here when this task already runs on the connection's own
    /// thread (its lease prefers that thread as executor), else handed to the thread pool.
    private func blocking<T: Sendable>(_ call: @escaping @Sendable (LibPQConnection) throws -> T) async throws -> T {
        let raw = self.raw
        if raw.thread.isCurrent { return try call(raw) }
        return try await executor.run { try call(raw) }
    }

    /// The server process id serving this connection (`pg_backend_pid()`).
    public var backendPID: Int32 { raw.backendPID }
}

/// Transaction isolation levels (PostgreSQL's names).
public enum PostgresIsolationLevel: String, Sendable {
    case readCommitted = "READ COMMITTED"
    case repeatableRead = "REPEATABLE READ"
    case serializable = "SERIALIZABLE"
}

/// Helpers for libpq connection strings.
public enum PostgresConnInfo {
    /// Returns `conninfo` pointing at `database`, every other setting kept.
    public static func replacingDatabase(in conninfo: String, with database: String) throws -> String {
        try LibPQConnection.replacingDatabase(in: conninfo, with: database)
    }
}
