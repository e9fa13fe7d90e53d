import Foundation
import Synchronization

/// Counts attempts per key in fixed windows and says when a key has had too many: a plain value
/// (tested without clocks or I/O) behind the guards of public look-ups, where an unauthenticated
/// caller could otherwise guess a short secret at wire speed (issue #15: ≈ 840 guesses/s, a
/// 6-digit code space in ≈ 20 minutes).
public struct AttemptLimiter: Sendable {
    public let limit: Int
    public let window: TimeInterval
    /// Keys kept at most; the oldest windows are dropped first, so a flood of distinct keys costs
    /// bounded memory (and loses only the counts of keys nobody used lately).
    public let capacity: Int
    private var counts: [String: (count: Int, started: Date)] = [:]

    public init(limit: Int, window: TimeInterval, capacity: Int = 100_000) {
        self.limit = limit
        self.window = window
        self.capacity = capacity
    }

    /// Records one attempt by `key` at `now`; false when `key` has used up its attempts in the
    /// current window (the attempt is still counted, so hammering does not reopen it).
    public mutating func attempt(_ key: String, now: Date) -> Bool {
        var entry = self.counts[key] ?? (0, now)
        if now.timeIntervalSince(entry.started) >= self.window { entry = (0, now) }
        entry.count += 1
        self.counts[key] = entry
        if self.counts.count > self.capacity { self.evict(now: now) }
        return entry.count <= self.limit
    }

    /// How many keys are counted now (never more than `capacity`).
    public var trackedKeys: Int { self.counts.count }

    /// When `key` may try again (nil: it may now).
    public func retryAfter(_ key: String, now: Date) -> Date? {
        guard let entry = self.counts[key], entry.count >= self.limit else { return nil }
        let end = entry.started.addingTimeInterval(self.window)
        return end > now ? end : nil
    }

    private mutating func evict(now: Date) {
        self.counts = self.counts.filter { now.timeIntervalSince($0.value.started) < self.window }
        if self.counts.count > self.capacity {
            // Keep the newest nine tenths: one sort per tenth of the capacity, not one per attempt.
            let newest = self.counts.sorted { $0.value.started > $1.value.started }.prefix(self.capacity * 9 / 10)
            self.counts = Dictionary(uniqueKeysWithValues: newest.map { ($0.key, $0.value) })
        }
    }
}

/// An `AttemptLimiter` shared by the tasks of one process.
public final class SharedAttemptLimiter: Sendable {
    private let state: Mutex<AttemptLimiter>

    public init(_ limiter: AttemptLimiter) {
        self.state = Mutex(limiter)
    }

    public func attempt(_ key: String, now: Date = Date()) -> Bool {
        self.state.withLock { $0.attempt(key, now: now) }
    }
}
