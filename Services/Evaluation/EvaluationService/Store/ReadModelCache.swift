import EvaluationRules
import Synchronization
import OneSealStore

/// The figures' read model kept between calls, per set of nodes, and brought up to date with the
/// facts written since the previous read instead of decoded whole on every call: the director's
/// board asks for figures, warnings and the month's report at once, and with 10,000 open cases
/// each call decoded 20,000 JSON facts (the board missed the front's 8-second deadline).
///
/// Correct with several replicas writing: every fact row carries the transaction that wrote it
/// (`written_xact`); a refresh first notes the oldest transaction still running, then reads the
/// rows written by any transaction from the previous refresh's mark on — a transaction that
/// commits late was still running at that mark, so it is read next time. A rebuild bumps the
/// generation and the model is loaded again. Concurrent callers may both refresh; the later mark wins.
final class ReadModelCache: Sendable {
    struct Entry: Sendable {
        var generation: Int64
        var horizon: String
        var model: ReadModel
    }

    /// At most this many node sets are kept (a city's own, with its counties, and a few ad hoc).
    let capacity: Int
    private let entries = Mutex<[Set<String>: Entry]>([:])

    init(capacity: Int = 8) { self.capacity = capacity }

    func model(nodes: Set<String>, on connection: PostgresConnection) async throws -> ReadModel {
        let position = try await FactStore.position(on: connection)
        let cached = entries.withLock { $0[nodes] }
        var model: ReadModel
        if let cached, cached.generation == position.generation {
            model = cached.model
            let changed = try await FactStore.model(nodes: nodes, since: cached.horizon, on: connection)
            model.applications.merge(changed.applications) { _, new in new }
            model.cases.merge(changed.cases) { _, new in new }
            model.consultations.merge(changed.consultations) { _, new in new }
            model.pushes.merge(changed.pushes) { _, new in new }
        } else {
            model = try await FactStore.model(nodes: nodes, on: connection)
        }
        let entry = Entry(generation: position.generation, horizon: position.horizon, model: model)
        entries.withLock { entries in
            if let current = entries[nodes], current.generation == entry.generation, (UInt64(current.horizon) ?? 0) > (UInt64(entry.horizon) ?? 0) { return }
            if entries[nodes] == nil, entries.count >= capacity, let evicted = entries.keys.first { entries[evicted] = nil }
            entries[nodes] = entry
        }
        return model
    }
}
