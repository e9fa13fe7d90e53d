import Logging
import OneSealStore
import ServiceLifecycle
import Synchronization

/// Values read from the database, kept in memory by key while a LISTEN hears every change to what
/// they were read from — a database read saved on each use, never a stale answer kept past one
/// NOTIFY's delivery (#21: intake's public guide, supervision's policy, departments and boundary).
///
/// The tables' triggers NOTIFY `channel` inside the changing transaction (delivered at COMMIT,
/// nothing on a rollback) with the key of what changed, or an empty payload for "everything" (a
/// TRUNCATE, a change whose keys are not known). A notification drops that key; a lost LISTEN
/// connection drops everything and serves nothing until it listens again
/// (`PostgresNotification.interruption`). A fill records the generation before its read
/// (`fillToken`) and keeps the answer only if no notification came meanwhile: a read that began
/// before a change committed cannot put the old value back after the change dropped it. A process
/// that changes a value drops its key itself before it answers (`drop`), so its own next read
/// never waits for the NOTIFY.
public final class NotifiedCache<Value: Sendable>: Service, Sendable {
    private struct State {
        var listening = false
        var generation: UInt64 = 0
        var values: [String: Value] = [:]
        var closed = false
    }

    private let state = Mutex(State())
    let database: PostgresClient
    public let channel: String
    /// Values kept at most: past it the cache starts again empty rather than tracking use.
    public let capacity: Int
    /// What is kept, for the log line when it cannot listen ("the guide cache").
    let name: String
    let logger: Logger

    public init(database: PostgresClient, channel: String, name: String, capacity: Int = 4096, logger: Logger) {
        self.database = database
        self.channel = channel
        self.name = name
        self.capacity = capacity
        self.logger = logger
    }

    /// The value kept for `key`, if any (nothing while not listening).
    public func value(_ key: String) -> Value? {
        state.withLock { $0.listening ? $0.values[key] : nil }
    }

    /// A token to hand back with the value a read found: nil when nothing may be kept now.
    public func fillToken() -> UInt64? {
        state.withLock { $0.listening ? $0.generation : nil }
    }

    /// Keeps `value` for `key` unless a notification (or an interruption) came since `token`.
    public func keep(_ value: Value, for key: String, token: UInt64) {
        state.withLock { state in
            guard state.listening, state.generation == token else { return }
            if state.values.count >= capacity { state.values.removeAll(keepingCapacity: true) }
            state.values[key] = value
        }
    }

    /// How many values are kept now.
    public var count: Int { state.withLock { $0.values.count } }

    public func heard(_ notification: PostgresNotification) {
        state.withLock { state in
            state.generation &+= 1
            switch notification.interruption {
            case nil where notification.payload.isEmpty: state.values.removeAll()
            case nil: state.values[notification.payload] = nil
            case .lost:
                state.listening = false
                state.values.removeAll()
            case .resumed:
                state.listening = !state.closed
                state.values.removeAll()
            }
        }
    }

    /// Drops `key` now (a change made by this process, before it answers); "" drops everything.
    public func drop(_ key: String) {
        heard(PostgresNotification(channel: channel, payload: key, backendPID: 0))
    }

    private func stopServing() {
        state.withLock { state in
            state.generation &+= 1
            state.listening = false
            state.values.removeAll()
        }
    }

    public func run() async throws {
        await withGracefulShutdownHandler {
            await cancelWhenGracefulShutdown { await self.listen() }
        } onGracefulShutdown: {
            self.state.withLock { $0.closed = true }
        }
        stopServing()
    }

    private func listen() async {
        while !Task.isCancelled {
            do {
                let notifications = try await database.listen(channel: channel)
                // Listening from here on: whatever changed before is read afresh.
                heard(PostgresNotification(channel: channel, payload: "", backendPID: 0, interruption: .resumed))
                for await notification in notifications { heard(notification) }
            } catch {
                logger.warning("\(name) cannot LISTEN; every value is read from the database", metadata: ["channel": "\(channel)", "error": "\(error)"])
            }
            stopServing()
            try? await Task.sleep(for: .seconds(1))
        }
    }
}
