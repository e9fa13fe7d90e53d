import Foundation

extension TimeZone {
    /// Beijing time. All OneSeal deadlines are counted here (docs/architecture.md#time-the-working-day-calendar), whatever zone the server
    /// runs in. Falls back to a fixed UTC+8 if the host has no tz database, which is exact for
    /// every date since 1992 (China dropped daylight saving after 1991).
    public static let shanghai: TimeZone =
        TimeZone(identifier: "Asia/Shanghai") ?? TimeZone(secondsFromGMT: 8 * 3600)!
}

extension CivilDate {
    private static func gregorian(in timeZone: TimeZone) -> Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }

    /// The date an instant falls on in Beijing time (or in `timeZone`). An application submitted
    /// at 2026-02-13 23:30 Beijing time is a 2026-02-13 act even though it is still the 13th at
    /// 15:30 UTC.
    public init(_ instant: Date, in timeZone: TimeZone = .shanghai) {
        let parts = Self.gregorian(in: timeZone).dateComponents([.year, .month, .day], from: instant)
        guard let date = CivilDate(year: parts.year!, month: parts.month!, day: parts.day!) else {
            preconditionFailure("instant \(instant) is outside years 1...9999")
        }
        self = date
    }

    /// Today in Beijing time; `now` is a parameter so that tests and replays pass their own clock.
    public static func today(now: Date = Date(), in timeZone: TimeZone = .shanghai) -> CivilDate {
        CivilDate(now, in: timeZone)
    }

    /// The first instant of this day (00:00 Beijing time).
    public func startOfDayInstant(in timeZone: TimeZone = .shanghai) -> Date {
        let parts = DateComponents(year: year, month: month, day: day, hour: 0, minute: 0, second: 0)
        return Self.gregorian(in: timeZone).date(from: parts)!
    }

    /// The instant this day ends: the first instant of the following day, 00:00 Beijing time.
    /// A period "ends at the end of its last working day" (docs/law.md#working-days-and-the-calendar), so a deadline date `d` has
    /// passed exactly when `now >= d.endOfDayInstant()`. It is exclusive on purpose: comparing
    /// against 23:59:59 would leave the last second of the day unaccounted for.
    public func endOfDayInstant(in timeZone: TimeZone = .shanghai) -> Date {
        next.startOfDayInstant(in: timeZone)
    }
}
