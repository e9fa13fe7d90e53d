import OneSealCore
import Testing
import WebRules

@Suite struct DashboardRulesTests {
    let today = CivilDate(year: 2026, month: 12, day: 4)!

    @Test func onlyTheLeadingPostsAndSupervisorsReadFigures() {
        let readers = StaffRole.allCases.filter(\.readsFigures)
        #expect(Set(readers) == [.sectionChief, .deputyDirector, .director, .evaluator, .leader])
        #expect(!StaffRole.windowClerk.readsFigures && !StaffRole.officer.readsFigures && !StaffRole.department.readsFigures && !StaffRole.operator.readsFigures)
    }

    @Test func aMonthIsThisOneWhenNotGivenAndNeverInTheFuture() {
        #expect(ReportMonth.parse(nil, today: today) == .success(ReportMonth(year: 2026, month: 12)!))
        #expect(ReportMonth.parse("", today: today) == .success(ReportMonth(year: 2026, month: 12)!))
        #expect(ReportMonth.parse("2026-11", today: today) == .success(ReportMonth(year: 2026, month: 11)!))
        #expect(ReportMonth.parse("2027-01", today: today) == .failure(.future))
        for bad in ["2026-13", "2026-00", "2026-1", "26-11", "2026/11", "２０２６-11", "2026-11-01", "1999-12", "+026-11", String(repeating: "9", count: 500)] {
            #expect(ReportMonth.parse(bad, today: today) == .failure(.notAMonth), "\(bad)")
        }
    }

    @Test func previousMonthCrossesTheYear() {
        #expect(ReportMonth(year: 2026, month: 1)!.previous == ReportMonth(year: 2025, month: 12))
        #expect(ReportMonth(year: 2026, month: 3)!.previous?.text == "2026-02")
        #expect(ReportMonth(year: 2026, month: 11)!.firstDay == CivilDate(year: 2026, month: 11, day: 1))
    }
}
