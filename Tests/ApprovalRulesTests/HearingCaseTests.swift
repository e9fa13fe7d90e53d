import ApprovalRules
import Foundation
import OneSealCore
import Testing

/// A case walked through its hearing (Arts. 46–48) with real November 2026 dates: the notice of the
/// right on Wednesday 11 November, the request on the fifth day or the sixth, the hearing notice 7
/// working days ahead, the record, and the statutory period stopped meanwhile (Art. 45).
@Suite("Hearing on a case (Arts. 45–48)")
struct HearingCaseTests {
    static let why = "申请的排水许可直接涉及相邻居民的重大利益关系，依法告知听证权利"
    static let record = "申请人、相邻居民代表到场陈述意见，质证排水管网接驳方案和检测报告，双方在笔录上签字"

    func notified() throws -> CaseState {
        var state = openCase(.sole, acceptedOn: "2026-11-02")
        try state.notifyHearingRight(reason: Self.why, on: day("2026-11-11"), by: People.officer, calendar: calendar)
        return state
    }

    @Test("the right is notified once; until its last day passes unused, the case cannot be decided")
    func notice() throws {
        var state = try notified()
        #expect(state.hearing?.lastDayToRequest == day("2026-11-16"))
        #expect(throws: ApprovalRuleError.self) {
            try state.notifyHearingRight(reason: Self.why, on: day("2026-11-12"), by: People.officer, calendar: calendar)
        }
        try state.sign(stepID: "s0", conclusion: .proposeGrant, opinion: review, by: People.officer, at: noon("2026-11-12"), asOfficer: true)
        var early = state
        #expect(throws: ApprovalRuleError.self) {
            try early.decide(grant, by: People.officer, on: day("2026-11-16"), at: noon("2026-11-16"), calendar: calendar, defaultAppealRights: "")
        }
        // Nobody asked by the 16th: decided on the 17th without a hearing.
        try state.decide(grant, by: People.officer, on: day("2026-11-17"), at: noon("2026-11-17"), calendar: calendar, defaultAppealRights: "")
        #expect(state.status == .granted)
    }

    @Test("a request on the last day is in time and stops the clock; the day after it is refused as waived")
    func requestDays() throws {
        var late = try notified()
        #expect(throws: ApprovalRuleError.failedPrecondition(HearingRequestCheck.late(lastDay: day("2026-11-16")).description)) {
            try late.requestHearing(by: "相邻居民代表张三", on: day("2026-11-17"), recordedBy: People.officer, calendar: calendar, suspensionID: "sp1")
        }
        #expect(late.status == .inProgress)
        var state = try notified()
        try state.requestHearing(by: "相邻居民代表张三", on: day("2026-11-16"), recordedBy: People.officer, calendar: calendar, suspensionID: "sp1")
        #expect(state.status == .suspended)
        #expect(state.suspensions.last?.reason == .hearing)
        #expect(state.hearing?.holdBy == day("2026-12-14"))
    }

    @Test("scheduled 7 working days after its notice, presided over by someone who did not review it; recorded on the day; 8 working days not counted")
    func walk() throws {
        var state = try notified()
        try state.requestHearing(by: "相邻居民代表张三", on: day("2026-11-16"), recordedBy: People.officer, calendar: calendar, suspensionID: "sp1")
        #expect(violatedFields {
            try state.scheduleHearing(on: day("2026-11-24"), place: "第三听证室", publicity: .publicHearing, presidingOfficer: "officer-li",
                                      noticeSentOn: day("2026-11-16"), by: People.officer, calendar: calendar)
        } == ["hearing_on", "presiding_officer"])
        try state.scheduleHearing(on: day("2026-11-25"), place: "第三听证室", publicity: .businessSecret, presidingOfficer: "legal-chen",
                                  noticeSentOn: day("2026-11-16"), by: People.officer, calendar: calendar)
        #expect(state.hearing?.publicity?.isPublic == false)
        #expect(throws: ApprovalRuleError.self) { try state.recordHearing(Self.record, on: day("2026-11-24"), by: People.officer) }
        try state.recordHearing(Self.record, on: day("2026-11-25"), by: People.officer)
        #expect(state.status == .inProgress)
        #expect(state.suspensions.last?.resumedOn == day("2026-11-25"))
        // 20 working days from 2 November would end on 30 November; 16–25 November are not counted.
        #expect(try state.statutoryStatus(asOf: day("2026-11-26"), calendar: calendar, warning: .default).deadline == day("2026-12-10"))
        try state.sign(stepID: "s0", conclusion: .proposeGrant, opinion: review, by: People.officer, at: noon("2026-11-26"), asOfficer: true)
        try state.decide(grant, by: People.officer, on: day("2026-11-26"), at: noon("2026-11-26"), calendar: calendar, defaultAppealRights: "")
        #expect(state.status == .granted)
    }
}

extension HearingCaseTests {
    @Test("the applicant may ask with their own token; staff outside the case's chain may not record it")
    func whoRequests() throws {
        var state = try notified()
        let applicant = CaseActor(subject: "91371302MA3C1234X7", role: "applicant", node: "371302")
        try state.requestHearing(by: "临沂市兰山区好味道餐饮有限公司", on: day("2026-11-13"), recordedBy: applicant, calendar: calendar, suspensionID: "sp1")
        #expect(state.suspensions.last?.suspendedBy == applicant)
        var other = try notified()
        #expect(throws: ApprovalRuleError.self) {
            try other.requestHearing(by: "张三", on: day("2026-11-13"), recordedBy: People.clerk, calendar: calendar, suspensionID: "sp1")
        }
    }
}
