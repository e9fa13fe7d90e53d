/// One invalid field, named by its path ("applicant.id_number", "items[3].materials[2].name") so a
/// form or an operator can put the message next to the right input. Mirrors
/// `oneseal.common.v1.FieldViolation` field for field.
public struct FieldViolation: Sendable, Hashable, Codable {
    /// Path of the field, proto field names joined by dots, list indices in brackets.
    public let field: String
    /// What is wrong and what would be right, in words a clerk can read out.
    public let description: String
    /// Stable machine code ("required", "id_number.checksum" …) for clients that translate.
    public let reason: String

    public init(field: String, description: String, reason: String) {
        self.field = field
        self.description = description
        self.reason = reason
    }

    /// "field: description", the form used in logs and in `IntakeRuleError.description`.
    public var text: String { "\(field): \(description)" }

    /// A required value is absent or blank.
    public static func required(_ field: String) -> FieldViolation {
        FieldViolation(field: field, description: "required", reason: "required")
    }
}

/// Joins a parent path and a child field name: `joinPath("applicant", "name")` = "applicant.name";
/// an empty parent gives the child alone.
func joinPath(_ parent: String, _ child: String) -> String {
    parent.isEmpty ? child : "\(parent).\(child)"
}

/// `indexPath("materials", 2)` = "materials[2]".
func indexPath(_ parent: String, _ index: Int) -> String { "\(parent)[\(index)]" }

extension String {
    /// True when the text has nothing but white space: a blank name is as missing as no name.
    var isBlank: Bool { allSatisfy(\.isWhitespace) }
}
