import EvaluationRules
import OneSealCore
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
        /// Names this model's content: a new number whenever a load or a refresh changed it, the
        /// same number while refreshes find nothing new — so `FigureMemo` can key on it.
        var version: Int
    }

    /// At most this many node sets are kept (a city's own, with its counties, and a few ad hoc).
    let capacity: Int
    private let entries = Mutex<[Set<String>: Entry]>([:])
    private let versions = Atomic<Int>(0)
    /// The node sets whose whole model a caller is loading now: one load at a time per set.
    private let loading = Mutex<Set<Set<String>>>([])
    /// Whole loads done (`oneWholeLoadAtATime` reads it).
    let wholeLoads = Atomic<Int>(0)

    init(capacity: Int = 8) { self.capacity = capacity }

    func model(nodes: Set<String>, on connection: PostgresConnection) async throws -> ReadModel {
        try await versioned(nodes: nodes, on: connection).model
    }

    /// The model with its content version (see `Entry.version`).
    func versioned(nodes: Set<String>, on connection: PostgresConnection) async throws -> (model: ReadModel, version: Int) {
        let position = try await FactStore.position(on: connection)
        // Where the kept entry stands, without a reference to its model: the refresh below
        // merges into the kept model in place, which needs it to be the model's only owner.
        let kept = entries.withLock { $0[nodes].map { (generation: $0.generation, horizon: $0.horizon, version: $0.version) } }
        if let kept, kept.generation == position.generation {
            let changed = try await FactStore.model(nodes: nodes, since: kept.horizon, on: connection)
            let version = changed.isEmpty ? kept.version : versions.wrappingAdd(1, ordering: .relaxed).newValue
            // Merged in place while the kept entry is still the one this refresh read from: the
            // merge then touches the changed facts only. Merging into a copy copied the whole
            // model on every refresh — at a county with a million closed cases two million facts,
            // twice the memory, every 30 seconds.
            let merged: ReadModel? = entries.withLock { entries in
                guard var entry = entries.removeValue(forKey: nodes) else { return nil }
                guard entry.generation == kept.generation, entry.version == kept.version, entry.horizon == kept.horizon else {
                    entries[nodes] = entry
                    return nil
                }
                entry.model.merge(changed)
                entry.horizon = position.horizon
                entry.version = version
                entries[nodes] = entry
                return entry.model
            }
            if let merged { return (merged, version) }
            // Another caller refreshed meanwhile: this one's changes go on top of what it kept.
            guard var model = entries.withLock({ $0[nodes]?.model }) else { return try await loadOnce(nodes: nodes, position: position, on: connection) }
            model.merge(changed)
            return (model, versions.wrappingAdd(1, ordering: .relaxed).newValue)
        }
        return try await loadOnce(nodes: nodes, position: position, on: connection)
    }

    /// The whole model, loaded by one caller at a time: a caller that finds another loading the
    /// same nodes waits for it and then refreshes what it kept. A board opened while the warmer
    /// loads at a node with a million closed cases would otherwise load two million facts a second
    /// time beside it — twice the memory, and each load slower.
    private func loadOnce(nodes: Set<String>, position: (generation: Int64, horizon: String), on connection: PostgresConnection) async throws -> (model: ReadModel, version: Int) {
        while !loading.withLock({ $0.insert(nodes).inserted }) {
            try await Task.sleep(for: .milliseconds(100))
            if entries.withLock({ $0[nodes]?.generation }) == position.generation {
                return try await versioned(nodes: nodes, on: connection)
            }
        }
        defer { _ = loading.withLock { $0.remove(nodes) } }
        return try await load(nodes: nodes, position: position, on: connection)
    }

    /// The whole model (a start, a rebuild, a node set not kept yet), kept unless a later one is.
    private func load(nodes: Set<String>, position: (generation: Int64, horizon: String), on connection: PostgresConnection) async throws -> (model: ReadModel, version: Int) {
        let model = try await FactStore.model(nodes: nodes, on: connection)
        wholeLoads.wrappingAdd(1, ordering: .relaxed)
        let version = versions.wrappingAdd(1, ordering: .relaxed).newValue
        let entry = Entry(generation: position.generation, horizon: position.horizon, model: model, version: version)
        entries.withLock { entries in
            if let current = entries[nodes], current.generation == entry.generation, (UInt64(current.horizon) ?? 0) > (UInt64(entry.horizon) ?? 0) { return }
            if entries[nodes] == nil, entries.count >= capacity, let evicted = entries.keys.first { entries[evicted] = nil }
            entries[nodes] = entry
        }
        return (model, version)
    }
}

extension ReadModel {
    var isEmpty: Bool { applications.isEmpty && cases.isEmpty && consultations.isEmpty && pushes.isEmpty }

    /// Takes every fact of `changed` in place of the kept one.
    mutating func merge(_ changed: ReadModel) {
        applications.merge(changed.applications) { _, new in new }
        cases.merge(changed.cases) { _, new in new }
        consultations.merge(changed.consultations) { _, new in new }
        pushes.merge(changed.pushes) { _, new in new }
    }
}

/// The board's computations kept per exact input, and shared by callers asking at once: sixteen
/// leaders with the board open ask for the same figures over the same facts, and each answer
/// costs a pass over every case. The key holds everything a computation reads — the call and
/// its request, the nodes, today, the model's content version and the ratings and tickets
/// themselves (compared in full, not by digest) — so a kept answer is the answer the call would
/// compute now; the first caller's computation is joined by those who arrive while it runs.
final class FigureMemo: Sendable {
    struct Key: Hashable, Sendable {
        var call: String
        var request: [UInt8]
        var nodes: [String]
        var today: CivilDate
        var modelVersion: Int
        var ratings: [RatingFact]
        var rectifications: [RectificationFact]
        /// The report's bad-review lines (comments and ticket states are not in the facts above).
        var badReviews: [BadReviewLine] = []
    }

    private struct State {
        var tasks: [Key: Task<any Sendable, any Error>] = [:]
        var order: [Key] = []
    }

    /// Answers kept (oldest dropped first): a few calls × a few node sets.
    let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int = 16) { self.capacity = capacity }

    /// The value for `key`, computing it at most once while it is kept. `compute` is pure (no
    /// I/O): it runs in its own task, so a caller cut by its deadline does not cut it for others.
    func value<Value: Sendable>(_ key: Key, _ compute: @escaping @Sendable () throws -> Value) async throws -> Value {
        let task = state.withLock { state in
            if let running = state.tasks[key] { return running }
            let task = Task<any Sendable, any Error> { try compute() }
            state.tasks[key] = task
            state.order.append(key)
            if state.order.count > capacity { state.tasks[state.order.removeFirst()] = nil }
            return task
        }
        guard let value = try await task.value as? Value else { return try compute() }
        return value
    }
}
