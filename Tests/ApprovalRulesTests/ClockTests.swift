import ApprovalRules
import Foundation
import OneSealCore
import Testing

@Suite("Statutory clock of a case")
struct ClockTests {
    @Test("promised and statutory deadlines from acceptance, in working days")
    func deadlines() throws {
        let state = openCase(.sole, acceptedOn: "2026-09-21")
        // Promised 5: 22, 23, 24, (25–27 off), 28, 29.
        let status = try state.deadlineStatus(asOf: day("2026-09-21"), calendar: calendar, warning: .default)
        #expect(status.deadline == day("2026-09-29"))
        #expect(status.workingDaysLeft == 5)
        #expect(try state.statutoryStatus(asOf: day("2026-09-21"), calendar: calendar, warning: .default).deadline == day("2026-10-26"))
    }

    @Test("a suspension across the National Day holiday: the days inside are not counted, the make-up Saturday is")
    func suspensionAcrossHoliday() throws {
        var state = openCase(.section, acceptedOn: "2026-09-21")
        try state.suspend(reason: .expertReview, expectedDays: 10, noticeText: "需组织专家评审，预计10个工作日，期间不计入办理时限", on: day("2026-09-24"), by: People.officer, id: "sp1")
        #expect(state.status == .suspended)
        // Acting while suspended is refused; a second suspension too.
        #expect(throws: ApprovalRuleError.self) {
            try state.sign(stepID: "s0", conclusion: .proposeGrant, opinion: review, by: People.officer, at: noon("2026-09-24"), asOfficer: true)
        }
        #expect(throws: ApprovalRuleError.self) {
            try state.suspend(reason: .testing, expectedDays: 3, noticeText: "需检测，预计3个工作日", on: day("2026-09-24"), by: People.officer, id: "sp2")
        }
        let during = try state.deadlineStatus(asOf: day("2026-09-30"), calendar: calendar, warning: .default)
        #expect(during.isSuspended)
        #expect(during.workingDaysUsed == 2)  // 22, 23
        #expect(state.suspensions[0].reason == .expertReview)
        #expect(throws: ApprovalRuleError.self) { try state.resume(suspensionID: "", result: "", on: day("2026-10-09"), by: People.officer) }
        try state.resume(suspensionID: "sp1", result: "专家组评审通过，认为技术方案可行", on: day("2026-10-09"), by: People.officer)
        // Counting restarts on Saturday 10-10 (make-up working day): 22, 23, 10-10, 10-12, 10-13.
        let after = try state.deadlineStatus(asOf: day("2026-10-12"), calendar: calendar, warning: .default)
        #expect(after.deadline == day("2026-10-13"))
        #expect(after.workingDaysUsed == 4)
        #expect(after.workingDaysLeft == 1)
        #expect(after.level == .yellow)
        #expect(try state.statutoryStatus(asOf: day("2026-10-12"), calendar: calendar, warning: .default).deadline == day("2026-11-03"))
    }

    @Test("one extension of 10 working days by the head with a reason; never a second; not by a deputy; not after the period ended")
    func extensionOnce() throws {
        var state = openCase(.section, acceptedOn: "2026-09-21")
        #expect(throws: ApprovalRuleError.self) { try state.extend(days: 10, reason: "案情复杂，需进一步核实申请人提交的检测报告", by: People.deputy, on: day("2026-10-12"), calendar: calendar) }
        #expect(throws: ApprovalRuleError.self) { try state.extend(days: 11, reason: "案情复杂，需进一步核实申请人提交的检测报告", by: People.director, on: day("2026-10-12"), calendar: calendar) }
        #expect(throws: ApprovalRuleError.self) { try state.extend(days: 10, reason: "同意", by: People.director, on: day("2026-10-12"), calendar: calendar) }
        try state.extend(days: 0, reason: "案情复杂，需进一步核实申请人提交的检测报告", by: People.director, on: day("2026-10-12"), calendar: calendar)
        #expect(state.extensionRecord?.days == 10)
        #expect(try state.statutoryStatus(asOf: day("2026-10-12"), calendar: calendar, warning: .default).deadline == day("2026-11-09"))
        #expect(try state.deadlineStatus(asOf: day("2026-10-12"), calendar: calendar, warning: .default).deadline == day("2026-10-19"))
        #expect(throws: ApprovalRuleError.failedPrecondition("case 371302-20260921-000001 was already extended by 10 working days on 2026-10-12; the law allows one extension (Art. 42)")) {
            try state.extend(days: 5, reason: "仍需补充专家意见，延长办理期限", by: People.director, on: day("2026-10-13"), calendar: calendar)
        }
        var late = openCase(.section, acceptedOn: "2026-09-21")
        #expect(throws: ApprovalRuleError.self) {
            try late.extend(days: 10, reason: "案情复杂，需进一步核实申请人提交的检测报告", by: People.director, on: day("2026-10-27"), calendar: calendar)
        }
    }

    @Test("yellow a configurable number of days before, red once overdue; the day it turns yellow")
    func warnings() throws {
        let state = openCase(.sole, acceptedOn: "2026-09-21", promised: 10)
        // 10 working days: 22 23 24 28 29 30, (10-01..07 off), 08 09 10(Sat make-up) 12 → due 10-12.
        let policy = WarningPolicy(yellowWhenDaysLeftAtMost: 2)
        #expect(try state.deadlineStatus(asOf: day("2026-09-30"), calendar: calendar, warning: policy).level == .normal)
        #expect(try state.deadlineStatus(asOf: day("2026-10-08"), calendar: calendar, warning: policy).level == .normal)
        // Holidays do not count: 10-01…10-07 leave 3 days left on 10-08, then 10-09 uses the 8th day.
        #expect(try state.deadlineStatus(asOf: day("2026-10-09"), calendar: calendar, warning: policy).level == .yellow)
        #expect(try state.yellowOn(calendar: calendar, warning: policy) == day("2026-10-09"))
        #expect(try state.deadlineStatus(asOf: day("2026-10-12"), calendar: calendar, warning: policy).level == .yellow)
        let overdue = try state.deadlineStatus(asOf: day("2026-10-13"), calendar: calendar, warning: policy)
        #expect(overdue.level == .red)
        #expect(overdue.isOverdue)
        #expect(try state.yellowOn(calendar: calendar, warning: WarningPolicy(yellowWhenDaysLeftAtMost: 3)) == day("2026-10-08"))
    }
}
