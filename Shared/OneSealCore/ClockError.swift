/// Why a statutory clock refused a change or cannot name a deadline.
public enum ClockError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Art. 42 allows one extension only.
    case alreadyExtended
    /// The extension asked for is longer than the law allows for this period.
    case extensionExceedsLimit(requested: Int, maximum: Int)
    /// A suspension ends before it starts.
    case invalidSuspension(start: CivilDate, end: CivilDate)
    /// A new suspension was asked for while one is still running.
    case alreadySuspended(since: CivilDate)
    /// A suspension was to be ended but none is running.
    case notSuspended
    /// The clock is stopped by a suspension that has no end yet, so no deadline exists until it
    /// ends; `status(asOf:)` gives a projection instead.
    case suspensionOngoing(since: CivilDate)

    public var description: String {
        switch self {
        case .alreadyExtended:
            "the period has already been extended once; the law allows one extension"
        case .extensionExceedsLimit(let requested, let maximum):
            maximum == 0
                ? "this period cannot be extended (asked for \(requested) working days)"
                : "an extension of \(requested) working days exceeds the \(maximum) allowed"
        case .invalidSuspension(let start, let end):
            "suspension \(start)…\(end) ends before it starts"
        case .alreadySuspended(let since):
            "the clock has been suspended since \(since); end that suspension first"
        case .notSuspended:
            "the clock is not suspended"
        case .suspensionOngoing(let since):
            "the clock has been suspended since \(since); no deadline until the suspension ends"
        }
    }
}
