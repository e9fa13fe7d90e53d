import ApprovalRules
import OneSealCore
import Testing

/// 行政许可法 Arts. 45–48 with real dates (the 2026 national holiday calendar).
@Suite("Hearing periods (Arts. 45–48)")
struct HearingTests {
    @Test("request on the last of the 5 days: in time; the day after: late")
    func requestWindow() throws {
        let timeline = HearingTimeline(rightNotifiedOn: day("2026-11-11"))  // Wednesday
        #expect(try timeline.lastDayToRequest(in: calendar) == day("2026-11-16"))
        #expect(try timeline.checkRequest(on: day("2026-11-16"), in: calendar) == .inTime(lastDay: day("2026-11-16")))
        #expect(try timeline.checkRequest(on: day("2026-11-17"), in: calendar) == .late(lastDay: day("2026-11-16")))
        #expect(try timeline.checkRequest(on: day("2026-11-10"), in: calendar) == .beforeNotice(notifiedOn: day("2026-11-11")))
    }

    @Test("a fifth day on the Mid-Autumn weekend ends on the next working day (民法典 Art. 203)")
    func requestWindowOverHoliday() throws {
        let timeline = HearingTimeline(rightNotifiedOn: day("2026-09-21"))  // +5 = Saturday 26 September, a holiday
        #expect(try timeline.lastDayToRequest(in: calendar) == day("2026-09-28"))
        #expect(try timeline.checkRequest(on: day("2026-09-28"), in: calendar).isInTime)
        #expect(try !timeline.checkRequest(on: day("2026-09-29"), in: calendar).isInTime)
    }

    @Test("held within 20 working days of the request, across National Day and its make-up Saturday")
    func holdBy() throws {
        #expect(try HearingTimeline.holdBy(requestedOn: day("2026-11-16"), in: calendar) == day("2026-12-14"))
        #expect(try HearingTimeline.holdBy(requestedOn: day("2026-09-28"), in: calendar) == day("2026-10-30"))
    }

    @Test("the notice 7 working days ahead and the 20-day limit, each problem naming hearing_on")
    func schedule() throws {
        #expect(try HearingTimeline.earliestHearingDay(noticeSentOn: day("2026-11-16"), in: calendar) == day("2026-11-25"))
        let tooSoon = try HearingTimeline.checkSchedule(requestedOn: day("2026-11-16"), noticeSentOn: day("2026-11-16"), hearingOn: day("2026-11-24"), in: calendar)
        #expect(tooSoon.map(\.reason) == ["notice_period"])
        #expect(tooSoon.first?.field == "hearing_on")
        #expect(try HearingTimeline.checkSchedule(requestedOn: day("2026-11-16"), noticeSentOn: day("2026-11-16"), hearingOn: day("2026-11-25"), in: calendar).isEmpty)
        let tooLate = try HearingTimeline.checkSchedule(requestedOn: day("2026-11-16"), noticeSentOn: day("2026-12-01"), hearingOn: day("2026-12-15"), in: calendar)
        #expect(tooLate.map(\.reason) == ["hold_period"])
    }

    @Test("the clock stops from the request through the closed hearing record (Art. 45)")
    func clockPaused() throws {
        let accepted = day("2026-11-02")
        let plain = try StatutoryClock(actDate: accepted, period: .approvalDecision)
        #expect(try plain.deadline(in: calendar) == day("2026-11-30"))
        let paused = try StatutoryClock(
            actDate: accepted, period: .approvalDecision,
            suspensions: [HearingTimeline.suspension(requestedOn: day("2026-11-16"), recordClosedOn: day("2026-11-25"))])
        // 8 working days (16–20, 23–25 November) do not count.
        #expect(try paused.deadline(in: calendar) == day("2026-12-10"))
        let pending = try StatutoryClock(
            actDate: accepted, period: .approvalDecision,
            suspensions: [HearingTimeline.suspension(requestedOn: day("2026-11-16"), recordClosedOn: nil)])
        #expect(throws: ClockError.self) { try pending.deadline(in: calendar) }
    }

    @Test("public unless state secrets, business secrets or privacy (Art. 48)")
    func publicity() {
        #expect(HearingPublicity.publicHearing.isPublic)
        #expect(HearingPublicity.allCases.filter { !$0.isPublic }.count == 3)
    }
}
