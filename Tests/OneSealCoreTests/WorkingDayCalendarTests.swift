import Testing
import OneSealCore

@Suite("Working-day calendar")
struct WorkingDayCalendarTests {
    let calendar = WorkingDayCalendar.china

    @Test("2026 Spring Festival: 02-15…02-23 off, Saturdays 02-14 and 02-28 worked")
    func springFestival2026() throws {
        for date in day("2026-02-15")...day("2026-02-23") {
            #expect(try !calendar.isWorkingDay(date), "\(date) is in the Spring Festival break")
        }
        #expect(try calendar.isWorkingDay(day("2026-02-13")))  // Friday
        #expect(try calendar.isWorkingDay(day("2026-02-14")))  // Saturday, make-up
        #expect(try calendar.isWorkingDay(day("2026-02-24")))  // Tuesday after the break
        #expect(try calendar.isWorkingDay(day("2026-02-28")))  // Saturday, make-up
        #expect(try !calendar.isWorkingDay(day("2026-03-01")))  // ordinary Sunday
    }

    @Test("2026 National Day: 10-01…10-07 off, Sunday 09-20 and Saturday 10-10 worked")
    func nationalDay2026() throws {
        for date in day("2026-10-01")...day("2026-10-07") {
            #expect(try !calendar.isWorkingDay(date))
        }
        #expect(try calendar.isWorkingDay(day("2026-09-20")))
        #expect(try calendar.isWorkingDay(day("2026-10-10")))
        #expect(try !calendar.isWorkingDay(day("2026-10-11")))  // Sunday
        // Mid-Autumn 09-25…09-27 (Fri–Sun).
        #expect(try !calendar.isWorkingDay(day("2026-09-25")))
    }

    @Test("2025: Spring Festival, Labour Day and National Day with their make-up days")
    func year2025() throws {
        #expect(try !calendar.isWorkingDay(day("2025-01-01")))
        #expect(try calendar.isWorkingDay(day("2025-01-26")))  // Sunday, make-up
        #expect(try !calendar.isWorkingDay(day("2025-01-28")))
        #expect(try !calendar.isWorkingDay(day("2025-02-04")))
        #expect(try calendar.isWorkingDay(day("2025-02-05")))
        #expect(try calendar.isWorkingDay(day("2025-02-08")))  // Saturday, make-up
        #expect(try calendar.isWorkingDay(day("2025-04-27")))  // Sunday, make-up
        #expect(try !calendar.isWorkingDay(day("2025-05-05")))  // Monday off
        #expect(try !calendar.isWorkingDay(day("2025-06-02")))  // Dragon Boat, Monday off
        #expect(try calendar.isWorkingDay(day("2025-09-28")))
        #expect(try !calendar.isWorkingDay(day("2025-10-08")))  // Wednesday off
        #expect(try calendar.isWorkingDay(day("2025-10-11")))  // Saturday, make-up
    }

    @Test("the whole built-in notices: number of days off and make-up days per year")
    func builtInCounts() throws {
        let y2025 = try calendar.holidayYear(2025)
        // 1 + 8 + 3 + 5 + 3 + 8 = 28 days off; 5 make-up days.
        #expect(y2025.daysOff.count == 28 && y2025.makeUpWorkingDays.count == 5)
        let y2026 = try calendar.holidayYear(2026)
        // 3 + 9 + 3 + 5 + 3 + 3 + 7 = 33 days off; 6 make-up days.
        #expect(y2026.daysOff.count == 33 && y2026.makeUpWorkingDays.count == 6)
        #expect(calendar.loadedYears == [2025, 2026])
    }

    @Test("next working day skips the Spring Festival break")
    func nextWorkingDay() throws {
        // Saturday 2026-02-14 is a make-up working day, so it follows Friday 02-13.
        #expect(try calendar.nextWorkingDay(after: day("2026-02-13")) == day("2026-02-14"))
        // After 02-14 come nine days off (02-15…02-23); Tuesday 02-24 is next.
        #expect(try calendar.nextWorkingDay(after: day("2026-02-14")) == day("2026-02-24"))
        #expect(try calendar.workingDay(onOrAfter: day("2026-10-01")) == day("2026-10-08"))
    }

    @Test("counts working days after the act day through the end day")
    func counting() throws {
        // Whole February 2026: 20 weekdays minus 02-16…02-20 and 02-23 (6 weekdays off)
        // plus Saturdays 02-14 and 02-28 = 16. Counting from 01-31 excludes 01-31 itself.
        #expect(try calendar.workingDays(from: day("2026-01-31"), to: day("2026-02-28")) == 16)
        // The act day is not counted: 02-13 → 02-13 is zero, 02-13 → 02-14 is one.
        #expect(try calendar.workingDays(from: day("2026-02-13"), to: day("2026-02-13")) == 0)
        #expect(try calendar.workingDays(from: day("2026-02-13"), to: day("2026-02-14")) == 1)
        #expect(try calendar.workingDays(from: day("2026-02-14"), to: day("2026-02-13")) == 0)
    }

    @Test("a year without a loaded notice is an error, never a guess")
    func unknownYear() {
        #expect(throws: CalendarError.yearNotLoaded(2028)) { try calendar.isWorkingDay(day("2028-03-01")) }
        #expect(throws: CalendarError.yearNotLoaded(2024)) { try calendar.nextWorkingDay(after: day("2024-06-01")) }
        // Counting off the end of 2026 reaches 2027, which is not built in.
        #expect(throws: CalendarError.yearNotLoaded(2027)) {
            try calendar.workingDays(from: day("2026-12-20"), to: day("2027-01-10"))
        }
        #expect(CalendarError.yearNotLoaded(2028).description.contains("2028"))
    }

    @Test("a regional extra day off closes offices only where it is added")
    func regionalDayOff() throws {
        var regional = calendar
        // An ethnic holiday declared by a region on Friday 2026-03-20.
        try regional.addRegionalDaysOff([day("2026-03-20")])
        #expect(try calendar.isWorkingDay(day("2026-03-20")))
        #expect(try !regional.isWorkingDay(day("2026-03-20")))
        // The day after Thursday 03-19 is 03-20 nationally but Monday 03-23 in the region.
        #expect(try calendar.nextWorkingDay(after: day("2026-03-19")) == day("2026-03-20"))
        #expect(try regional.nextWorkingDay(after: day("2026-03-19")) == day("2026-03-23"))
        // A regional day off wins over a national make-up Saturday.
        try regional.addRegionalDaysOff([day("2026-02-28")])
        #expect(try !regional.isWorkingDay(day("2026-02-28")))
        // Regional days cannot make an unknown year look known.
        #expect(throws: CalendarError.yearNotLoaded(2030)) { try regional.addRegionalDaysOff([day("2030-01-02")]) }
    }
}
