/// One invalid field, named by its path ("applicant.id_number", "items[3].materials[2].name") so a
/// form or an operator can put the message next to the right input. Every service's rules report
/// bad input with it; it mirrors `oneseal.common.v1.FieldViolation` field for field, so handlers
/// turn a list of them into one INVALID_ARGUMENT naming every field.
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

    /// "field: description", the form used in logs and error descriptions.
    public var text: String { "\(field): \(description)" }

    /// A required value is absent or blank.
    public static func required(_ field: String) -> FieldViolation {
        FieldViolation(field: field, description: "required", reason: "required")
    }
}

/// Every problem a check found in one request, as a `Result`'s failure (a check returns all of them,
/// never just the first).
public struct FieldViolations: Error, Sendable, Hashable {
    public let all: [FieldViolation]
    public init(_ all: [FieldViolation]) { self.all = all }
}
