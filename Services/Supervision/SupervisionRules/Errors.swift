import Foundation
import OneSealCore

/// Why a supervision rule refused. Each case maps to the gRPC status the handler answers with, so
/// handlers never guess: bad input lists every field; a push in the wrong state is a failed
/// precondition; acting on another department's push is a permission failure.
public enum SupervisionRuleError: Error, Sendable, Hashable, CustomStringConvertible {
    case invalidArgument([FieldViolation])
    case failedPrecondition(String)
    case permissionDenied(String)
    case notFound(String)
    /// The working-day calendar has no notice for a year a deadline reaches; nothing is guessed.
    case calendar(CalendarError)

    public var description: String {
        switch self {
        case .invalidArgument(let violations): violations.map(\.text).joined(separator: "; ")
        case .failedPrecondition(let message), .permissionDenied(let message), .notFound(let message): message
        case .calendar(let error): error.description
        }
    }
}

/// Runs a calendar computation, turning its error into the supervision error type.
func onCalendar<T>(_ body: () throws(CalendarError) -> T) throws(SupervisionRuleError) -> T {
    do { return try body() } catch { throw .calendar(error) }
}

extension String {
    /// Blank text counts as missing.
    var isBlank: Bool { allSatisfy(\.isWhitespace) }
    var trimmed: String { trimmingCharacters(in: .whitespacesAndNewlines) }
}
