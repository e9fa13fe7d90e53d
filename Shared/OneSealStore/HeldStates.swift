import Foundation
import Synchronization

/// The last state this process wrote for each of the aggregates it changed lately, with the row
/// version that holds it: the aggregate's revision and the row version's `xmin` (the transaction
/// that wrote it).
///
/// Why: a change reads its aggregate `FOR UPDATE` before it writes, and the aggregate it reads is
/// most often the one this process wrote last — an application is changed ≈ 6 times per case,
/// each time by the intake that wrote it before (#21 step 16). Sending that state back (≈ 4 KB of
/// JSON, decompressed and copied by the server, hashed by `DecodedDocuments` here) buys nothing. A
/// read by id binds the revision and writer this process holds, and the server leaves the state
/// out — answers NULL — exactly when the row it read is that very version.
///
/// Why both numbers: the revision alone could match a write this process made in a transaction
/// that then rolled back, while another process committed the same revision with another state.
/// `xmin` tells row versions apart: a row written under the top-level transaction `X` has
/// `xmin = X`, one written in a savepoint has the savepoint's own id (never remembered here, so it
/// never matches); freezing keeps a row's `xmin` (PostgreSQL ≥ 9.4), so a frozen version still
/// matches only the write that made it. The 32-bit id comes round again only after ≈ 4 billion
/// transactions, far past any entry's life in a cache of `capacity`. Both must match. Under
/// `FOR UPDATE` the select list is evaluated on the row version the lock was taken on, so a
/// version committed meanwhile is compared, not the one seen before.
///
/// A store may go one step further and change the held copy without reading the row at all
/// (intake's `ApplicationStore.findForChange`, #21 step 17): its write then carries `isVersion` in
/// its WHERE, so it changes the row only if the row is still that version, and answers
/// `superseded` otherwise, which runs the transaction again on the stored row.
///
/// What it assumes, and the stores say: this process writes the state only through the store
/// that remembers it, and every such write bumps the revision. Any other writer — another
/// process, an operator by hand, a migration — makes a row version with its own `xmin`, which
/// never matches: the state is sent again.
public final class HeldStates<Value: Sendable>: Sendable {
    public struct Entry: Sendable {
        public let revision: Int64
        /// The row version's `xmin` as text (`RETURNING xmin::text`).
        public let writer: String
        public let value: Value
        /// Whether the transaction that wrote it is known to have committed (`committed(_:writer:)`):
        /// a change starts only from a committed copy — one still being written is not yet the
        /// row anyone else sees, and a change on it would only find that out and run again
        /// (#21 step 17: ≈ 0.15 runs again per case before this flag). A write undone by a
        /// rollback to a savepoint is marked with its transaction; its copy's write then finds
        /// the row moved on, as any held copy's write checks.
        public internal(set) var isCommitted = false
    }

    public let capacity: Int
    private let entries = Mutex<[UUID: Entry]>([:])

    public init(capacity: Int) {
        self.capacity = capacity
    }

    public var count: Int { entries.withLock { $0.count } }

    /// What this process holds for `id`, to bind into the read (`revision = $held AND xmin = $writer::xid`).
    public func entry(_ id: UUID) -> Entry? {
        entries.withLock { $0[id] }
    }

    /// `value` is the state of `id` at `revision`, in the row version `writer` wrote. When full,
    /// all entries are forgotten (the next reads send the state again, as after a start).
    public func remember(_ id: UUID, revision: Int64, writer: String, value: Value) {
        entries.withLock { entries in
            if entries.count >= capacity, entries[id] == nil { entries.removeAll(keepingCapacity: true) }
            entries[id] = Entry(revision: revision, writer: writer, value: value)
        }
    }

    /// The condition true exactly for the row version at `revision` that `writer` wrote (the
    /// table's `revision` and the row's `xmin`). Revision 0 and `xmin` 0 match no row version.
    public static func isVersion(revision: Int64, writer: String) -> SQLQuery {
        "revision = \(revision) AND xmin = \(writer)::xid"
    }

    /// The select-list item a read by id asks with: the `state` column as text, or NULL when the
    /// row is `held`'s very version (`isVersion`).
    public static func stateColumn(held: Entry?) -> SQLQuery {
        "CASE WHEN \(isVersion(revision: held?.revision ?? 0, writer: held?.writer ?? "0")) THEN NULL ELSE state::text END AS state"
    }

    /// The state a row read with `stateColumn(held:)` holds: `held`'s value when the server left
    /// it out (NULL), else `decode` of the text it sent.
    public static func state(of row: PostgresRow, held: Entry?, decode: (String) throws -> Value) throws -> Value {
        try state(of: row, held: held, { $0 }, decode: decode)
    }

    /// The same where what is held is more than the state (the whole stored aggregate): `project`
    /// takes the state out of it.
    public static func state<State>(of row: PostgresRow, held: Entry?, _ project: (Value) -> State, decode: (String) throws -> State) throws -> State {
        if let held, try row.decode("state", as: String?.self) == nil { return project(held.value) }
        return try decode(try row.decode("state", as: String.self))
    }

    /// The write of `id` that `writer` made has committed (`PostgresConnection.afterCommit`);
    /// nothing when a later write has replaced it meanwhile.
    public func committed(_ id: UUID, writer: String) {
        entries.withLock { entries in
            if entries[id]?.writer == writer { entries[id]?.isCommitted = true }
        }
    }

    /// Remembers what a write in `transaction` wrote (`remember`) and marks it committed once
    /// `transaction` commits.
    public func remember(_ id: UUID, revision: Int64, writer: String, value: Value, in transaction: PostgresConnection) {
        remember(id, revision: revision, writer: writer, value: value)
        transaction.afterCommit { [self] in committed(id, writer: writer) }
    }

    /// The held entry of `id` once its transaction is known to have committed, else nil.
    func committedEntry(_ id: UUID) -> Entry? {
        entries.withLock { entries in entries[id].flatMap { $0.isCommitted ? $0 : nil } }
    }

    /// Runs `body`, a change of `id` that started from the held copy when `fromCopy`. A refusal
    /// made on a copy is never answered from it — the copy may be a state another process has
    /// moved on from: any error but the database's or a cancellation forgets `id` and becomes
    /// `superseded(what)`, so the transaction runs again on the stored row, which answers it.
    public func confirmingRefusals<T>(
        of id: UUID, fromCopy: Bool, _ what: @autoclosure () -> String, _ body: () async throws -> T
    ) async throws -> T {
        guard fromCopy else { return try await body() }
        do {
            return try await body()
        } catch let error as PostgresError {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            forget(id)
            throw Self.superseded("\(what()) (a refusal to confirm)")
        }
    }

    /// Forgets `id`: its next change reads the row (a change on the held copy found the row
    /// moved on, or was refused and is confirmed on the stored row).
    public func forget(_ id: UUID) {
        _ = entries.withLock { $0.removeValue(forKey: id) }
    }

    /// What a write made on a held copy answers when the row is no longer that version — another
    /// process (or a transaction of this one) changed it since: SQLSTATE 40001, the transaction
    /// may succeed when run again, which `PostgresClient.withTransaction` does; the caller has
    /// forgotten the entry, so the next run reads and locks the stored row.
    public static func superseded(_ what: String) -> PostgresError {
        PostgresError(kind: .server, sqlState: "40001", message: "\(what) changed since this process wrote it; run again on the stored row")
    }

    /// Keeps nothing, as after a start (tests).
    public func forgetAll() {
        entries.withLock { $0.removeAll() }
    }
}

/// A stored aggregate a store holds whole (`HeldStates<Self>`) so that a change can start from it
/// without reading its row: intake's application, approval's case.
public protocol HeldAggregate: Sendable {
    var id: UUID { get }
    /// The revision its row has (a changed copy: the revision it is written at).
    var revision: Int64 { get }
    /// Set on a held copy handed to a change (`HeldStates.copyToChange`): the `xmin` of the row
    /// version it is, which the change's write checks (`HeldStates.writeCondition`). Nil on a
    /// row read and locked.
    var heldWriter: String? { get set }
    /// The aggregate as a read of its row would answer it (instants in whole microseconds).
    var asStored: Self { get }
}

extension HeldStates where Value: HeldAggregate {
    /// The copy a change of `id` may start from without reading the row — the one held once its
    /// transaction is known to have committed, marked with the row version it is — else nil:
    /// read and lock the row.
    public func copyToChange(_ id: UUID) -> Value? {
        guard let entry = committedEntry(id) else { return nil }
        var copy = entry.value
        copy.heldWriter = entry.writer
        return copy
    }

    /// Remembers `value` as written, at its revision, in the row version `writer` made by
    /// `transaction` (committed once it commits), as a read would answer it.
    public func remember(written value: Value, writer: String, in transaction: PostgresConnection) {
        var held = value.asStored
        held.heldWriter = nil
        remember(value.id, revision: value.revision, writer: writer, value: held, in: transaction)
    }

    /// The WHERE's further condition for writing `value` (a change, at the revision after the
    /// copy's): when it is a held copy, the row must still be the version it was copied from;
    /// nothing for a row read and locked.
    public static func writeCondition(for value: Value) -> SQLQuery {
        guard let writer = value.heldWriter else { return "" }
        return " AND \(isVersion(revision: value.revision - 1, writer: writer))"
    }

    /// What a write of `value` that changed no row means: for a held copy, that the row moved on
    /// since — its entry is forgotten and the error to throw is answered (`superseded`, the
    /// transaction runs again on the stored row); nil for a row read and locked.
    public func rowMovedOn(from value: Value, _ what: @autoclosure () -> String) -> PostgresError? {
        guard value.heldWriter != nil else { return nil }
        forget(value.id)
        return Self.superseded(what())
    }
}
