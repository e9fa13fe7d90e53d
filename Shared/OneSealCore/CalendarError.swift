/// Why the working-day calendar cannot answer or cannot load. Never answered by guessing: a
/// deadline computed for a year whose holiday notice is missing would be silently wrong.
public enum CalendarError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The State Council notice for this year has not been loaded (built-in: 2025, 2026).
    case yearNotLoaded(Int)
    /// A line of calendar text could not be read.
    case syntax(line: Int, message: String)
    /// A date on a line does not belong to the year the line names.
    case dateOutsideYear(line: Int, date: CivilDate, year: Int)
    /// The same date is declared both a day off and a make-up working day.
    case conflictingDay(CivilDate)
    /// A make-up working day (调休上班) must fall on a Saturday or Sunday; on a weekday it is
    /// almost certainly a typing error in the notice being loaded.
    case makeUpDayNotOnWeekend(CivilDate)
    /// A range whose end is before its start.
    case invalidRange(start: CivilDate, end: CivilDate)

    public var description: String {
        switch self {
        case .yearNotLoaded(let year):
            "the working-day calendar has no holiday notice for \(year); load that year's days off and make-up working days first"
        case .syntax(let line, let message):
            "calendar line \(line): \(message)"
        case .dateOutsideYear(let line, let date, let year):
            "calendar line \(line): \(date) is not in year \(year)"
        case .conflictingDay(let date):
            "\(date) is declared both a day off and a make-up working day"
        case .makeUpDayNotOnWeekend(let date):
            "\(date) is a \(date.weekday.chineseName); a make-up working day must be a Saturday or Sunday"
        case .invalidRange(let start, let end):
            "range \(start)..\(end) ends before it starts"
        }
    }
}
