import Foundation
import OneSealCore

/// The catalogue import/export file (Services/Intake/catalogue/README.md documents every field):
///
///     { "format": "oneseal-catalogue/1", "items": [ { "basic_code": …, … }, … ] }
///
/// Field names are the proto field names of `intake.v1.Item`; enum values are the proto value names
/// without prefix, lower-cased. Reading reports every problem of the whole file at once, each with
/// its path ("items[3].materials[2].name: required"), so an operator fixes a file in one pass.
public enum CatalogueFile {
    /// The value of the top-level "format" field this version reads and writes.
    public static let formatName = "oneseal-catalogue/1"

    /// Parses, checks the structure of, and validates every item (`CatalogueItem.validate`), and
    /// refuses two items with the same implementation code. All or nothing: any problem throws
    /// `IntakeRuleError.invalidArgument` listing all of them.
    public static func decode(_ data: Data) throws(IntakeRuleError) -> [CatalogueItem] {
        let root: JSONValue
        do {
            root = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw .invalidArgument([FieldViolation(field: "", description: "not valid JSON: \(Self.describe(error))", reason: "syntax")])
        }
        var violations: [FieldViolation] = []
        guard let file = JSONObjectReader.make(root, path: "", into: &violations) else { throw .invalidArgument(violations) }
        let format = file.string("format", required: true)
        if !format.isEmpty, format != formatName {
            file.add(FieldViolation(field: "format", description: "“\(format)” is not a format this version reads; expected “\(formatName)”", reason: "format.unsupported"))
        }
        file.rejectUnknownKeys(["format", "items"])
        var items: [CatalogueItem] = []
        var firstIndexOfCode: [String: Int] = [:]
        for (index, element) in file.array("items", required: true).enumerated() {
            var readProblems: [FieldViolation] = []
            guard let item = readItem(element.value, path: element.path, into: &readProblems) else {
                file.add(readProblems)
                continue
            }
            // A field that could not be read is reported once, as read; validation adds the
            // problems of the values that did read.
            let unreadable = Set(readProblems.map(\.field))
            var seen = Set<FieldViolation>()
            for violation in readProblems + item.validate(prefix: element.path).filter({ !unreadable.contains($0.field) })
            where seen.insert(violation).inserted {
                file.add(violation)
            }
            if !item.implementationCode.isEmpty {
                if let first = firstIndexOfCode[item.implementationCode] {
                    file.add(FieldViolation(
                        field: element.path + ".implementation_code",
                        description: "“\(item.implementationCode)” is already used by items[\(first)]", reason: "duplicate"))
                } else {
                    firstIndexOfCode[item.implementationCode] = index
                }
            }
            items.append(item)
        }
        violations += file.violations
        guard violations.isEmpty else { throw .invalidArgument(violations) }
        return items
    }

    /// Writes items in the file format: pretty-printed, keys sorted, so an exported catalogue diffs
    /// cleanly under version control. `decode(encode(items)) == items`.
    public static func encode(_ items: [CatalogueItem]) -> Data {
        struct File: Encodable {
            let format: String
            let items: [CatalogueItem]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // Plain strings, integers, booleans and arrays: encoding cannot fail.
        return try! encoder.encode(File(format: formatName, items: items))
    }

    private static func describe(_ error: any Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error {
            return context.underlyingError.map { "\($0)" } ?? context.debugDescription
        }
        return "\(error)"
    }

    private static func readItem(_ value: JSONValue, path: String, into problems: inout [FieldViolation]) -> CatalogueItem? {
        var structural: [FieldViolation] = []
        guard let r = JSONObjectReader.make(value, path: path, into: &problems) else { return nil }
        r.rejectUnknownKeys(CatalogueItem.CodingKeys.allCases.map(\.rawValue))
        let department = r.object("competent_department", required: true)
        department?.rejectUnknownKeys(["code", "name", "node"])
        let node = r.object("implementing_node", required: true)
        node?.rejectUnknownKeys(["division_code", "name", "level"])
        var materials: [Material] = []
        for element in r.array("materials", required: true) {
            if let material = readMaterial(element.value, path: element.path, into: r) { materials.append(material) }
        }
        var fees: [Fee] = []
        for element in r.array("fees") {
            guard let f = JSONObjectReader.make(element.value, path: element.path, into: &structural) else { continue }
            f.rejectUnknownKeys(Fee.CodingKeys.allCases.map(\.rawValue))
            fees.append(Fee(name: f.string("name"), amountFen: f.int("amount_fen"), basis: f.string("basis")))
            r.absorb(f)
        }
        var changeReviewMatters: [String] = []
        for entry in r.array("change_review_matters") {
            guard case .string(let text) = entry.value else { r.add(FieldViolation(field: entry.path, description: "a matter name (string)", reason: "type")); continue }
            changeReviewMatters.append(text)
        }
        let procedures = r.array("special_procedures").compactMap {
            JSONObjectReader.enumeration($0.value, SpecialProcedure.self, path: $0.path, reader: r)
        }
        let item = CatalogueItem(
            basicCode: r.string("basic_code"),
            implementationCode: r.string("implementation_code"),
            name: r.string("name"),
            legalBasis: r.string("legal_basis"),
            type: r.enumeration("type", ItemType.self),
            level: r.enumeration("level", AdministrativeLevel.self),
            competentDepartment: DepartmentRef(
                code: department?.string("code") ?? "", name: department?.string("name") ?? "",
                node: department?.string("node") ?? ""),
            tier: r.enumeration("tier", ApprovalTier.self),
            statutoryDays: r.int("statutory_days", required: true),
            promisedDays: r.int("promised_days", required: true),
            materials: materials,
            acceptanceConditions: r.string("acceptance_conditions"),
            process: r.string("process"),
            commitmentAllowed: r.bool("commitment_allowed"),
            deficiencyAllowed: r.bool("deficiency_allowed"),
            instantApprovalAllowed: r.bool("instant_approval_allowed"),
            instantRuleSet: r.string("instant_rule_set"),
            implementingNode: NodeRef(
                divisionCode: node?.string("division_code") ?? "", name: node?.string("name") ?? "",
                level: node?.enumeration("level", AdministrativeLevel.self)),
            licenceTypeCode: r.string("licence_type_code"),
            licenceName: r.string("licence_name"),
            licenceValidityMonths: r.int("licence_validity_months"),
            resultName: r.string("result_name"),
            specialProcedures: procedures,
            fees: fees,
            maxVisits: r.int("max_visits", default: 1),
            jointHandling: r.bool("joint_handling"),
            active: r.bool("active", default: true),
            renewalDaysBeforeExpiry: r.int("renewal_days_before_expiry") == 0 ? nil : r.int("renewal_days_before_expiry"),
            changeReviewMatters: changeReviewMatters.isEmpty ? nil : changeReviewMatters)
        r.absorb(department)
        r.absorb(node)
        r.add(structural)
        problems += r.violations
        return item
    }

    private static func readMaterial(_ value: JSONValue, path: String, into parent: JSONObjectReader) -> Material? {
        var structural: [FieldViolation] = []
        guard let m = JSONObjectReader.make(value, path: path, into: &structural) else {
            parent.add(structural)
            return nil
        }
        m.rejectUnknownKeys(Material.CodingKeys.allCases.map(\.rawValue))
        let forms = m.array("forms").compactMap { JSONObjectReader.enumeration($0.value, MaterialForm.self, path: $0.path, reader: m) }
        let material = Material(
            code: m.string("code"), name: m.string("name"), required: m.bool("required", default: true),
            forms: forms, copies: m.int("copies"), source: m.enumeration("source", MaterialSource.self),
            sourceDescription: m.string("source_description"), licenceTypeCode: m.string("licence_type_code"),
            blankFormURL: m.string("blank_form_url"), sampleURL: m.string("sample_url"),
            acceptanceStandard: m.string("acceptance_standard"), deficiencyAllowed: m.bool("deficiency_allowed"),
            note: m.string("note"))
        parent.absorb(m)
        return material
    }
}
