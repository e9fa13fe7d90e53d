import Foundation
import OneSealCore
import OneSealProto
import OneSealServiceKit
import OneSealStore
import SupervisionContracts
import SupervisionRules
import SwiftProtobuf

/// A department as stored, with who last changed it.
struct StoredDepartment: Sendable {
    var department: Department
    var updatedAt: Date
    var updatedBy: String
    var updatedByRole: String

    var proto: Supervision_Department {
        Supervision_Department.with {
            $0.code = department.code
            $0.name = department.name
            $0.level = department.level?.proto ?? .unspecified
            $0.node = department.node
            $0.contactName = department.contactName
            $0.contactPhone = department.contactPhone
            $0.delivery = department.delivery.proto
            $0.endpoint = department.endpoint
            $0.active = department.active
            $0.updatedAt = Google_Protobuf_Timestamp(date: updatedAt)
            $0.updatedBy = Common_ActorRef.with { $0.subject = updatedBy; $0.role = updatedByRole }
        }
    }

    var ref: Common_DepartmentRef {
        Common_DepartmentRef.with { $0.code = department.code; $0.name = department.name; $0.node = department.node }
    }
}

enum DepartmentStore {
    static let columns: StaticString = "code, name, level, node, contact_name, contact_phone, delivery, endpoint, active, updated_at, updated_by, updated_by_role"

    static func decode(_ row: PostgresRow) throws -> StoredDepartment {
        StoredDepartment(
            department: Department(
                code: try row.decode("code"), name: try row.decode("name"), level: DepartmentLevel(rawValue: try row.decode("level", as: String.self)),
                node: try row.decode("node"), contactName: try row.decode("contact_name"), contactPhone: try row.decode("contact_phone"),
                delivery: DeliveryMode(rawValue: try row.decode("delivery", as: String.self)) ?? .pull, endpoint: try row.decode("endpoint"),
                active: try row.decode("active")),
            updatedAt: try row.decode("updated_at"), updatedBy: try row.decode("updated_by"), updatedByRole: try row.decode("updated_by_role"))
    }

    static func find(_ code: String, forUpdate: Bool = false, on connection: PostgresConnection) async throws -> StoredDepartment? {
        let rows = forUpdate
            ? try await connection.query("SELECT \(unescaped: columns) FROM departments WHERE code = \(code) FOR UPDATE")
            : try await connection.query("SELECT \(unescaped: columns) FROM departments WHERE code = \(code)")
        return try rows.first.map(decode)
    }

    /// The departments of `codes` that exist, by code, in one statement (a source event's pushes
    /// read their departments together, #21).
    static func find(_ codes: [String], on connection: PostgresConnection) async throws -> [String: StoredDepartment] {
        let rows = try await connection.query("SELECT \(unescaped: columns) FROM departments WHERE code = ANY(\(SQLArray(codes))::text[])")
        return try Dictionary(rows.map { let department = try decode($0); return (department.department.code, department) }, uniquingKeysWith: { first, _ in first })
    }

    static func all(includeInactive: Bool, on connection: PostgresConnection) async throws -> [StoredDepartment] {
        try await connection.query("SELECT \(unescaped: columns) FROM departments WHERE active OR \(includeInactive) ORDER BY code").map(decode)
    }

    /// Inserts or replaces; returns whether it was new.
    static func upsert(_ department: Department, by subject: String, role: String, at: Date, in transaction: PostgresConnection) async throws -> Bool {
        try await transaction.query("""
            INSERT INTO departments (code, name, level, node, contact_name, contact_phone, delivery, endpoint, active, updated_at, updated_by, updated_by_role)
            VALUES (\(department.code), \(department.name), \(department.level?.rawValue ?? "city"), \(department.node), \(department.contactName),
                    \(department.contactPhone), \(department.delivery.rawValue), \(department.endpoint), true, \(at), \(subject), \(role))
            ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, level = EXCLUDED.level, node = EXCLUDED.node,
                contact_name = EXCLUDED.contact_name, contact_phone = EXCLUDED.contact_phone, delivery = EXCLUDED.delivery,
                endpoint = EXCLUDED.endpoint, active = true, updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by,
                updated_by_role = EXCLUDED.updated_by_role
            RETURNING (xmax = 0) AS created
            """).one().decode("created", as: Bool.self)
    }

    static func deactivate(_ code: String, by subject: String, role: String, at: Date, in transaction: PostgresConnection) async throws {
        try await transaction.execute("""
            UPDATE departments SET active = false, updated_at = \(at), updated_by = \(subject), updated_by_role = \(role) WHERE code = \(code)
            """)
    }
}

/// The boundary list's SQL.
enum BoundaryStore {
    struct Stored: Sendable {
        var entry: BoundaryEntry
        var version: Int
        var updatedAt: Date
        var updatedBy: String
        var updatedByRole: String
    }

    /// Entries matching the filters, with their departments in list order, in one statement
    /// (each push's source event reads its item's entry: two statements were one too many, #21).
    static func entries(implementationCode: String = "", departmentCode: String = "", keys: [String]? = nil, on connection: PostgresConnection) async throws -> [Stored] {
        let rows = try await connection.query("""
            SELECT e.key, e.implementation_code, e.basic_code, e.item_name, e.version, e.updated_at, e.updated_by, e.updated_by_role,
                   COALESCE(d.codes, '{}') AS department_codes, COALESCE(d.responsibilities, '{}') AS responsibilities
            FROM boundary_entries e
            LEFT JOIN LATERAL (
                SELECT array_agg(department_code ORDER BY position) AS codes, array_agg(responsibility ORDER BY position) AS responsibilities
                FROM boundary_departments WHERE entry_key = e.key
            ) d ON true
            WHERE (\(implementationCode) = '' OR e.implementation_code = \(implementationCode) OR (e.implementation_code = '' AND e.basic_code = left(\(implementationCode), 12)))
              AND (\(departmentCode) = '' OR EXISTS (SELECT 1 FROM boundary_departments d WHERE d.entry_key = e.key AND d.department_code = \(departmentCode)))
              AND (\(keys == nil) OR e.key = ANY(\(SQLArray(keys ?? []))::text[]))
            ORDER BY e.key
            """)
        return try rows.map { row in
            let codes = try row.decode("department_codes", as: SQLTextArray.self).elements
            let responsibilities = try row.decode("responsibilities", as: SQLTextArray.self).elements
            let departments = zip(codes, responsibilities).map { SupervisingDepartment(code: $0 ?? "", responsibility: $1 ?? "") }
            return Stored(
                entry: BoundaryEntry(
                    implementationCode: try row.decode("implementation_code"), basicCode: try row.decode("basic_code"),
                    itemName: try row.decode("item_name"), departments: departments),
                version: try row.decode("version"), updatedAt: try row.decode("updated_at"),
                updatedBy: try row.decode("updated_by"), updatedByRole: try row.decode("updated_by_role"))
        }
    }

    /// Replaces the entry (version + 1 when it existed).
    static func put(_ entry: BoundaryEntry, by subject: String, role: String, at: Date, in transaction: PostgresConnection) async throws -> Int {
        let version = try await transaction.query("""
            INSERT INTO boundary_entries (key, implementation_code, basic_code, item_name, version, updated_at, updated_by, updated_by_role)
            VALUES (\(entry.key), \(entry.implementationCode), \(entry.basicCode), \(entry.itemName), 1, \(at), \(subject), \(role))
            ON CONFLICT (key) DO UPDATE SET item_name = EXCLUDED.item_name, version = boundary_entries.version + 1,
                updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by, updated_by_role = EXCLUDED.updated_by_role
            RETURNING version
            """).one().decode("version", as: Int.self)
        try await transaction.execute("DELETE FROM boundary_departments WHERE entry_key = \(entry.key)")
        for (position, department) in entry.departments.enumerated() {
            try await transaction.execute("""
                INSERT INTO boundary_departments (entry_key, department_code, position, responsibility)
                VALUES (\(entry.key), \(department.code), \(position), \(department.responsibility))
                """)
        }
        return version
    }

    static func remove(key: String, in transaction: PostgresConnection) async throws -> Bool {
        try await transaction.execute("DELETE FROM boundary_entries WHERE key = \(key)") == 1
    }
}

extension BoundaryStore.Stored {
    func proto(departments: [String: StoredDepartment]) -> Supervision_BoundaryEntry {
        Supervision_BoundaryEntry.with {
            $0.implementationCode = entry.implementationCode
            $0.basicCode = entry.basicCode
            $0.itemName = entry.itemName
            $0.version = Int32(version)
            $0.updatedAt = Google_Protobuf_Timestamp(date: updatedAt)
            $0.updatedBy = Common_ActorRef.with { $0.subject = updatedBy; $0.role = updatedByRole }
            $0.departments = entry.departments.map { supervising in
                Supervision_SupervisingDepartment.with {
                    $0.department = departments[supervising.code]?.ref ?? Common_DepartmentRef.with { $0.code = supervising.code }
                    $0.responsibility = supervising.responsibility
                    $0.node = departments[supervising.code]?.department.node ?? ""
                }
            }
        }
    }
}
