import OneSealCore

/// Why an approval rule refused. Each kind maps to one gRPC status, so handlers never guess:
/// bad input → INVALID_ARGUMENT (every field listed), a state that forbids the act →
/// FAILED_PRECONDITION, the wrong person/role/turn → PERMISSION_DENIED.
public enum ApprovalRuleError: Error, Sendable, Hashable, CustomStringConvertible {
    case invalidArgument([FieldViolation])
    case failedPrecondition(String)
    case permissionDenied(String)
    /// The working-day calendar cannot count into a year it does not know.
    case calendar(String)

    public var description: String {
        switch self {
        case .invalidArgument(let violations): violations.map { "\($0.field): \($0.description)" }.joined(separator: "; ")
        case .failedPrecondition(let message): message
        case .permissionDenied(let message): message
        case .calendar(let message): "working-day calendar: \(message)"
        }
    }

    /// Runs a clock or calendar operation and turns its errors into rule errors with the law's words.
    static func clock<T>(_ body: () throws -> T) throws(ApprovalRuleError) -> T {
        do { return try body() } catch let error as ClockError {
            throw .failedPrecondition(error.description)
        } catch let error as CalendarError {
            throw .calendar(error.description)
        } catch {
            throw .failedPrecondition("\(error)")
        }
    }
}

extension String {
    var isBlank: Bool { allSatisfy(\.isWhitespace) }
    var trimmed: String { trimmingCharacters(in: .whitespacesAndNewlines) }
}

import Foundation
