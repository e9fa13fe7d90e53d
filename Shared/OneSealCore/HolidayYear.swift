/// One year of the State Council's holiday notice (国务院办公厅关于某年部分节假日安排的通知), plus
/// any days off a region adds (e.g. ethnic holidays set by an autonomous region).
public struct HolidayYear: Sendable, Hashable, Codable {
    public let year: Int
    /// Official days off, including weekend days inside a holiday block.
    public private(set) var daysOff: Set<CivilDate>
    /// Saturdays or Sundays that are worked to make up a holiday block (调休上班).
    public private(set) var makeUpWorkingDays: Set<CivilDate>
    /// Extra days off decided locally; kept apart from the national days so an operator can see
    /// where a rest day came from.
    public private(set) var regionalDaysOff: Set<CivilDate>

    /// Validates that every date lies in `year`, no date is both off and worked, and every
    /// make-up day is a weekend day.
    public init(
        year: Int,
        daysOff: Set<CivilDate>,
        makeUpWorkingDays: Set<CivilDate>,
        regionalDaysOff: Set<CivilDate> = []
    ) throws(CalendarError) {
        for date in daysOff.union(makeUpWorkingDays).union(regionalDaysOff) where date.year != year {
            throw .dateOutsideYear(line: 0, date: date, year: year)
        }
        if let clash = daysOff.intersection(makeUpWorkingDays).min() {
            throw .conflictingDay(clash)
        }
        if let weekday = makeUpWorkingDays.filter({ !$0.weekday.isWeekend }).min() {
            throw .makeUpDayNotOnWeekend(weekday)
        }
        self.year = year
        self.daysOff = daysOff
        self.makeUpWorkingDays = makeUpWorkingDays
        self.regionalDaysOff = regionalDaysOff
    }

    private enum CodingKeys: String, CodingKey { case year, daysOff, makeUpWorkingDays, regionalDaysOff }

    /// Decoding runs the same checks as `init`, so a stored calendar cannot smuggle in a weekday
    /// make-up day or a date from another year.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(
            year: container.decode(Int.self, forKey: .year),
            daysOff: container.decode(Set<CivilDate>.self, forKey: .daysOff),
            makeUpWorkingDays: container.decode(Set<CivilDate>.self, forKey: .makeUpWorkingDays),
            regionalDaysOff: container.decodeIfPresent(Set<CivilDate>.self, forKey: .regionalDaysOff) ?? []
        )
    }

    /// Adds locally decided days off. A regional day off wins over a national make-up working day:
    /// the region has said its offices are closed.
    public mutating func addRegionalDaysOff(_ dates: some Sequence<CivilDate>) throws(CalendarError) {
        for date in dates {
            guard date.year == year else { throw .dateOutsideYear(line: 0, date: date, year: year) }
            regionalDaysOff.insert(date)
        }
    }

    /// Whether offices are open on `date`, which must lie in this year.
    public func isWorkingDay(_ date: CivilDate) -> Bool {
        precondition(date.year == year, "\(date) asked of holiday year \(year)")
        if regionalDaysOff.contains(date) || daysOff.contains(date) { return false }
        if makeUpWorkingDays.contains(date) { return true }
        return !date.weekday.isWeekend
    }
}
