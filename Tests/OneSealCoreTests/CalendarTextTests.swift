import Foundation
import Testing
import OneSealCore

@Suite("Calendar text format")
struct CalendarTextTests {
    /// Test data shaped like a notice; 2027's real notice is not yet published.
    static let year2027 = """
        # 2027 (test data)
        2027 off 2027-01-01..2027-01-03   # Friday to Sunday
        2027 off 2027-02-06..2027-02-14
        2027 workday 2027-02-20           # Saturday
        """

    @Test("loading 2027 makes the year answerable and lets a count run past 2026")
    func load2027() throws {
        let calendar = try WorkingDayCalendar.china.loading(Self.year2027)
        #expect(calendar.loadedYears == [2025, 2026, 2027])
        #expect(try !calendar.isWorkingDay(day("2027-01-01")))
        #expect(try !calendar.isWorkingDay(day("2027-02-08")))  // Monday inside the break
        #expect(try calendar.isWorkingDay(day("2027-02-20")))  // make-up Saturday
        #expect(try !calendar.isWorkingDay(day("2027-02-27")))  // ordinary Saturday
        // Act Tuesday 2026-12-15, 20 working days: Dec 16–18 (3), 21–25 (8), 28–31 (12);
        // 2027-01-01…03 off; Jan 4–8 (17), 11 (18), 12 (19), 13 (20) → Wednesday 2027-01-13.
        #expect(try calendar.addingWorkingDays(20, to: day("2026-12-15")) == day("2027-01-13"))
        #expect(throws: CalendarError.yearNotLoaded(2027)) {
            try WorkingDayCalendar.china.addingWorkingDays(20, to: day("2026-12-15"))
        }
    }

    @Test("regional-off lines add to a year loaded earlier or in the same text")
    func regionalLines() throws {
        let calendar = try WorkingDayCalendar.china.loading("""
            2026 regional-off 2026-03-20
            \(Self.year2027)
            2027 regional-off 2027-03-09..2027-03-10
            """)
        #expect(try !calendar.isWorkingDay(day("2026-03-20")))
        #expect(try !calendar.isWorkingDay(day("2027-03-09")))
        #expect(try calendar.holidayYear(2027).regionalDaysOff.count == 2)
        #expect(throws: CalendarError.yearNotLoaded(2029)) {
            try WorkingDayCalendar.china.loading("2029 regional-off 2029-03-01")
        }
    }

    @Test("reloading a year replaces its national days but keeps regional ones")
    func reload() throws {
        var calendar = try WorkingDayCalendar.china.loading("2026 regional-off 2026-03-20")
        try calendar.load("2026 off 2026-01-01")
        #expect(try !calendar.isWorkingDay(day("2026-01-01")))
        #expect(try calendar.isWorkingDay(day("2026-02-16")))  // old Spring Festival gone
        #expect(try !calendar.isWorkingDay(day("2026-03-20")))  // regional day kept
    }

    @Test("bad text is rejected with the line and reason, and nothing is applied")
    func errors() throws {
        var calendar = WorkingDayCalendar.china
        #expect(throws: CalendarError.syntax(line: 2, message: "unknown kind “holiday”; use off, workday or regional-off")) {
            try calendar.load("2027 off 2027-01-01\n2027 holiday 2027-01-02")
        }
        #expect(calendar == WorkingDayCalendar.china)  // the good first line was not applied
        #expect(throws: CalendarError.dateOutsideYear(line: 1, date: day("2028-01-01"), year: 2027)) {
            try calendar.load("2027 off 2028-01-01")
        }
        // 2027-02-22 is a Monday: a make-up working day on a weekday is a typing error.
        #expect(throws: CalendarError.makeUpDayNotOnWeekend(day("2027-02-22"))) {
            try calendar.load("2027 workday 2027-02-22")
        }
        #expect(throws: CalendarError.conflictingDay(day("2027-02-20"))) {
            try calendar.load("2027 off 2027-02-20\n2027 workday 2027-02-20")
        }
        #expect(throws: CalendarError.invalidRange(start: day("2027-01-03"), end: day("2027-01-01"))) {
            try calendar.load("2027 off 2027-01-03..2027-01-01")
        }
        do {
            try calendar.load("\n\n2027 off 2027-13-01")
            Issue.record("a nonexistent month was accepted")
        } catch let CalendarError.syntax(line, message) {
            #expect(line == 3 && message.contains("2027-13-01"))
        }
        #expect(throws: CalendarError.self) { try calendar.load("2027 off") }
        #expect(calendar.loadedYears == [2025, 2026])
    }

    @Test("a calendar survives encoding, and a tampered stored year is rejected")
    func codable() throws {
        let calendar = try WorkingDayCalendar.china.loading("2026 regional-off 2026-03-20")
        let data = try JSONEncoder().encode(calendar)
        #expect(try JSONDecoder().decode(WorkingDayCalendar.self, from: data) == calendar)
        // Saturday 2026-02-14 is a make-up day; a stored make-up Monday must not load.
        let bad = String(decoding: data, as: UTF8.self).replacingOccurrences(of: "2026-02-14", with: "2026-02-16")
        #expect(bad != String(decoding: data, as: UTF8.self))
        #expect(throws: CalendarError.self) { try JSONDecoder().decode(WorkingDayCalendar.self, from: Data(bad.utf8)) }
    }

    @Test("the built-in text is what the built-in calendar was made from")
    func builtInText() throws {
        #expect(try WorkingDayCalendar().loading(WorkingDayCalendar.builtInChinaText) == .china)
    }
}
