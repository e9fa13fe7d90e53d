import OneSealCore

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
