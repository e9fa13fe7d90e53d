import CLibPQ
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A blocking libpq connection. Every method blocks the calling thread, so it is only ever called
/// from a thread-pool thread (see ``PostgresConnection``), never from an event loop or the
/// cooperative pool.
///
/// `@unchecked Sendable` is safe because a `PGconn` is only touched by one thread at a time:
/// the connection pool hands a connection to exactly one lease holder, whose async calls are
/// sequential (each `await`s the previous blocking call before submitting the next), and the
/// listener owns its connection exclusively. `close()` is called only after the last use.
final class LibPQConnection: @unchecked Sendable {
    private var conn: OpaquePointer?
    let conninfo: String
    /// Backend process id, useful for diagnostics and tests.
    private(set) var backendPID: Int32 = 0
    /// A `BEGIN …` not sent yet: it goes out with the transaction's first statement, in one
    /// write and one round trip (libpq pipeline mode, ``runPipeline``). Before a script
    /// (`executeScript`, which cannot be pipelined) it is sent alone.
    var deferredBegin: String?
    /// Statements of the open transaction nobody waits for (``executeWithNext(_:)``), sent in
    /// the same write as the next statement or the COMMIT.
    private var deferred: [SQLQuery] = []
    /// Set while `withTransaction` runs its body on this connection.
    var inTransaction = false
    /// What the open transaction's writers asked to learn once it has committed
    /// (`PostgresConnection.afterCommit`): run by `withTransaction` after COMMIT succeeds,
    /// dropped when the transaction rolls back.
    var afterCommit: [@Sendable () -> Void] = []
    /// The thread leases of this connection prefer as their task executor.
    let thread = ConnectionThread()
    /// Server-side prepared statements of this session. A new connection (after a reconnect)
    /// starts with an empty cache, as the new backend has no statements either.
    private var statements: PreparedStatementCache

    /// Connects and prepares the session (UTC, ISO dates) so text values decode predictably.
    ///
    /// - Parameter preparedStatementCapacity: how many statements `execute` keeps prepared on
    ///   this connection (see ``PreparedStatementCache``); 0 sends every statement unnamed.
    init(conninfo: String, preparedStatementCapacity: Int = 0) throws {
        self.conninfo = conninfo
        self.statements = PreparedStatementCache(capacity: preparedStatementCapacity)
        guard let conn = PQconnectdb(conninfo) else {
            throw PostgresError(kind: .connection, message: "libpq could not allocate a connection")
        }
        self.conn = conn
        guard PQstatus(conn) == CONNECTION_OK else {
            let message = Self.trimmed(PQerrorMessage(conn))
            PQfinish(conn)
            self.conn = nil
            throw PostgresError(kind: .connection, message: "connection failed: \(message)")
        }
        backendPID = PQbackendPID(conn)
        // JIT off: the services send short statements, and on a big table the cost model can rate
        // one high enough to compile it (evaluation's whole model load spent 1.6 s of its 5.9 s
        // compiling at 1,000,000 applications; docs/benchmarks.md), which does not pay here.
        try executeScript("SET TIME ZONE 'UTC'; SET DateStyle = 'ISO, MDY'; SET extra_float_digits = 3; SET jit = off")
    }

    deinit {
        if let conn { PQfinish(conn) }
        thread.stop()
    }

    var isOK: Bool {
        guard let conn else { return false }
        return PQstatus(conn) == CONNECTION_OK && PQpipelineStatus(conn) == PQ_PIPELINE_OFF
    }

    /// True when not inside a transaction block.
    var isIdle: Bool {
        guard let conn else { return false }
        return PQtransactionStatus(conn) == PQTRANS_IDLE
    }

    var socket: Int32 {
        guard let conn else { return -1 }
        return PQsocket(conn)
    }

    func close() {
        if let conn { PQfinish(conn) }
        conn = nil
        thread.stop()
    }

    /// True when the socket has unread input (or hang-up) right now; never blocks.
    var hasPendingInput: Bool {
        guard let conn, PQstatus(conn) == CONNECTION_OK else { return true }
        var pfd = pollfd(fd: PQsocket(conn), events: Int16(POLLIN), revents: 0)
        return poll(&pfd, 1, 0) != 0
    }

    /// Reads whatever the server sent while the connection sat idle (a FATAL from
    /// `pg_terminate_backend`, EOF, notifications) without waiting, and reports whether the
    /// connection is still usable.
    func checkIdleHealth() -> Bool {
        guard let conn, PQstatus(conn) == CONNECTION_OK else { return false }
        var pfd = pollfd(fd: PQsocket(conn), events: Int16(POLLIN), revents: 0)
        let ready = poll(&pfd, 1, 0)
        if ready > 0 {
            // Something arrived unasked: a notification, or a FATAL error followed by EOF from a
            // terminated backend. A round trip tells which (and surfaces the error/EOF).
            if PQconsumeInput(conn) == 0 { return false }
            while let note = PQnotifies(conn) { PQfreemem(note) }
            guard (try? execute("SELECT 1")) != nil else { return false }
        }
        return PQstatus(conn) == CONNECTION_OK
    }

    /// Runs one parameterized statement (text results): through a cached prepared statement
    /// (`PQprepare` once, then `PQexecPrepared`) when the cache is on, else `PQexecParams`. A
    /// deferred BEGIN and deferred statements go out before it in the same write (``runPipeline``).
    func execute(_ query: SQLQuery) throws -> PostgresRows {
        guard let conn else { throw PostgresError(kind: .connection, message: "connection is closed") }
        if statements.hasPendingMaintenance { runStatementMaintenance(conn) }
        if hasPending {
            return try runPipeline(conn, takePending() + [.statement(query)])
        }
        return try withParameters(of: query) { types, values, lengths, formats in
            let count = Int32(values.count)
            guard statements.isEnabled else {
                return try consume(query.sql.withCString { PQexecParams(conn, $0, count, types, values, lengths, formats, 0) })
            }
            let key = PreparedStatementCache.Key(sql: query.sql, parameterTypes: types)  // Oid is UInt32
            var retried = false
            while true {
                let name: String
                if let cached = statements.lookup(key) {
                    name = cached
                } else {
                    name = statements.makeName()
                    // Not cached when the server refuses it (syntax error, unknown table…).
                    _ = try consume(PQprepare(conn, name, query.sql, count, types))
                    statements.insert(key, name: name)
                }
                do {
                    // withCString: no heap copy of the name (an implicit String argument would make one).
                    let result = name.withCString { PQexecPrepared(conn, $0, count, values, lengths, formats, 0) }
                    return try consume(result)
                } catch var error as PostgresError {
                    guard noteStaleStatement(error, key: key) else { throw error }
                    // Outside a transaction block the failed statement ran alone and had no effect,
                    // so it is simply sent again, prepared afresh. Inside one, the transaction is
                    // aborted: the error goes up marked, and withTransaction runs the closure again.
                    if !retried && PQtransactionStatus(conn) == PQTRANS_IDLE {
                        retried = true
                        runStatementMaintenance(conn)
                        continue
                    }
                    error.preparedStatementInvalidated = true
                    throw error
                }
            }
        }
    }

    /// Adds `query` to the statements sent with the next one (or the COMMIT) of the transaction
    /// this connection is in; outside a transaction it runs at once. See
    /// ``PostgresConnection/executeWithNext(_:)``.
    func executeWithNext(_ query: SQLQuery) throws {
        guard let conn else { throw PostgresError(kind: .connection, message: "connection is closed") }
        guard deferredBegin != nil || PQtransactionStatus(conn) != PQTRANS_IDLE else {
            _ = try execute(query)
            return
        }
        deferred.append(query)
    }

    /// Commits the transaction `withTransaction` opened: the deferred statements and COMMIT in
    /// one write when there are any, COMMIT alone when not, nothing when nothing ran.
    func commit() throws {
        guard let conn else { throw PostgresError(kind: .connection, message: "connection is closed") }
        guard !deferred.isEmpty else {
            if deferredBegin != nil {
                deferredBegin = nil
                return
            }
            _ = try consume(PQexec(conn, "COMMIT"))
            return
        }
        _ = try runPipeline(conn, takePending() + [fixed("COMMIT")])
    }

    /// BEGIN or COMMIT as a pipeline command: prepared once per session like any statement when
    /// the cache is on (Bind/Execute only, no Parse per transaction).
    private func fixed(_ sql: String) -> PipelineCommand {
        statements.isEnabled ? .statement(SQLQuery(sql: sql)) : .text(sql)
    }

    /// Forgets what was not sent: the transaction is being rolled back (or was never begun).
    func dropPending() {
        deferredBegin = nil
        deferred = []
    }

    /// A BEGIN or statements waiting to go out with the next call.
    private var hasPending: Bool { deferredBegin != nil || !deferred.isEmpty }

    /// The deferred BEGIN and statements, taken out to be sent now.
    private func takePending() -> [PipelineCommand] {
        var commands: [PipelineCommand] = deferredBegin.map { [fixed($0)] } ?? []
        commands += deferred.map { .statement($0) }
        deferredBegin = nil
        deferred = []
        return commands
    }

    /// True when `error` says a cached statement went stale, which is then dropped from the cache.
    private func noteStaleStatement(_ error: PostgresError, key: PreparedStatementCache.Key) -> Bool {
        if error.sqlState == "26000" {
            // "prepared statement does not exist": something (DISCARD ALL, DEALLOCATE ALL
            // sent as a script) dropped the session's statements behind the cache's back.
            statements.invalidateAll()
            return true
        }
        if error.sqlState == "0A000" && error.routine == "RevalidateCachedQuery" {
            // "cached plan must not change result type": a table the statement reads was
            // altered (e.g. `SELECT *` after ADD COLUMN); prepare it again.
            statements.invalidate(key)
            return true
        }
        return false
    }

    /// Calls `body` with libpq's parameter arrays for `query`'s binds: all values in one buffer,
    /// each NUL-terminated (libpq reads text values as C strings), alive during `body` only —
    /// libpq copies them into its output buffer as a statement is sent.
    private func withParameters<T>(
        of query: SQLQuery, _ body: (_ types: [Oid], _ values: [UnsafePointer<CChar>?], _ lengths: [Int32], _ formats: [Int32]) throws -> T
    ) throws -> T {
        let binds = query.binds
        let count = binds.count
        var types = [Oid](repeating: 0, count: count)
        var lengths = [Int32](repeating: 0, count: count)
        var formats = [Int32](repeating: 0, count: count)
        var values = [UnsafePointer<CChar>?](repeating: nil, count: count)
        var total = 0
        for bind in binds { total += (bind.bytes?.count ?? 0) + 1 }
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: max(total, 1))
        defer { buffer.deallocate() }
        var offset = 0
        for i in 0..<count {
            let bind = binds[i]
            types[i] = Oid(bind.typeOID)
            formats[i] = bind.isBinary ? 1 : 0
            guard let bytes = bind.bytes else { continue }
            if !bind.isBinary, bytes.contains(0) {
                throw PostgresError(kind: .invalidQuery, message: "parameter $\(i + 1) contains a NUL byte, which text values cannot hold")
            }
            let start = buffer + offset
            bytes.withUnsafeBufferPointer { source in
                source.withMemoryRebound(to: CChar.self) { chars in
                    if let base = chars.baseAddress { start.update(from: base, count: bytes.count) }
                }
            }
            start[bytes.count] = 0
            values[i] = UnsafePointer(start)
            lengths[i] = Int32(bytes.count)
            offset += bytes.count + 1
        }
        return try body(types, values, lengths, formats)
    }

    /// One command of a pipeline: fixed text without parameters (BEGIN, COMMIT) or a statement.
    private enum PipelineCommand {
        case text(String)
        case statement(SQLQuery)
    }

    /// What was sent for a command, in order; each expects one result.
    private enum Sent {
        case text
        /// A Parse of a statement new to this session, cached under `name` as it is sent.
        case parse(PreparedStatementCache.Key)
        /// Bind/Execute (`key` nil: the cache is off and the statement unnamed).
        case execute(PreparedStatementCache.Key?)
    }

    /// Sends `commands` in one write with one Sync and reads their results in order (libpq
    /// pipeline mode): the server answers all of them in one round trip (#21 — a transaction was
    /// BEGIN, each statement and COMMIT, each waiting for the server). Inside an explicit
    /// transaction block the Sync commits nothing, so the block stays open after it, exactly as
    /// if each command had been sent alone. The first command that failed is the error (the
    /// server skips the rest: PGRES_PIPELINE_ABORTED); otherwise the last command's rows are the
    /// answer. A connection that breaks mid-pipeline stays in pipeline mode, so `isOK` says false
    /// and the pool drops it.
    private func runPipeline(_ conn: OpaquePointer, _ commands: [PipelineCommand]) throws -> PostgresRows {
        guard PQenterPipelineMode(conn) == 1 else { throw connectionError() }
        var sent: [Sent] = []
        for command in commands {
            let ok: Bool
            switch command {
            case .text(let sql):
                sent.append(.text)
                ok = PQsendQueryParams(conn, sql, 0, nil, nil, nil, nil, 0) == 1
            case .statement(let query):
                ok = try withParameters(of: query) { types, values, lengths, formats in
                    let count = Int32(values.count)
                    guard statements.isEnabled else {
                        sent.append(.execute(nil))
                        return PQsendQueryParams(conn, query.sql, count, types, values, lengths, formats, 0) == 1
                    }
                    let key = PreparedStatementCache.Key(sql: query.sql, parameterTypes: types)
                    let name: String
                    if let cached = statements.lookup(key) {
                        name = cached
                    } else {
                        name = statements.makeName()
                        // Cached now, so a second use in this pipeline binds it; dropped again
                        // below if the server refuses it.
                        statements.insert(key, name: name)
                        sent.append(.parse(key))
                        guard PQsendPrepare(conn, name, query.sql, count, types) == 1 else { return false }
                    }
                    sent.append(.execute(key))
                    return name.withCString { PQsendQueryPrepared(conn, $0, count, values, lengths, formats, 0) } == 1
                }
            }
            guard ok else { throw connectionError() }
        }
        guard PQpipelineSync(conn) == 1 else { throw connectionError() }
        var results: [OpaquePointer] = []
        defer { for result in results { PQclear(result) } }
        for _ in sent {
            guard let result = PQgetResult(conn) else { throw connectionError() }
            results.append(result)
            while let extra = PQgetResult(conn) { PQclear(extra) }  // up to the NULL ending this command
        }
        guard let sync = PQgetResult(conn) else { throw connectionError() }
        let synced = PQresultStatus(sync) == PGRES_PIPELINE_SYNC
        PQclear(sync)
        guard synced, PQexitPipelineMode(conn) == 1 else { throw connectionError() }
        for (index, (what, result)) in zip(sent, results).enumerated() {
            let status = PQresultStatus(result)
            if status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY {
                guard index == results.count - 1 else { continue }
                results.removeLast()
                return try consume(result)  // consume clears it
            }
            var error = serverError(result)
            switch what {
            case .parse(let key):
                statements.invalidate(key)
            case .execute(let key?):
                if noteStaleStatement(error, key: key) { error.preparedStatementInvalidated = true }
            case .execute(nil), .text:
                break
            }
            throw error
        }
        throw connectionError()  // no results at all: not reached with at least one command
    }

    /// Sends the DEALLOCATEs the statement cache owes the server, only outside a transaction
    /// block (a failing DEALLOCATE there would abort the caller's transaction). Errors are
    /// ignored: a statement that is already gone needs no deallocation.
    private func runStatementMaintenance(_ conn: OpaquePointer) {
        guard PQtransactionStatus(conn) == PQTRANS_IDLE else { return }
        for sql in statements.maintenanceStatements {
            if let result = PQexec(conn, sql) { PQclear(result) }
        }
        statements.maintenanceDone()
    }

    /// Runs trusted SQL text that may contain several statements (`PQexec`), e.g. a migration file.
    /// Never pass text built from user input: there are no parameters here.
    func executeScript(_ sql: String) throws {
        guard let conn else { throw PostgresError(kind: .connection, message: "connection is closed") }
        if hasPending { _ = try runPipeline(conn, takePending()) }  // libpq cannot pipeline a script
        _ = try consume(sql.withCString { PQexec(conn, $0) })
    }

    private func consume(_ result: OpaquePointer?) throws -> PostgresRows {
        guard let result else {
            throw connectionError()
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return PostgresRows(columns: PostgresColumns.none, rows: [], affectedRows: Self.commandTuples(result))
        case PGRES_TUPLES_OK, PGRES_SINGLE_TUPLE:
            let rowCount = Int(PQntuples(result))
            let fieldCount = Int(PQnfields(result))
            var names: [String] = []
            var oids: [UInt32] = []
            for f in 0..<fieldCount {
                names.append(String(cString: PQfname(result, Int32(f))))
                oids.append(UInt32(PQftype(result, Int32(f))))
            }
            let columns = PostgresColumns(names: names, typeOIDs: oids)
            var rows: [PostgresRow] = []
            rows.reserveCapacity(rowCount)
            for r in 0..<rowCount {
                var values: [[UInt8]?] = []
                values.reserveCapacity(fieldCount)
                for f in 0..<fieldCount {
                    if PQgetisnull(result, Int32(r), Int32(f)) != 0 {
                        values.append(nil)
                    } else {
                        let length = Int(PQgetlength(result, Int32(r), Int32(f)))
                        let pointer = PQgetvalue(result, Int32(r), Int32(f))!
                        values.append(pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
                            Array(UnsafeBufferPointer(start: $0, count: length))
                        })
                    }
                }
                rows.append(PostgresRow(columns: columns, values: values))
            }
            return PostgresRows(columns: columns, rows: rows, affectedRows: rowCount)
        default:
            throw serverError(result)
        }
    }

    /// `PQcmdTuples` as an Int without building a String ("" for commands that report none).
    private static func commandTuples(_ result: OpaquePointer) -> Int {
        guard var pointer = PQcmdTuples(result) else { return 0 }
        var value = 0
        while pointer.pointee >= 48 && pointer.pointee <= 57 {  // ASCII digits
            value = value &* 10 &+ Int(pointer.pointee - 48)
            pointer += 1
        }
        return value
    }

    private func serverError(_ result: OpaquePointer) -> PostgresError {
        func field(_ code: Character) -> String? {
            guard let pointer = PQresultErrorField(result, Int32(code.asciiValue!)) else { return nil }
            return String(cString: pointer)
        }
        let sqlState = field("C")
        let brokenConnection = !isOK
        let message = field("M") ?? Self.trimmed(PQresultErrorMessage(result))
        var error = PostgresError(
            kind: brokenConnection || sqlState == nil ? .connection : .server,
            sqlState: sqlState, severity: field("V") ?? field("S"),
            message: message.isEmpty ? Self.trimmed(conn.map { PQerrorMessage($0) } ?? nil) : message,
            detail: field("D"), hint: field("H"), schema: field("s"), table: field("t"), column: field("c"),
            constraint: field("n"))
        error.routine = field("R")
        return error
    }

    private func connectionError() -> PostgresError {
        PostgresError(kind: .connection, message: Self.trimmed(conn.map { PQerrorMessage($0) } ?? nil))
    }

    /// Waits (poll) until the socket is readable, `wakeFD` is readable, or `timeoutMs` passes,
    /// then returns the notifications that arrived. Throws when the connection broke.
    func waitForNotifications(wakeFD: Int32, timeoutMs: Int32) throws -> [PostgresNotification] {
        guard let conn, PQstatus(conn) == CONNECTION_OK else { throw connectionError() }
        var notes = drainNotifications(conn)
        if !notes.isEmpty { return notes }
        var fds = [
            pollfd(fd: PQsocket(conn), events: Int16(POLLIN), revents: 0),
            pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0),
        ]
        let ready = poll(&fds, nfds_t(wakeFD >= 0 ? 2 : 1), timeoutMs)
        if ready < 0, errno != EINTR {
            throw PostgresError(kind: .connection, message: "poll failed: errno \(errno)")
        }
        if fds[0].revents != 0 {
            if PQconsumeInput(conn) == 0 { throw connectionError() }
            notes = drainNotifications(conn)
        }
        if PQstatus(conn) != CONNECTION_OK { throw connectionError() }
        return notes
    }

    private func drainNotifications(_ conn: OpaquePointer) -> [PostgresNotification] {
        var notes: [PostgresNotification] = []
        while let note = PQnotifies(conn) {
            notes.append(
                PostgresNotification(
                    channel: String(cString: note.pointee.relname), payload: String(cString: note.pointee.extra),
                    backendPID: note.pointee.be_pid))
            PQfreemem(note)
        }
        return notes
    }

    private static func trimmed(_ pointer: UnsafeMutablePointer<CChar>?) -> String {
        guard let pointer else { return "unknown libpq error" }
        let text = String(cString: pointer).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? "unknown libpq error" : text
    }

    private static func trimmed(_ pointer: UnsafePointer<CChar>?) -> String {
        trimmed(pointer.map { UnsafeMutablePointer(mutating: $0) })
    }

    /// Returns `conninfo` with `dbname` replaced, keeping every other setting (parsed by libpq, so
    /// both `key=value` strings and URIs work).
    static func replacingDatabase(in conninfo: String, with database: String) throws -> String {
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(conninfo, &errorMessage) else {
            let message = errorMessage.map { String(cString: $0) } ?? "invalid conninfo"
            if let errorMessage { PQfreemem(errorMessage) }
            throw PostgresError(kind: .connection, message: "invalid conninfo: \(message)")
        }
        defer { PQconninfoFree(options) }
        var parts: [String] = []
        var option = options
        while let keywordPointer = option.pointee.keyword {
            let keyword = String(cString: keywordPointer)
            if keyword == "dbname" {
                parts.append("dbname=\(quoteConninfoValue(database))")
            } else if let value = option.pointee.val {
                parts.append("\(keyword)=\(quoteConninfoValue(String(cString: value)))")
            }
            option += 1
        }
        return parts.joined(separator: " ")
    }

    static func quoteConninfoValue(_ value: String) -> String {
        var out = "'"
        for ch in value {
            if ch == "'" || ch == "\\" { out.append("\\") }
            out.append(ch)
        }
        return out + "'"
    }
}
