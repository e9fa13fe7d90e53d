/// A calendar date with no time of day and no time zone: the unit every statutory period is
/// counted in (行政许可法 Art. 82 counts working *days*, never hours).
///
/// Read as year/month/day so that values read, compare and serialise the way people write them
/// ("2026-02-13"). Arithmetic goes through a day number, so it never depends on a time zone,
/// daylight saving or the host's locale.
///
/// Kept in four bytes (year, month and day packed in that order, so the packed number orders as
/// the date does): evaluation holds two million facts with up to nine dates each at a county with a
/// million closed cases, and three `Int`s (an optional one 32 bytes) made the dates half of a
/// fact's inline size (#21, decision 68).
public struct CivilDate: Sendable, Hashable {
    private let packed: UInt32

    public var year: Int { Int(packed >> 9) }
    public var month: Int { Int(packed >> 5 & 0xF) }
    public var day: Int { Int(packed & 0x1F) }

    /// Fails for dates that do not exist (2026-02-29) and for years outside 1...9999, because the
    /// text form is always four digits and a silently wrapped year would be a wrong deadline.
    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month),
              (1...CivilDate.daysInMonth(year: year, month: month)).contains(day)
        else { return nil }
        packed = UInt32(year) << 9 | UInt32(month) << 5 | UInt32(day)
    }

    /// Builds the date with the given day number (days since 1970-01-01, which is day 0).
    /// Fails only when the result falls outside years 1...9999.
    public init?(daysSinceEpoch: Int) {
        // Howard Hinnant's civil_from_days: exact for the proleptic Gregorian calendar.
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        self.init(year: y, month: m, day: d)
    }

    /// Days since 1970-01-01 (day 0). Lets callers store or subtract dates as plain integers.
    public var daysSinceEpoch: Int {
        // Howard Hinnant's days_from_civil.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = month > 2 ? month - 3 : month + 9
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The date `days` calendar days later (negative goes back). Traps only if the result leaves
    /// years 1...9999, which no statutory period can reach.
    public func adding(days: Int) -> CivilDate {
        guard let result = CivilDate(daysSinceEpoch: daysSinceEpoch + days) else {
            preconditionFailure("CivilDate \(self) + \(days) days leaves years 1...9999")
        }
        return result
    }

    /// The day after this one; the first day of any statutory count (民法典 Art. 201).
    public var next: CivilDate { adding(days: 1) }

    /// The day before this one.
    public var previous: CivilDate { adding(days: -1) }

    /// Calendar days from `self` to `other` (positive when `other` is later).
    public func days(until other: CivilDate) -> Int {
        other.daysSinceEpoch - daysSinceEpoch
    }

    /// ISO weekday; Saturday and Sunday are the ordinary rest days of the working-day calendar.
    public var weekday: Weekday {
        // 1970-01-01 was a Thursday (ISO 4).
        let index = ((daysSinceEpoch + 3) % 7 + 7) % 7  // 0 = Monday
        return Weekday(rawValue: index + 1)!
    }

    public static func isLeapYear(_ year: Int) -> Bool {
        (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    }

    public static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 1, 3, 5, 7, 8, 10, 12: return 31
        case 4, 6, 9, 11: return 30
        case 2: return isLeapYear(year) ? 29 : 28
        default: return 0
        }
    }

    /// The same day `months` later (negative: earlier); the month's last day when it has fewer
    /// days (31 January + 1 month = 28/29 February). A licence valid "for N months" ends the day
    /// before this. The one month arithmetic of the project (approval's grants, certificate's validity).
    public func adding(months: Int) -> CivilDate {
        let total = year * 12 + (month - 1) + months
        let newYear = total >= 0 ? total / 12 : (total - 11) / 12
        let newMonth = total - newYear * 12 + 1
        return CivilDate(year: newYear, month: newMonth, day: min(day, CivilDate.daysInMonth(year: newYear, month: newMonth)))!
    }
}

extension CivilDate: Comparable {
    /// The packed numbers: year, month and day from the high bits down.
    public static func < (lhs: CivilDate, rhs: CivilDate) -> Bool { lhs.packed < rhs.packed }
}

extension CivilDate: Strideable {
    public func distance(to other: CivilDate) -> Int { days(until: other) }
    public func advanced(by n: Int) -> CivilDate { adding(days: n) }
}
