import Foundation
import IntakeRules
import OneSealAuth
import OneSealStore

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

    static func decode(_ row: PostgresRow) throws -> StoredItem {
        let content = try row.decode("content", as: String.self)
        let item = try decodedItems.value(of: content) { try JSONDecoder().decode(CatalogueItem.self, from: Data($0.utf8)) }
        let code = try row.decode("implementation_code", as: String.self)
        return StoredItem(
            item: item,
            version: ItemVersion(implementationCode: code, version: try row.decode("version", as: Int.self), contentHash: try row.decode("content_hash", as: String.self)),
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
