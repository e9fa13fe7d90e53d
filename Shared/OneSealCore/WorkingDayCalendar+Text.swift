/// The calendar text format, so operators can load a new year's notice (or a region's extra days
/// off) from a file without a new release.
///
/// One statement per line; `#` starts a comment; blank lines are ignored:
///
///     # 2027 notice
///     2027 off 2027-01-01..2027-01-03      official days off, a single date or an inclusive range
///     2027 workday 2027-02-07              make-up working day (调休上班), must be a Sat/Sun
///     2027 regional-off 2027-03-05         a day off added by this region only
///
/// The first field is the year the line belongs to; every date on it must lie in that year.
/// All `off` and `workday` lines for a year together form that year's national notice and
/// replace whatever the calendar held for it (so a corrected notice can be reloaded).
/// `regional-off` lines add to a year that is already loaded or defined in the same text.
/// Loading is all or nothing: on any error the calendar is left unchanged.
extension WorkingDayCalendar {
    /// A copy of this calendar with `text` applied.
    public func loading(_ text: String) throws(CalendarError) -> WorkingDayCalendar {
        var copy = self
        try copy.load(text)
        return copy
    }

    /// Applies calendar `text` (format above), all or nothing.
    public mutating func load(_ text: String) throws(CalendarError) {
        var national: [Int: (off: Set<CivilDate>, work: Set<CivilDate>)] = [:]
        var regional: [CivilDate] = []

        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = index + 1
            let content = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = content.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if fields.isEmpty { continue }
            guard fields.count == 3 else {
                throw .syntax(line: lineNumber, message: "expected “YEAR off|workday|regional-off DATE[..DATE]”, found “\(content.trimmingSpaces)”")
            }
            guard let year = Int(fields[0]), (1...9999).contains(year) else {
                throw .syntax(line: lineNumber, message: "“\(fields[0])” is not a year")
            }
            let dates = try Self.parseDates(fields[2], line: lineNumber)
            for date in dates where date.year != year {
                throw .dateOutsideYear(line: lineNumber, date: date, year: year)
            }
            switch fields[1] {
            case "off":
                national[year, default: ([], [])].off.formUnion(dates)
            case "workday":
                national[year, default: ([], [])].work.formUnion(dates)
            case "regional-off":
                regional.append(contentsOf: dates)
            default:
                throw .syntax(line: lineNumber, message: "unknown kind “\(fields[1])”; use off, workday or regional-off")
            }
        }

        var updated = self
        for (year, days) in national.sorted(by: { $0.key < $1.key }) {
            try updated.setYear(HolidayYear(year: year, daysOff: days.off, makeUpWorkingDays: days.work))
        }
        try updated.addRegionalDaysOff(regional)
        self = updated
    }

    private static func parseDates(_ field: Substring, line: Int) throws(CalendarError) -> [CivilDate] {
        func date(_ text: Substring) throws(CalendarError) -> CivilDate {
            do {
                return try CivilDate(parsing: text)
            } catch {
                throw .syntax(line: line, message: error.description)
            }
        }
        let parts = field.split(separator: "..", omittingEmptySubsequences: false)
        switch parts.count {
        case 1:
            return [try date(parts[0])]
        case 2:
            let start = try date(parts[0])
            let end = try date(parts[1])
            guard start <= end else { throw .invalidRange(start: start, end: end) }
            return Array(start...end)
        default:
            throw .syntax(line: line, message: "“\(field)” is neither a date nor a range DATE..DATE")
        }
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var result = self
        while result.first?.isWhitespace == true { result.removeFirst() }
        while result.last?.isWhitespace == true { result.removeLast() }
        return result
    }
}
