/// Which server-side prepared statements one connection holds, keyed by SQL text and parameter
/// types.
///
/// Why: a statement sent with `PQexecParams` is parsed, analysed and planned by the server on
/// every call; an application runs the same few dozen statements over and over, so preparing each
/// once per connection (`PQprepare`) and then only binding and executing it
/// (`PQexecPrepared`) saves that work on every later call — the same thing postgres-nio, pgx and
/// `pgbench -M prepared` do.
///
/// The key includes the parameter type OIDs because a statement is prepared with fixed parameter
/// types: the same text interpolated once with an `Int` and once with a `String` needs two
/// statements. The cache is bounded; the least recently used statement is evicted, and its
/// `DEALLOCATE` is deferred until the connection is outside a transaction block, where a failing
/// `DEALLOCATE` cannot abort the caller's transaction.
///
/// Not thread-safe on its own: it lives inside a ``LibPQConnection``, which only one thread uses
/// at a time.
struct PreparedStatementCache {
    struct Key: Hashable {
        var sql: String
        var parameterTypes: [UInt32]
    }

    private struct Entry {
        var name: String
        var lastUse: UInt64
    }

    /// Most statements kept; 0 turns caching off.
    let capacity: Int
    private var entries: [Key: Entry] = [:]
    private var clock: UInt64 = 0
    private var nextNumber = 0
    /// Names evicted from the cache whose server-side statement still has to be deallocated.
    private(set) var pendingDeallocations: [String] = []
    /// The server may have lost every statement (e.g. a `DISCARD ALL` or `DEALLOCATE ALL` sent
    /// through `executeScript`): `DEALLOCATE ALL` before preparing anything new.
    private(set) var needsDeallocateAll = false

    init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    var isEnabled: Bool { capacity > 0 }
    var count: Int { entries.count }
    var hasPendingMaintenance: Bool { needsDeallocateAll || !pendingDeallocations.isEmpty }

    /// The statement name for `key`, if prepared on this connection; marks it recently used.
    mutating func lookup(_ key: Key) -> String? {
        guard let entry = entries[key] else { return nil }
        clock &+= 1
        entries[key]!.lastUse = clock
        return entry.name
    }

    /// A name never used before on this connection (names of evicted statements are not reused,
    /// so a deferred `DEALLOCATE` can never hit a newer statement).
    mutating func makeName() -> String {
        nextNumber += 1
        return "oneseal_\(nextNumber)"
    }

    /// Records that `name` now holds `key`, evicting the least recently used entry when full.
    mutating func insert(_ key: Key, name: String) {
        if entries.count >= capacity,
            let oldest = entries.min(by: { $0.value.lastUse < $1.value.lastUse })
        {
            entries.removeValue(forKey: oldest.key)
            pendingDeallocations.append(oldest.value.name)
        }
        clock &+= 1
        entries[key] = Entry(name: name, lastUse: clock)
    }

    /// Forgets one statement whose plan the server refused to reuse; it is deallocated later.
    mutating func invalidate(_ key: Key) {
        if let entry = entries.removeValue(forKey: key) { pendingDeallocations.append(entry.name) }
    }

    /// Forgets every statement: the server no longer knows (all of) them.
    mutating func invalidateAll() {
        entries = [:]
        pendingDeallocations = []
        needsDeallocateAll = true
    }

    /// The statements that bring the server in line with the cache, one per round trip so a
    /// statement already gone on the server does not keep the others from running. Call
    /// `maintenanceDone()` after sending them, whether or not they succeeded: a statement that is
    /// already gone needs no deallocation.
    var maintenanceStatements: [String] {
        if needsDeallocateAll { return ["DEALLOCATE ALL"] }
        return pendingDeallocations.map { "DEALLOCATE \($0)" }
    }

    mutating func maintenanceDone() {
        // Statements prepared after invalidateAll() (e.g. after a ROLLBACK TO SAVEPOINT in the
        // same transaction) went with the DEALLOCATE ALL too.
        if needsDeallocateAll { entries = [:] }
        needsDeallocateAll = false
        pendingDeallocations = []
    }
}
