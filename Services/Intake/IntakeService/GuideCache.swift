import Logging
import OneSealProto
import OneSealStore
import ServiceLifecycle
import Synchronization

/// The public guide — GetItem of an item's current version — kept in memory while a LISTEN hears
/// every publication, so the guide a front-end loads before each submit (and every page of the
/// online hall that shows an item) is not a database read: it was one autocommitted statement,
/// one commit, per case (#21).
///
/// Catalogue rows are only ever inserted (a publication is a new version), and migration 0010's
/// trigger NOTIFYs `intake_catalogue_changed` with the item's code inside the publishing
/// transaction. A notification drops that code's guide; a lost LISTEN connection drops them all
/// and serves none until it listens again (`PostgresNotification.interruption`), so a guide is
/// at most one NOTIFY's delivery old. A fill records the generation before its read and keeps
/// the answer only if no notification came meanwhile: a read that began before a publication
/// committed cannot put the old version back after the publication dropped it. Nothing else is
/// cached: a submit still reads and pins the current version in its own transaction (decision 64),
/// so a guide one NOTIFY late can only show the old version, never make a case of it.
public final class GuideCache: Service, Sendable {
    static let channel = "intake_catalogue_changed"

    private struct State {
        var listening = false
        var generation: UInt64 = 0
        var guides: [String: Intake_GetItemResponse] = [:]
        var closed = false
    }

    private let state = Mutex(State())
    let database: PostgresClient
    /// Guides kept at most (a county's catalogue is a few thousand items, a guide a few KB): past
    /// it the cache starts again empty rather than tracking use.
    let capacity: Int
    let logger: Logger

    public init(database: PostgresClient, capacity: Int = 4096, logger: Logger) {
        self.database = database
        self.capacity = capacity
        self.logger = logger
    }

    /// The guide of `code`'s current version, if kept.
    func guide(_ code: String) -> Intake_GetItemResponse? {
        state.withLock { $0.listening ? $0.guides[code] : nil }
    }

    /// A token to hand back with the guide a read found: nil when nothing may be kept now.
    func fillToken() -> UInt64? {
        state.withLock { $0.listening ? $0.generation : nil }
    }

    /// Keeps `guide` for `code` unless a notification (or an interruption) came since `token`.
    func keep(_ guide: Intake_GetItemResponse, for code: String, token: UInt64) {
        state.withLock { state in
            guard state.listening, state.generation == token else { return }
            if state.guides.count >= capacity { state.guides.removeAll(keepingCapacity: true) }
            state.guides[code] = guide
        }
    }

    /// How many guides are kept now.
    var count: Int { state.withLock { $0.guides.count } }

    func heard(_ notification: PostgresNotification) {
        state.withLock { state in
            state.generation &+= 1
            switch notification.interruption {
            case nil where notification.payload.isEmpty: state.guides.removeAll()  // a TRUNCATE
            case nil: state.guides[notification.payload] = nil
            case .lost:
                state.listening = false
                state.guides.removeAll()
            case .resumed:
                state.listening = !state.closed
                state.guides.removeAll()
            }
        }
    }

    /// Drops `code`'s guide now (a publication of this process, before it answers).
    func drop(_ code: String) {
        heard(PostgresNotification(channel: Self.channel, payload: code, backendPID: 0))
    }

    private func stopServing() {
        state.withLock { state in
            state.generation &+= 1
            state.listening = false
            state.guides.removeAll()
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
                let notifications = try await database.listen(channel: Self.channel)
                // Listening from here on: whatever was published before is read afresh.
                heard(PostgresNotification(channel: Self.channel, payload: "", backendPID: 0, interruption: .resumed))
                for await notification in notifications { heard(notification) }
            } catch {
                logger.warning("the guide cache cannot LISTEN; every guide is read from the database", metadata: ["error": "\(error)"])
            }
            stopServing()
            try? await Task.sleep(for: .seconds(1))
        }
    }
}
