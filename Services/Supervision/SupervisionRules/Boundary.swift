import Foundation
import OneSealCore

/// One department's responsibility for an item (监管职责) in the boundary list.
public struct SupervisingDepartment: Sendable, Hashable, Codable {
    public var code: String
    public var responsibility: String

    public init(code: String, responsibility: String) {
        self.code = code
        self.responsibility = responsibility
    }
}

/// An entry of the boundary list (审管边界清单): the departments that supervise an item, named by its
/// implementation code (one implementation) or its basic code (every implementation of it, at every
/// level: the city's and each county's).
public struct BoundaryEntry: Sendable, Hashable, Codable {
    public var implementationCode: String
    public var basicCode: String
    public var itemName: String
    public var departments: [SupervisingDepartment]

    public init(implementationCode: String = "", basicCode: String = "", itemName: String = "", departments: [SupervisingDepartment]) {
        self.implementationCode = implementationCode
        self.basicCode = basicCode
        self.itemName = itemName
        self.departments = departments
    }

    /// The key the entry is stored under: "impl:<code>" or "basic:<code>".
    public var key: String { implementationCode.isEmpty ? "basic:\(basicCode)" : "impl:\(implementationCode)" }

    /// Implementation codes are the basic code (12 digits) + division code (6) + a serial (3): 21 digits.
    public static func isImplementationCode(_ code: String) -> Bool { code.count == 21 && code.allSatisfy { $0.isASCII && $0.isNumber } }
    public static func isBasicCode(_ code: String) -> Bool { code.count == 12 && code.allSatisfy { $0.isASCII && $0.isNumber } }

    /// The basic code an implementation code starts with.
    public static func basicCode(of implementationCode: String) -> String? {
        isImplementationCode(implementationCode) ? String(implementationCode.prefix(12)) : nil
    }

    /// Every problem with the entry. `known` answers whether a department code is registered and active.
    public func validate(prefix: String = "entry", known: (String) -> Bool) -> [FieldViolation] {
        var violations: [FieldViolation] = []
        func field(_ name: String) -> String { prefix.isEmpty ? name : "\(prefix).\(name)" }
        switch (implementationCode.isBlank, basicCode.isBlank) {
        case (true, true):
            violations.append(FieldViolation(field: field("implementation_code"), description: "give the implementation code, or the basic code to cover every implementation", reason: "required"))
        case (false, false):
            violations.append(FieldViolation(field: field("basic_code"), description: "give either the implementation code or the basic code, not both", reason: "exclusive"))
        case (false, true):
            if !Self.isImplementationCode(implementationCode) {
                violations.append(FieldViolation(field: field("implementation_code"), description: "'\(implementationCode)' is not a 21-digit implementation code", reason: "format"))
            }
        case (true, false):
            if !Self.isBasicCode(basicCode) {
                violations.append(FieldViolation(field: field("basic_code"), description: "'\(basicCode)' is not a 12-digit basic code", reason: "format"))
            }
        }
        if departments.isEmpty {
            violations.append(FieldViolation(field: field("departments"), description: "at least one department (to stop pushing an item, remove its entry)", reason: "required"))
        }
        var seen = Set<String>()
        for (index, department) in departments.enumerated() {
            let path = field("departments[\(index)]")
            if department.code.isBlank {
                violations.append(.required("\(path).department.code"))
            } else if !seen.insert(department.code).inserted {
                violations.append(FieldViolation(field: "\(path).department.code", description: "'\(department.code)' is listed twice", reason: "duplicate"))
            } else if !known(department.code) {
                violations.append(FieldViolation(field: "\(path).department.code", description: "no active department '\(department.code)'; register it first (UpsertDepartment)", reason: "unknown_department"))
            }
            if department.responsibility.isBlank {
                violations.append(FieldViolation(field: "\(path).responsibility", description: "say what the department supervises (监管职责)", reason: "required"))
            }
        }
        return violations
    }
}

/// The boundary list as a lookup: which departments a decision about an item goes to.
public struct BoundaryList: Sendable, Hashable {
    public var entries: [BoundaryEntry]

    public init(_ entries: [BoundaryEntry]) { self.entries = entries }

    /// The entry that governs `implementationCode`: its own entry when there is one (the bureau wrote
    /// it for this implementation on purpose), otherwise the basic-code entry covering all levels.
    public func entry(for implementationCode: String) -> BoundaryEntry? {
        if let own = entries.first(where: { $0.implementationCode == implementationCode }) { return own }
        guard let basic = BoundaryEntry.basicCode(of: implementationCode) else { return nil }
        return entries.first { $0.implementationCode.isEmpty && $0.basicCode == basic }
    }

    /// The departments responsible for `implementationCode` (empty when the list has no entry).
    public func responsibleDepartments(for implementationCode: String) -> [SupervisingDepartment] {
        entry(for: implementationCode)?.departments ?? []
    }
}

extension BoundaryEntry {
    /// The entry after a re-routing that also fixes the list: the rejecting department leaves, the
    /// new ones join (keeping any already there), each with `responsibility`.
    public func rerouted(from rejecting: String, to departments: [String], responsibility: String) -> BoundaryEntry {
        var entry = self
        entry.departments.removeAll { $0.code == rejecting }
        for code in departments where !entry.departments.contains(where: { $0.code == code }) {
            entry.departments.append(SupervisingDepartment(code: code, responsibility: responsibility))
        }
        return entry
    }
}
