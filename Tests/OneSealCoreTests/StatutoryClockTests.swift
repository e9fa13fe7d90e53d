import Foundation
import Testing
import OneSealCore

@Suite("Statutory clock")
struct StatutoryClockTests {
    let calendar = WorkingDayCalendar.china

    @Test("act on Friday 2026-02-13, 5 working days, ends Friday 2026-02-27")
    func fiveDaysOverSpringFestival() throws {
        // 02-13 (act) not counted. 02-14 Sat make-up = 1; 02-15…02-23 off;
        // 02-24 Tue = 2, 02-25 = 3, 02-26 = 4, 02-27 Fri = 5.
        let clock = try StatutoryClock(actDate: day("2026-02-13"), period: .acceptanceDecision)
        #expect(try clock.deadline(in: calendar) == day("2026-02-27"))
    }

    @Test("20 working days from acceptance on Tuesday 2026-09-22 end Tuesday 2026-10-27")
    func twentyDaysOverNationalDay() throws {
        // 09-23 = 1, 09-24 = 2; 09-25…27 off; 09-28 = 3, 09-29 = 4, 09-30 = 5; 10-01…07 off;
        // 10-08 = 6, 10-09 = 7, 10-10 Sat make-up = 8; 10-12…16 = 9…13; 10-19…23 = 14…18;
        // 10-26 = 19, 10-27 = 20.
        let clock = try StatutoryClock(actDate: day("2026-09-22"), period: .approvalDecision)
        #expect(try clock.deadline(in: calendar) == day("2026-10-27"))
        #expect(try calendar.workingDays(from: day("2026-09-22"), to: day("2026-10-27")) == 20)
    }

    @Test("acceptance on Friday 2026-09-18 counts make-up Sunday 09-20 as day 1")
    func makeUpSundayIsDayOne() throws {
        // 09-20 Sun = 1; 09-21…24 = 2…5; 09-28…30 = 6…8; 10-08 = 9, 10-09 = 10, 10-10 = 11;
        // 10-12…16 = 12…16; 10-19 = 17, 10-20 = 18, 10-21 = 19, 10-22 = 20.
        let clock = StatutoryClock(actDate: day("2026-09-18"), workingDays: 20)
        #expect(try clock.deadline(in: calendar) == day("2026-10-22"))
    }

    @Test("2025 cases: Spring Festival and National Day make-up Sundays")
    func year2025() throws {
        // Act Fri 2025-01-24: 01-26 Sun make-up = 1, 01-27 = 2; 01-28…02-04 off; 02-05 = 3,
        // 02-06 = 4, 02-07 = 5.
        #expect(try StatutoryClock(actDate: day("2025-01-24"), workingDays: 5).deadline(in: calendar) == day("2025-02-07"))
        // Act Fri 2025-09-26: 09-28 Sun = 1, 09-29 = 2, 09-30 = 3; 10-01…08 off; 10-09 = 4, 10-10 = 5.
        #expect(try StatutoryClock(actDate: day("2025-09-26"), workingDays: 5).deadline(in: calendar) == day("2025-10-10"))
        // Across the year: act Tue 2025-12-30: 12-31 = 1; 2026-01-01…03 off; 01-04 Sun make-up = 2,
        // 01-05 = 3, 01-06 = 4, 01-07 = 5.
        #expect(try StatutoryClock(actDate: day("2025-12-30"), workingDays: 5).deadline(in: calendar) == day("2026-01-07"))
    }

    @Test("a one-day period on a Friday before a weekend ends the next Monday")
    func oneDay() throws {
        let clock = try StatutoryClock(actDate: day("2026-03-06"), period: .supervisionClaim)
        #expect(try clock.deadline(in: calendar) == day("2026-03-09"))
    }

    /// Act Monday 2026-03-02, 20 working days with no suspension: 03-03…06 = 1…4, 03-09…13 = 5…9,
    /// 03-16…20 = 10…14, 03-23…27 = 15…19, Monday 03-30 = 20.
    let march = day("2026-03-02")

    @Test("an expert review suspension moves the deadline by its working days")
    func suspensionMovesDeadline() throws {
        #expect(try StatutoryClock(actDate: march, period: .approvalDecision).deadline(in: calendar) == day("2026-03-30"))
        // Expert review Tue 03-10 … Mon 03-16 covers 5 working days (10, 11, 12, 13, 16), so the
        // 20th counted day moves 5 working days past 03-30: 03-31, 04-01, 04-02, 04-03, then
        // Qingming 04-04…06 off, so Tuesday 04-07.
        let suspended = try StatutoryClock(
            actDate: march, period: .approvalDecision,
            suspensions: [ClockSuspension(reason: .expertReview, start: day("2026-03-10"), end: day("2026-03-16"))])
        #expect(try suspended.deadline(in: calendar) == day("2026-04-07"))
        // A suspension over a weekend only (03-14…03-15) moves nothing.
        let weekend = try StatutoryClock(
            actDate: march, period: .approvalDecision,
            suspensions: [ClockSuspension(reason: .testing, start: day("2026-03-14"), end: day("2026-03-15"))])
        #expect(try weekend.deadline(in: calendar) == day("2026-03-30"))
    }

    @Test("suspend and resume, with the deadline unknown while suspended")
    func openSuspension() throws {
        var clock = try StatutoryClock(actDate: march, period: .approvalDecision)
        try clock.suspend(.hearing, from: day("2026-03-10"))
        #expect(throws: ClockError.suspensionOngoing(since: day("2026-03-10"))) { try clock.deadline(in: calendar) }
        #expect(throws: ClockError.alreadySuspended(since: day("2026-03-10"))) { try clock.suspend(.testing, from: day("2026-03-11")) }

        // On 03-12, days used are 03-03, 04, 05, 06, 09 = 5; the projection assumes the clock
        // restarts on 03-13, so 03-10…12 (3 working days) move 03-30 to 04-02.
        let status = try clock.status(asOf: day("2026-03-12"), in: calendar)
        #expect(status.isSuspended)
        #expect(status.workingDaysUsed == 5 && status.workingDaysLeft == 15)
        #expect(status.deadline == day("2026-04-02"))

        try clock.endSuspension(lastDay: day("2026-03-12"))
        #expect(try clock.deadline(in: calendar) == day("2026-04-02"))
        #expect(throws: ClockError.notSuspended) { try clock.endSuspension(lastDay: day("2026-03-13")) }
    }

    @Test("one extension of at most the legal length")
    func extensionRules() throws {
        var clock = try StatutoryClock(actDate: march, period: .approvalDecision)
        #expect(throws: ClockError.extensionExceedsLimit(requested: 11, maximum: 10)) { try clock.extend(by: 11) }
        try clock.extend(by: 10)
        #expect(clock.totalWorkingDays == 30)
        // After 03-30 (20): 03-31 = 21, 04-01 = 22, 04-02 = 23, 04-03 = 24; 04-04…06 off;
        // 04-07…10 = 25…28, 04-13 = 29, 04-14 = 30.
        #expect(try clock.deadline(in: calendar) == day("2026-04-14"))
        #expect(throws: ClockError.alreadyExtended) { try clock.extend(by: 1) }
        var certificate = try StatutoryClock(actDate: march, period: .certificateIssue)
        #expect(throws: ClockError.extensionExceedsLimit(requested: 1, maximum: 0)) { try certificate.extend(by: 1) }
        #expect(throws: ClockError.extensionExceedsLimit(requested: 16, maximum: 15)) {
            try StatutoryClock(actDate: march, period: .jointApprovalDecision, extensionDays: 16)
        }
    }

    @Test("days used, days left, yellow and red as the days pass")
    func status() throws {
        let clock = try StatutoryClock(actDate: march, period: .approvalDecision)
        let policy = WarningPolicy(yellowWhenDaysLeftAtMost: 3)
        // 03-24 is counted day 16: 4 left, normal.
        let s24 = try clock.status(asOf: day("2026-03-24"), in: calendar, warning: policy)
        #expect(s24.workingDaysUsed == 16 && s24.workingDaysLeft == 4 && s24.level == .normal && !s24.isOverdue)
        // 03-25 is day 17: 3 left, yellow.
        #expect(try clock.status(asOf: day("2026-03-25"), in: calendar, warning: policy).level == .yellow)
        // Saturday 03-28: still 19 used (the weekend is not counted), 1 left.
        #expect(try clock.status(asOf: day("2026-03-28"), in: calendar).workingDaysLeft == 1)
        // The deadline day itself: 0 left, not yet overdue.
        let due = try clock.status(asOf: day("2026-03-30"), in: calendar, warning: policy)
        #expect(due.workingDaysLeft == 0 && !due.isOverdue && due.level == .yellow)
        // The next day: overdue by one working day, red.
        let late = try clock.status(asOf: day("2026-03-31"), in: calendar, warning: policy)
        #expect(late.isOverdue && late.level == .red && late.workingDaysLeft == -1)
        // Before the act nothing is used.
        #expect(try clock.status(asOf: day("2026-03-01"), in: calendar).workingDaysUsed == 0)
        // A stricter node turns yellow earlier.
        #expect(try clock.status(asOf: day("2026-03-24"), in: calendar, warning: .init(yellowWhenDaysLeftAtMost: 5)).level == .yellow)
        #expect(due.deadlineInstant == day("2026-03-31").startOfDayInstant())
    }

    @Test("statutory periods from RULES.md")
    func periods() {
        #expect(StatutoryPeriod.acceptanceDecision.workingDays == 5)
        #expect(StatutoryPeriod.approvalDecision == StatutoryPeriod(workingDays: 20, maximumExtension: 10))
        #expect(StatutoryPeriod.jointApprovalDecision == StatutoryPeriod(workingDays: 45, maximumExtension: 15))
        #expect(StatutoryPeriod.countyFirstReview.workingDays == 20)
        #expect(StatutoryPeriod.certificateIssue.workingDays == 10)
        #expect(StatutoryPeriod.supervisionPush.workingDays == 1)
        #expect(StatutoryPeriod.supervisionClaim.workingDays == 1)
        #expect(StatutoryPeriod.rectification.workingDays == 15)
    }

    @Test("a deadline running into an unloaded year is an error")
    func unknownYear() throws {
        // Act 2026-12-15 with 20 days needs January 2027.
        let clock = try StatutoryClock(actDate: day("2026-12-15"), period: .approvalDecision)
        #expect(throws: CalendarError.yearNotLoaded(2027)) { try clock.deadline(in: calendar) }
    }

    @Test("invalid stored clocks are rejected on decoding")
    func decoding() throws {
        let clock = try StatutoryClock(
            actDate: march, period: .approvalDecision, extensionDays: 5,
            suspensions: [ClockSuspension(reason: .siteInspection, start: day("2026-03-10"), end: day("2026-03-11"))])
        let data = try JSONEncoder().encode(clock)
        #expect(try JSONDecoder().decode(StatutoryClock.self, from: data) == clock)
        let bad = String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\"extensionDays\":5", with: "\"extensionDays\":50")
        #expect(bad != String(decoding: data, as: UTF8.self))
        #expect(throws: ClockError.extensionExceedsLimit(requested: 50, maximum: 10)) {
            try JSONDecoder().decode(StatutoryClock.self, from: Data(bad.utf8))
        }
    }
}
