import OneSealCore

/// One invalid field, named by its path ("indicators[2].level") so a form can put the message next
/// to the right input. Mirrors `oneseal.common.v1.FieldViolation`.
public struct FieldViolation: Sendable, Hashable, Codable {
    public let field: String
    public let description: String
    /// Stable machine code ("required", "level.range" …).
    public let reason: String

    public init(field: String, description: String, reason: String) {
        self.field = field
        self.description = description
        self.reason = reason
    }

    public var text: String { "\(field): \(description)" }

    public static func required(_ field: String) -> FieldViolation {
        FieldViolation(field: field, description: "required", reason: "required")
    }
}

/// Why an evaluation rule refused; each case maps to one gRPC status so handlers never guess.
public enum EvaluationRuleError: Error, Sendable, Hashable, CustomStringConvertible {
    /// INVALID_ARGUMENT: every bad field, not just the first.
    case invalidArgument([FieldViolation])
    /// FAILED_PRECONDITION: well-formed, but the ticket's / appeal's state forbids it.
    case failedPrecondition(String)
    /// ALREADY_EXISTS: the case (or visit) has its rating on that channel.
    case alreadyExists(String)
    /// The working-day calendar cannot answer (a year without a notice): no deadline is guessed.
    case calendar(CalendarError)

    public var description: String {
        switch self {
        case .invalidArgument(let violations): violations.map(\.text).joined(separator: "; ")
        case .failedPrecondition(let message), .alreadyExists(let message): message
        case .calendar(let error): error.description
        }
    }

    public var fieldViolations: [FieldViolation] {
        if case .invalidArgument(let violations) = self { return violations }
        return []
    }
}

func onCalendar<T>(_ body: () throws(CalendarError) -> T) throws(EvaluationRuleError) -> T {
    do { return try body() } catch { throw .calendar(error) }
}

extension String {
    var isBlank: Bool { allSatisfy(\.isWhitespace) }
}
