import OneSealCore

/// Why an intake rule refused: the three kinds map to the gRPC status the handler returns, so a
/// handler never has to guess (`INVALID_ARGUMENT` with every field violation, `FAILED_PRECONDITION`
/// for an act the application's state does not allow, and a calendar that cannot answer).
public enum IntakeRuleError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The input itself is wrong; every problem is listed, not just the first.
    case invalidArgument([FieldViolation])
    /// The input is well formed but the application's state or the item's settings forbid the act.
    case failedPrecondition(String)
    /// The working-day calendar has no notice for a year the count reaches; no deadline is guessed.
    case calendar(CalendarError)

    /// The gRPC status code name the handler should answer with.
    public var statusCodeName: String {
        switch self {
        case .invalidArgument: "INVALID_ARGUMENT"
        case .failedPrecondition: "FAILED_PRECONDITION"
        case .calendar: "FAILED_PRECONDITION"
        }
    }

    /// The field violations for `INVALID_ARGUMENT` (empty otherwise), for `common.v1.BadRequest`.
    public var fieldViolations: [FieldViolation] {
        if case .invalidArgument(let violations) = self { return violations }
        return []
    }

    public var description: String {
        switch self {
        case .invalidArgument(let violations): violations.map(\.text).joined(separator: "; ")
        case .failedPrecondition(let message): message
        case .calendar(let error): error.description
        }
    }
}

/// Runs a calendar computation, turning its error into the intake error type.
func onCalendar<T>(_ body: () throws(CalendarError) -> T) throws(IntakeRuleError) -> T {
    do { return try body() } catch { throw .calendar(error) }
}
