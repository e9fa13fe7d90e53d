/// The working-day calendar every statutory period is counted on (行政许可法 Art. 82: periods are
/// working days). Weekdays work and weekends rest, then each year's official days off and make-up
/// working days apply, then regional extra days off.
///
/// A value type: a node builds it once from the built-in years plus its own loaded text, and
/// shares it freely across tasks.
public struct WorkingDayCalendar: Sendable, Hashable, Codable {
    public private(set) var years: [Int: HolidayYear]

    /// A calendar holding only the given years; asking about any other year throws.
    public init(years: some Sequence<HolidayYear> = []) {
        var byYear: [Int: HolidayYear] = [:]
        for year in years { byYear[year.year] = year }
        self.years = byYear
    }

    /// Encoded as a list of years (not a dictionary) so each year's number is stated once and
    /// decoding goes through `HolidayYear`'s checks.
    public init(from decoder: any Decoder) throws {
        self.init(years: try [HolidayYear](from: decoder))
    }

    public func encode(to encoder: any Encoder) throws {
        try loadedYears.map { years[$0]! }.encode(to: encoder)
    }

    /// The years this calendar can answer for, ascending.
    public var loadedYears: [Int] { years.keys.sorted() }

    /// The holiday notice of `year`, or `CalendarError.yearNotLoaded`.
    public func holidayYear(_ year: Int) throws(CalendarError) -> HolidayYear {
        guard let holidays = years[year] else { throw .yearNotLoaded(year) }
        return holidays
    }

    /// Adds or replaces one year's national notice. Replacing keeps the regional days already
    /// added for that year, so correcting a national date does not drop local holidays.
    public mutating func setYear(_ holidays: HolidayYear) throws(CalendarError) {
        var merged = holidays
        if let existing = years[holidays.year] {
            try merged.addRegionalDaysOff(existing.regionalDaysOff)
        }
        years[holidays.year] = merged
    }

    /// Adds regional days off (e.g. an ethnic holiday). The year must already be loaded, because a
    /// year known only through its regional days would otherwise look complete.
    public mutating func addRegionalDaysOff(_ dates: some Sequence<CivilDate>) throws(CalendarError) {
        var updated = years
        for date in dates {
            guard var holidays = updated[date.year] else { throw .yearNotLoaded(date.year) }
            try holidays.addRegionalDaysOff([date])
            updated[date.year] = holidays
        }
        years = updated
    }

    /// Whether government offices are open on `date`.
    public func isWorkingDay(_ date: CivilDate) throws(CalendarError) -> Bool {
        try holidayYear(date.year).isWorkingDay(date)
    }

    /// The first working day strictly after `date`.
    public func nextWorkingDay(after date: CivilDate) throws(CalendarError) -> CivilDate {
        var day = date.next
        while try !isWorkingDay(day) { day = day.next }
        return day
    }

    /// The first working day on or after `date`.
    public func workingDay(onOrAfter date: CivilDate) throws(CalendarError) -> CivilDate {
        try isWorkingDay(date) ? date : nextWorkingDay(after: date)
    }

    /// The number of working days `d` with `start < d <= end`: the act day is not counted and the
    /// count starts the next day (民法典 Art. 201), so this is "working days used" from an act on
    /// `start` up to and including `end`. Zero when `end <= start`.
    public func workingDays(from start: CivilDate, to end: CivilDate) throws(CalendarError) -> Int {
        guard start < end else { return 0 }
        var count = 0
        var day = start.next
        while day <= end {
            if try isWorkingDay(day) { count += 1 }
            day = day.next
        }
        return count
    }

    /// The `n`th working day after `date` (n ≥ 1); for n = 0, `date` itself. A period of n working
    /// days from an act on `date` ends at the end of this day.
    public func addingWorkingDays(_ n: Int, to date: CivilDate) throws(CalendarError) -> CivilDate {
        precondition(n >= 0, "cannot add a negative number of working days")
        var day = date
        for _ in 0..<n { day = try nextWorkingDay(after: day) }
        return day
    }
}
