import Foundation
import OneSealCore

/// The boundary list as a file (format `oneseal-boundary/1`, documented in
/// Services/Supervision/boundary/README.md): the departments and the entries, JSON, so a bureau keeps
/// its 审管边界清单 under review and moves it between nodes with `oneseal supervision boundary import|export`.
///
/// Reading is all or nothing and reports every problem at once, each with its path; unknown fields
/// are errors (a misspelt key would otherwise leave a default silently in place).
public enum BoundaryFile {
    public static let format = "oneseal-boundary/1"

    public struct Contents: Sendable, Hashable {
        public var departments: [Department]
        public var entries: [BoundaryEntry]

        public init(departments: [Department], entries: [BoundaryEntry]) {
            self.departments = departments
            self.entries = entries
        }
    }

    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public var violations: [FieldViolation]
        public var description: String { violations.map(\.text).joined(separator: "\n") }
    }

    public static func decode(_ data: Data) throws(Invalid) -> Contents {
        var violations: [FieldViolation] = []
        func fail(_ field: String, _ description: String, _ reason: String) { violations.append(FieldViolation(field: field, description: description, reason: reason)) }
        guard let top = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw Invalid(violations: [FieldViolation(field: "", description: "not a JSON object", reason: "format")])
        }
        check(top, allowed: ["format", "departments", "entries"], path: "", fail)
        if top["format"] as? String != format {
            fail("format", "must be \"\(format)\"", "format")
        }
        var departments: [Department] = []
        for (index, any) in ((top["departments"] as? [Any]) ?? []).enumerated() {
            let path = "departments[\(index)]"
            guard let object = any as? [String: Any] else { fail(path, "must be an object", "format"); continue }
            check(object, allowed: ["code", "name", "level", "node", "contact_name", "contact_phone", "delivery", "endpoint", "active"], path: path, fail)
            let level = string(object, "level", path, fail)
            let delivery = string(object, "delivery", path, fail)
            var department = Department(
                code: string(object, "code", path, fail), name: string(object, "name", path, fail),
                level: DepartmentLevel(rawValue: level), node: string(object, "node", path, fail),
                contactName: string(object, "contact_name", path, fail), contactPhone: string(object, "contact_phone", path, fail),
                delivery: DeliveryMode(rawValue: delivery.isEmpty ? "pull" : delivery) ?? .pull,
                endpoint: string(object, "endpoint", path, fail), active: (object["active"] as? Bool) ?? true)
            if !level.isEmpty, DepartmentLevel(rawValue: level) == nil {
                fail("\(path).level", "unknown value “\(level)”; expected one of: \(DepartmentLevel.allCases.map(\.rawValue).joined(separator: ", "))", "enum")
                department.level = .city
            }
            if !delivery.isEmpty, DeliveryMode(rawValue: delivery) == nil {
                fail("\(path).delivery", "unknown value “\(delivery)”; expected pull or endpoint", "enum")
            }
            violations += department.validate(prefix: path)
            if departments.contains(where: { $0.code == department.code }) {
                fail("\(path).code", "“\(department.code)” is already used by another department in the file", "duplicate")
            }
            departments.append(department)
        }
        let known = Set(departments.filter(\.active).map(\.code))
        var entries: [BoundaryEntry] = []
        for (index, any) in ((top["entries"] as? [Any]) ?? []).enumerated() {
            let path = "entries[\(index)]"
            guard let object = any as? [String: Any] else { fail(path, "must be an object", "format"); continue }
            check(object, allowed: ["implementation_code", "basic_code", "item_name", "departments"], path: path, fail)
            var supervising: [SupervisingDepartment] = []
            for (position, item) in ((object["departments"] as? [Any]) ?? []).enumerated() {
                let itemPath = "\(path).departments[\(position)]"
                guard let department = item as? [String: Any] else { fail(itemPath, "must be an object", "format"); continue }
                check(department, allowed: ["code", "responsibility"], path: itemPath, fail)
                supervising.append(SupervisingDepartment(code: string(department, "code", itemPath, fail), responsibility: string(department, "responsibility", itemPath, fail)))
            }
            let entry = BoundaryEntry(
                implementationCode: string(object, "implementation_code", path, fail), basicCode: string(object, "basic_code", path, fail),
                itemName: string(object, "item_name", path, fail), departments: supervising)
            // The file's own paths say ".departments[i].code" (no nested department object).
            violations += entry.validate(prefix: path) { known.contains($0) }.map {
                FieldViolation(field: $0.field.replacingOccurrences(of: ".department.code", with: ".code"), description: $0.description, reason: $0.reason)
            }
            if entries.contains(where: { $0.key == entry.key }) {
                fail(path, "a second entry for \(entry.key)", "duplicate")
            }
            entries.append(entry)
        }
        guard violations.isEmpty else { throw Invalid(violations: violations) }
        return Contents(departments: departments, entries: entries)
    }

    /// Pretty-printed with sorted keys, so exports diff cleanly.
    public static func encode(_ contents: Contents) -> Data {
        let departments: [[String: Any]] = contents.departments.sorted { $0.code < $1.code }.map { department in
            var object: [String: Any] = [
                "code": department.code, "name": department.name, "level": department.level?.rawValue ?? "", "node": department.node,
                "delivery": department.delivery.rawValue, "active": department.active,
            ]
            if !department.contactName.isEmpty { object["contact_name"] = department.contactName }
            if !department.contactPhone.isEmpty { object["contact_phone"] = department.contactPhone }
            if !department.endpoint.isEmpty { object["endpoint"] = department.endpoint }
            return object
        }
        let entries: [[String: Any]] = contents.entries.sorted { $0.key < $1.key }.map { entry in
            var object: [String: Any] = [
                "item_name": entry.itemName,
                "departments": entry.departments.map { ["code": $0.code, "responsibility": $0.responsibility] },
            ]
            if entry.implementationCode.isEmpty { object["basic_code"] = entry.basicCode } else { object["implementation_code"] = entry.implementationCode }
            return object
        }
        let top: [String: Any] = ["format": format, "departments": departments, "entries": entries]
        return (try? JSONSerialization.data(withJSONObject: top, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])) ?? Data()
    }

    private static func check(_ object: [String: Any], allowed: Set<String>, path: String, _ fail: (String, String, String) -> Void) {
        for key in object.keys.sorted() where !allowed.contains(key) {
            fail(path.isEmpty ? key : "\(path).\(key)", "unknown field", "unknown_field")
        }
    }

    private static func string(_ object: [String: Any], _ key: String, _ path: String, _ fail: (String, String, String) -> Void) -> String {
        guard let value = object[key] else { return "" }
        guard let text = value as? String else {
            fail("\(path).\(key)", "must be a string", "type")
            return ""
        }
        return text
    }
}
