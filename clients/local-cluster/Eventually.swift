import Foundation

/// What a caller waited for and never saw, with the last thing it did see.
public struct NotReached: Error, CustomStringConvertible {
    public var what: String
    public var last: String
    public var description: String { "not reached within the time allowed: \(what) (last seen: \(last))" }

    public init(what: String, last: String) {
        self.what = what
        self.last = last
    }
}

/// Polls `probe` until it returns a value: events travel between services through outbox relays,
/// so what one call causes in another service is seen a moment later, not at once.
/// Errors of `probe` are retried too (a restarting service answers UNAVAILABLE for a while).
public func eventually<T: Sendable>(
    _ what: @autoclosure () -> String, timeout: Duration = .seconds(60), every interval: Duration = .milliseconds(100),
    _ probe: () async throws -> T?
) async throws -> T {
    let deadline = ContinuousClock.now.advanced(by: timeout)
    var last = "nothing yet"
    while true {
        do {
            if let value = try await probe() { return value }
            last = "not yet"
        } catch {
            last = "\(error)"
        }
        if ContinuousClock.now >= deadline { throw NotReached(what: what(), last: last) }
        try await Task.sleep(for: interval)
    }
}
