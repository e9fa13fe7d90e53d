import Logging
import NIOPosix
import ServiceLifecycle
import Synchronization

/// Settings of a ``PostgresClient``.
public struct PostgresClientConfiguration: Sendable {
    /// libpq connection string, e.g. `host=127.0.0.1 port=5432 user=intake dbname=intake`.
    public var conninfo: String
    /// Upper bound of open connections (also the size of the blocking thread pool).
    public var maxConnections: Int
    /// How often `run()` checks idle connections and drops broken ones.
    public var healthCheckInterval: Duration
    /// Statements each connection keeps prepared on the server, keyed by SQL text and parameter
    /// types, so repeated statements skip parsing and planning (least recently used evicted).
    /// Set 0 behind a pooler that moves sessions between server connections per transaction
    /// (PgBouncer in transaction mode), where a statement prepared on one is missing on the next.
    public var preparedStatementCacheCapacity: Int

    public init(
        conninfo: String, maxConnections: Int = 10, healthCheckInterval: Duration = .seconds(30),
        preparedStatementCacheCapacity: Int = 256
    ) {
        self.conninfo = conninfo
        self.maxConnections = max(1, maxConnections)
        self.healthCheckInterval = healthCheckInterval
        self.preparedStatementCacheCapacity = max(0, preparedStatementCacheCapacity)
    }
}

/// A pool of libpq connections with async queries, transactions with retry, LISTEN/NOTIFY.
///
/// Connections are opened lazily, so the client works without `run()`; running it as a
/// ServiceLifecycle `Service` adds periodic health checks and closes everything on graceful
/// shutdown. A connection found broken (terminated backend, network loss) is discarded and a new
/// one is opened on the next lease.
public final class PostgresClient: Service, Sendable {
    public let configuration: PostgresClientConfiguration
    let logger: Logger
    let executor: BlockingExecutor
    private let state = Mutex(PoolState())

    public init(configuration: PostgresClientConfiguration, logger: Logger = Logger(label: "oneseal.store")) {
        self.configuration = configuration
        self.logger = logger
        let pool = NIOThreadPool(numberOfThreads: configuration.maxConnections)
        pool.start()
        self.executor = BlockingExecutor(pool: pool)
    }

    public convenience init(conninfo: String, maxConnections: Int = 10, logger: Logger = Logger(label: "oneseal.store")) {
        self.init(configuration: PostgresClientConfiguration(conninfo: conninfo, maxConnections: maxConnections), logger: logger)
    }

    deinit {
        // A client dropped without shutdown() must not leak threads or server connections.
        let idle = state.withLock { state in
            defer { state.idle = [] }
            return state.idle
        }
        for connection in idle { connection.close() }
        executor.pool.shutdownGracefully { _ in }
    }

    // MARK: Queries

    /// Runs one statement on a pooled connection (autocommit).
    public func query(_ query: SQLQuery) async throws -> PostgresRows {
        try await withConnection { try await $0.query(query) }
    }

    /// Runs one statement (autocommit) and returns the number of affected rows.
    @discardableResult
    public func execute(_ query: SQLQuery) async throws -> Int {
        try await withConnection { try await $0.execute(query) }
    }

    /// Leases a connection for several statements. A transaction left open by `body` is rolled back.
    nonisolated(nonsending)
    public func withConnection<T>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        let raw = try await acquire()
        let connection = PostgresConnection(raw: raw, executor: executor)
        do {
            let value = try await withTaskExecutorPreference(raw.thread) { try await body(connection) }
            await release(raw)
            return value
        } catch {
            await release(raw)
            throw error
        }
    }

    /// Runs `body` in a transaction: commits when it returns, rolls back when it throws.
    ///
    /// On serialization failure (40001) or deadlock (40P01) — from any statement or from COMMIT —
    /// the whole closure is run again, up to `maxAttempts` times, so `body` must not have effects
    /// outside the database that cannot be repeated. It is also run again (once, beyond
    /// `maxAttempts`) when a cached prepared statement went stale inside it — a table it reads
    /// was altered, or the session's statements were discarded — since the cache is fixed by then.
    @discardableResult
    nonisolated(nonsending)
    public func withTransaction<T>(
        isolation: PostgresIsolationLevel = .readCommitted,
        maxAttempts: Int = 5,
        _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        var attempt = 1
        var staleStatementRetried = false
        while true {
            do {
                return try await withConnection { connection in
                    // Sent together with the first statement (see LibPQConnection.deferredBegin).
                    connection.raw.deferredBegin =
                        isolation == .readCommitted ? "BEGIN" : "BEGIN ISOLATION LEVEL \(isolation.rawValue)"
                    connection.raw.inTransaction = true
                    connection.raw.afterCommit = []
                    defer {
                        connection.raw.inTransaction = false
                        connection.raw.afterCommit = []
                    }
                    do {
                        let value = try await body(connection)
                        try await connection.commit()  // with the statements still deferred, if any
                        for action in connection.raw.afterCommit { action() }
                        return value
                    } catch {
                        let begun = connection.raw.deferredBegin == nil
                        connection.raw.dropPending()
                        if begun { try? await connection.executeScript("ROLLBACK") }
                        throw error
                    }
                }
            } catch let error as PostgresError where error.preparedStatementInvalidated && !staleStatementRetried {
                logger.debug("retrying transaction after a stale prepared statement", metadata: ["sqlstate": "\(error.sqlState ?? "")"])
                staleStatementRetried = true
            } catch let error as PostgresError where error.isRetryableTransactionFailure && attempt < maxAttempts {
                logger.debug("retrying transaction", metadata: ["sqlstate": "\(error.sqlState ?? "")", "attempt": "\(attempt)"])
                attempt += 1
                try? await Task.sleep(for: .milliseconds(Int.random(in: 1...(5 * attempt))))
            }
        }
    }

    // MARK: NOTIFY

    /// Sends a notification (`pg_notify`); inside a transaction use `notify(channel:payload:on:)`
    /// so it is delivered on commit.
    public func notify(channel: String, payload: String = "") async throws {
        try await execute("SELECT pg_notify(\(channel), \(payload))")
    }

    /// Sends a notification as part of the transaction on `connection` (delivered at commit).
    public static func notify(channel: String, payload: String = "", on connection: PostgresConnection) async throws {
        try await connection.execute("SELECT pg_notify(\(channel), \(payload))")
    }

    // MARK: Service

    /// Keeps health-checking idle connections until graceful shutdown (or cancellation), then
    /// closes every connection and listener.
    public func run() async throws {
        let interval = configuration.healthCheckInterval
        await cancelWhenGracefulShutdown { [self] in
            while !Task.isCancelled {
                do { try await Task.sleep(for: interval) } catch { break }
                await self.checkIdleConnections()
            }
        }
        await shutdown()
    }

    /// Closes idle connections and listeners now, and in-use connections when they are released.
    /// Later calls fail with `PostgresError.Kind.clientClosed`.
    public func shutdown() async {
        let (idle, waiters, listeners, wasClosed) = state.withLock { state in
            let result = (state.idle, state.waiters.map(\.continuation), Array(state.listeners.values), state.closed)
            state.closed = true
            state.open -= state.idle.count
            state.idle = []
            state.waiters = []
            state.listeners = [:]
            return result
        }
        for waiter in waiters {
            waiter.resume(throwing: PostgresError(kind: .clientClosed, message: "the PostgreSQL client is shut down"))
        }
        for stop in listeners { stop() }
        for connection in idle { connection.close() }
        if !wasClosed {
            try? await executor.pool.shutdownGracefully()
        }
    }

    /// Checks every idle connection (reads pending input, runs `SELECT 1`) and drops broken ones.
    public func checkIdleConnections() async {
        let idle = state.withLock { state in
            let idle = state.idle
            state.idle = []
            state.checking += idle.count
            return idle
        }
        for connection in idle {
            let healthy = (try? await executor.run { () -> Bool in
                guard connection.checkIdleHealth() else { return false }
                _ = try connection.execute("SELECT 1")
                return true
            }) ?? false
            if !healthy { logger.info("dropping broken PostgreSQL connection found by health check") }
            state.withLock { $0.checking -= 1 }
            await release(connection, forceUnhealthy: !healthy)
        }
    }

    /// Connections currently open (idle + in use), for metrics and tests.
    public var openConnectionCount: Int { state.withLock { $0.open } }

    // MARK: Pool internals

    private enum Handoff: Sendable {
        case connection(LibPQConnection)
        /// The waiter owns a free slot and must open a connection itself.
        case slot
    }

    private struct Waiter {
        var id: Int
        var continuation: CheckedContinuation<Handoff, Error>
    }

    private struct PoolState {
        var idle: [LibPQConnection] = []
        var open = 0
        var checking = 0
        var waiters: [Waiter] = []
        var nextID = 0
        var closed = false
        var listeners: [Int: @Sendable () -> Void] = [:]
    }

    private enum LeaseStep {
        case reuse(LibPQConnection)
        case create
        case wait
    }

    private func acquire() async throws -> LibPQConnection {
        while true {
            let step: LeaseStep = try state.withLock { state in
                if state.closed { throw PostgresError(kind: .clientClosed, message: "the PostgreSQL client is shut down") }
                if let connection = state.idle.popLast() { return .reuse(connection) }
                if state.open < configuration.maxConnections {
                    state.open += 1
                    return .create
                }
                return .wait
            }
            let handoff: Handoff
            switch step {
            case .reuse(let connection): handoff = .connection(connection)
            case .create: handoff = .slot
            case .wait: handoff = try await waitForConnection()
            }
            switch handoff {
            case .connection(let connection):
                // Fast path without a thread hop: nothing arrived while idle and libpq says OK.
                if !connection.hasPendingInput { return connection }
                let healthy = (try? await executor.run { connection.checkIdleHealth() }) ?? false
                if healthy { return connection }
                logger.info("discarding broken idle PostgreSQL connection")
                await release(connection, forceUnhealthy: true)
            case .slot:
                do {
                    let conninfo = configuration.conninfo
                    let capacity = configuration.preparedStatementCacheCapacity
                    return try await executor.run {
                        try LibPQConnection(conninfo: conninfo, preparedStatementCapacity: capacity)
                    }
                } catch {
                    giveBackSlot()
                    throw error
                }
            }
        }
    }

    private func waitForConnection() async throws -> Handoff {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Handoff, Error>) in
                let rejected: Error? = state.withLock { state in
                    if state.closed { return PostgresError(kind: .clientClosed, message: "the PostgreSQL client is shut down") }
                    if Task.isCancelled { return CancellationError() }
                    state.waiters.append(Waiter(id: id, continuation: continuation))
                    return nil
                }
                if let rejected { continuation.resume(throwing: rejected) }
            }
        } onCancel: {
            let waiter: Waiter? = state.withLock { state in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index)
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    /// A slot reserved for a new connection was not used (connect failed): pass it on or free it.
    private func giveBackSlot() {
        let waiter: Waiter? = state.withLock { state in
            if !state.closed, !state.waiters.isEmpty { return state.waiters.removeFirst() }
            state.open -= 1
            return nil
        }
        waiter?.continuation.resume(returning: .slot)
    }

    /// Returns a connection: rolls back a transaction left open, hands it to a waiter or keeps it
    /// idle; a broken connection is closed and its slot passed on.
    private func release(_ connection: LibPQConnection, forceUnhealthy: Bool = false) async {
        connection.dropPending()
        var healthy = !forceUnhealthy && connection.isOK
        if healthy && !connection.isIdle {
            healthy = (try? await executor.run { () -> Bool in
                try connection.executeScript("ROLLBACK")
                return connection.isOK && connection.isIdle
            }) ?? false
        }
        enum Action {
            case none
            case close
            case hand(Waiter, Handoff)
            case closeAndHand(Waiter)
        }
        let action: Action = state.withLock { state in
            if state.closed {
                state.open -= 1
                return .close
            }
            if !healthy {
                if !state.waiters.isEmpty { return .closeAndHand(state.waiters.removeFirst()) }
                state.open -= 1
                return .close
            }
            if !state.waiters.isEmpty { return .hand(state.waiters.removeFirst(), .connection(connection)) }
            state.idle.append(connection)
            return .none
        }
        switch action {
        case .none: break
        case .close: connection.close()
        case .hand(let waiter, let handoff): waiter.continuation.resume(returning: handoff)
        case .closeAndHand(let waiter):
            connection.close()
            waiter.continuation.resume(returning: .slot)
        }
    }

    // MARK: Listener bookkeeping

    func registerListener(_ stop: @escaping @Sendable () -> Void) -> Int? {
        state.withLock { state in
            if state.closed { return nil }
            state.nextID += 1
            state.listeners[state.nextID] = stop
            return state.nextID
        }
    }

    func unregisterListener(_ id: Int) {
        _ = state.withLock { $0.listeners.removeValue(forKey: id) }
    }
}
