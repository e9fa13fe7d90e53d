import Logging
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A NOTIFY received on a LISTEN connection — or, with `interruption` set, the listener saying
/// it stopped (`.lost`) or started again (`.resumed`) hearing its channel: a NOTIFY sent between
/// the two is gone, so whoever keeps something a notification would have invalidated drops it.
public struct PostgresNotification: Sendable, Hashable {
    public enum Interruption: Sendable, Hashable { case lost, resumed }

    public var channel: String
    public var payload: String
    /// Process id of the backend that sent it (0 for an interruption).
    public var backendPID: Int32
    /// Set when this is not a NOTIFY but the listener's connection dropping or coming back.
    public var interruption: Interruption?

    public init(channel: String, payload: String, backendPID: Int32, interruption: Interruption? = nil) {
        self.channel = channel
        self.payload = payload
        self.backendPID = backendPID
        self.interruption = interruption
    }
}

extension PostgresClient {
    /// Starts listening on `channel` on a dedicated connection and returns the notifications.
    ///
    /// Returns once `LISTEN` is active, so a NOTIFY committed after this call returns is delivered.
    /// If the connection drops, the listener reconnects and re-LISTENs (notifications sent while it
    /// was down are lost — callers that must not miss work also poll, as the outbox relay does); the
    /// stream says so with an `interruption` `.lost` when it drops and `.resumed` once it listens again.
    /// The sequence ends when the consumer stops iterating (or its task is cancelled) or the client
    /// shuts down. The socket is waited on with `poll()` on a thread of the listener's own.
    ///
    /// - Parameter channel: must match `^[a-z_][a-z0-9_]*$`.
    public func listen(channel: String) async throws -> AsyncStream<PostgresNotification> {
        let identifier = try SQLIdentifier(channel)
        let listenSQL = "LISTEN \(identifier.quoted)"
        let conninfo = configuration.conninfo
        let logger = self.logger

        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        let executor = BlockingExecutor(pool: pool)
        let wake = try WakePipe()

        let first: LibPQConnection
        do {
            first = try await executor.run {
                let connection = try LibPQConnection(conninfo: conninfo)
                try connection.executeScript(listenSQL)
                return connection
            }
        } catch {
            wake.close()
            try? await pool.shutdownGracefully()
            throw error
        }

        let (stream, continuation) = AsyncStream.makeStream(of: PostgresNotification.self)
        let stopped = StopFlag()
        let task = Task.detached {
            var connection: LibPQConnection? = first
            var delay: Duration = .milliseconds(50)
            while !stopped.isSet && !Task.isCancelled {
                if let current = connection {
                    do {
                        let notes = try await executor.run { try current.waitForNotifications(wakeFD: wake.readFD, timeoutMs: 10_000) }
                        for note in notes { continuation.yield(note) }
                        delay = .milliseconds(50)
                    } catch {
                        logger.warning("LISTEN connection lost; reconnecting", metadata: ["channel": "\(channel)", "error": "\(error)"])
                        current.close()
                        connection = nil
                        continuation.yield(PostgresNotification(channel: channel, payload: "", backendPID: 0, interruption: .lost))
                    }
                } else {
                    do {
                        connection = try await executor.run {
                            let connection = try LibPQConnection(conninfo: conninfo)
                            try connection.executeScript(listenSQL)
                            return connection
                        }
                        logger.info("LISTEN connection re-established", metadata: ["channel": "\(channel)"])
                        continuation.yield(PostgresNotification(channel: channel, payload: "", backendPID: 0, interruption: .resumed))
                    } catch {
                        try? await Task.sleep(for: delay)
                        delay = min(delay * 2, .seconds(5))
                    }
                }
            }
            connection?.close()
            continuation.finish()
            wake.close()
            try? await pool.shutdownGracefully()
        }
        let stop: @Sendable () -> Void = {
            stopped.set()
            wake.signal()
            task.cancel()
        }
        guard let id = registerListener(stop) else {
            stop()
            throw PostgresError(kind: .clientClosed, message: "the PostgreSQL client is shut down")
        }
        continuation.onTermination = { [weak self] _ in
            stop()
            self?.unregisterListener(id)
        }
        return stream
    }
}

/// A one-way flag set from any thread.
private final class StopFlag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .acquiring) }
    func set() { value.store(true, ordering: .releasing) }
}

/// A pipe whose read end is polled next to the libpq socket, so stopping a listener interrupts
/// its `poll()` at once instead of waiting for the timeout. The lock keeps `signal()` from writing
/// to a descriptor number that `close()` already released (and the OS may have reused).
private final class WakePipe: Sendable {
    let readFD: Int32
    private let writeFD: Int32
    private let closed = Mutex(false)

    init() throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else {
            throw PostgresError(kind: .connection, message: "pipe() failed: errno \(errno)")
        }
        readFD = fds[0]
        writeFD = fds[1]
        _ = fcntl(writeFD, F_SETFL, fcntl(writeFD, F_GETFL) | O_NONBLOCK)
    }

    func signal() {
        closed.withLock { closed in
            guard !closed else { return }
            var byte: UInt8 = 1
            _ = write(writeFD, &byte, 1)
        }
    }

    func close() {
        closed.withLock { closed in
            guard !closed else { return }
            closed = true
            closeDescriptor(readFD)
            closeDescriptor(writeFD)
        }
    }
}

private func closeDescriptor(_ fd: Int32) {
    #if canImport(Glibc)
    _ = Glibc.close(fd)
    #else
    _ = Darwin.close(fd)
    #endif
}
