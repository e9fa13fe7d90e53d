import Foundation
import IntakeRules
import OneSealAuth
import OneSealStore
import Synchronization

/// One stored version of a catalogue item.
struct StoredItem: Sendable {
    let item: CatalogueItem
    let version: ItemVersion
    let changeNote: String
    let changedBy: String
    let changedByRole: String
    let createdAt: Date

    var pinned: PinnedItem {
        get throws(IntakeRuleError) { try PinnedItem(version: version, item: item) }
    }
}

/// The catalogue's SQL: every publication that changes an item is a new version row.
enum CatalogueStore {
    static let columns: StaticString = "implementation_code, version, content::text AS content, content_hash, change_note, changed_by, changed_by_role, created_at"

    /// Items decoded lately, by their stored text (`DecodedDocuments`): every submit reads the
    /// current version of its items, and decoding one was ≈ 3 % of intake's CPU (#21).
    static let decodedItems = DecodedDocuments<CatalogueItem>(capacity: 256)

    /// Every version this process read, which stored applications' pinned items are read from
    /// (decision 73). A version's content never changes (migration 0012), so a held version is
    /// never stale.
    static let pinnedVersions = PinnedVersions(capacity: 4096)

    static func decode(_ row: PostgresRow) throws -> StoredItem {
        let content = try row.decode("content", as: String.self)
        let item = try decodedItems.value(of: content) { try JSONDecoder().decode(CatalogueItem.self, from: Data($0.utf8)) }
        let code = try row.decode("implementation_code", as: String.self)
        let version = ItemVersion(implementationCode: code, version: try row.decode("version", as: Int.self), contentHash: try row.decode("content_hash", as: String.self))
        pinnedVersions.hold(item, as: version)
        return StoredItem(
            item: item,
            version: version,
            changeNote: try row.decode("change_note", as: String.self),
            changedBy: try row.decode("changed_by", as: String.self),
            changedByRole: try row.decode("changed_by_role", as: String.self),
            createdAt: try row.decode("created_at", as: Date.self)
        )
    }

    /// The current version, or a given one (version 0 = current).
    static func item(_ code: String, version: Int = 0, on connection: PostgresConnection) async throws -> StoredItem? {
        let rows: PostgresRows
        if version == 0 {
            rows = try await connection.query("SELECT \(unescaped: columns) FROM catalogue_current WHERE implementation_code = \(code)")
        } else {
            rows = try await connection.query("SELECT \(unescaped: columns) FROM catalogue_items WHERE implementation_code = \(code) AND version = \(version)")
        }
        return try rows.first.map(decode)
    }

    /// The content of `version` from the catalogue (held from now on, as `decode` holds every
    /// row it reads); nil when the catalogue has no such version, or has it with another content
    /// hash — never another version's rules.
    static func pinned(_ version: ItemVersion, on connection: PostgresConnection) async throws -> CatalogueItem? {
        guard let stored = try await item(version.implementationCode, version: version.version, on: connection), stored.version == version else { return nil }
        return stored.item
    }

    /// The current version (or a given one) with the numbers of all the item's versions, in one
    /// statement: the public guide a front-end loads before every submit (#21: it was two
    /// autocommitted reads, two commits per case).
    static func itemWithVersions(_ code: String, version: Int = 0, on connection: PostgresConnection) async throws -> (StoredItem, versions: [Int])? {
        let rows = try await connection.query("""
            SELECT \(unescaped: columns),
                   ARRAY(SELECT v.version::text FROM catalogue_items v WHERE v.implementation_code = \(code) ORDER BY v.version) AS versions
            FROM catalogue_items
            WHERE implementation_code = \(code) AND version = CASE WHEN \(version) = 0
                  THEN (SELECT max(c.version) FROM catalogue_items c WHERE c.implementation_code = \(code)) ELSE \(version) END
            """)
        guard let row = rows.first else { return nil }
        // Version numbers are the primary key's integers: never NULL, always digits.
        let versions = try row.decode("versions", as: SQLTextArray.self).elements.compactMap { $0.flatMap { Int($0) } }
        return (try decode(row), versions)
    }

    /// Publishes `item` over its current version inside `transaction`: a new version when anything
    /// changed, nothing when it is identical. The row lock on the current version (or the unique key
    /// for a first version) makes two concurrent publications of the same item take turns.
    static func publish(_ item: CatalogueItem, note: String, by caller: Caller, in transaction: PostgresConnection) async throws -> (StoredItem, created: Bool) {
        let locked = try await transaction.query(
            "SELECT \(unescaped: columns) FROM catalogue_items WHERE implementation_code = \(item.implementationCode) ORDER BY version DESC LIMIT 1 FOR UPDATE")
        let current = try locked.first.map(decode)
        let publication = try ItemVersion.publishing(item, over: current?.version)
        guard publication.createdNewVersion else { return (current!, false) }
        let content = String(decoding: item.canonicalJSON, as: UTF8.self)
        let rows = try await transaction.query("""
            INSERT INTO catalogue_items (implementation_code, version, basic_code, name, department_code, item_type, active, content, content_hash,
                                         change_note, changed_by, changed_by_role)
            VALUES (\(item.implementationCode), \(publication.version.version), \(item.basicCode), \(item.name), \(item.competentDepartment.code),
                    \(item.type?.rawValue ?? ""), \(item.active), \(content)::jsonb, \(publication.version.contentHash),
                    \(note), \(caller.subject), \(caller.role.rawValue))
            RETURNING \(unescaped: columns)
            """)
        return (try decode(try rows.one()), true)
    }

    /// Current versions matching the filter, by implementation code, one page.
    static func list(
        query: String, departmentCode: String, type: ItemType?, includeInactive: Bool, after: String, limit: Int,
        on connection: PostgresConnection
    ) async throws -> (items: [StoredItem], total: Int) {
        let pattern = "%" + query.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_") + "%"
        let filter: SQLQuery = """
            (\(query) = '' OR name ILIKE \(pattern) OR implementation_code ILIKE \(pattern) OR basic_code ILIKE \(pattern))
            AND (\(departmentCode) = '' OR department_code = \(departmentCode))
            AND (\(type?.rawValue ?? "") = '' OR item_type = \(type?.rawValue ?? ""))
            AND (\(includeInactive) OR active)
            """
        let rows = try await connection.query(
            "SELECT \(unescaped: columns) FROM catalogue_current WHERE \(filter) AND implementation_code > \(after) ORDER BY implementation_code LIMIT \(limit)")
        let total = try await connection.query("SELECT count(*)::int8 AS n FROM catalogue_current WHERE \(filter)").one().decode("n", as: Int.self)
        return (try rows.map(decode), total)
    }
}

/// The catalogue versions a process holds, by version and content hash: the `PinnedItem.Catalogue`
/// stored applications are decoded with. Past `capacity` it starts again empty (a county's
/// catalogue is a few thousand versions); a miss costs one read (`ApplicationStore.decode(_:on:)`).
final class PinnedVersions: Sendable {
    let capacity: Int
    private let items = Mutex<[ItemVersion: CatalogueItem]>([:])

    init(capacity: Int) {
        self.capacity = capacity
    }

    func hold(_ item: CatalogueItem, as version: ItemVersion) {
        items.withLock { items in
            if items[version] != nil { return }
            if items.count >= capacity { items.removeAll(keepingCapacity: true) }
            items[version] = item
        }
    }

    func item(_ version: ItemVersion) -> CatalogueItem? {
        items.withLock { $0[version] }
    }

    /// Holds nothing, as after a start (tests).
    func forgetAll() {
        items.withLock { $0.removeAll() }
    }

    var catalogue: PinnedItem.Catalogue {
        { [self] version in item(version) }
    }
}
