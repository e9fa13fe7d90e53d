import ApprovalRules
import Foundation
import OneSealCore
import Testing

@Suite("Work queue, delegation, return, withdrawal, opinions")
struct WorkflowTests {
    @Test("opinions must be specific: empty, formulas and repeated formulas are refused")
    func opinions() {
        for vague in ["", "   ", "同意", "已阅。", "拟同意", "同意同意同意同意", "OK", "按规定办理", "同意！！！"] {
            #expect(OpinionCheck.problem(vague, field: "opinion") != nil, "\(vague) accepted")
        }
        #expect(OpinionCheck.problem("", field: "opinion")?.reason == "required")
        #expect(OpinionCheck.problem("同意", field: "opinion")?.reason == "opinion.too_vague")
        #expect(OpinionCheck.problem(review, field: "opinion") == nil)
        #expect(OpinionCheck.problem("经核查场地面积符合要求，同意", field: "opinion") == nil)
        var state = openCase(.sole)
        #expect(throws: ApprovalRuleError.invalidArgument([OpinionCheck.problem("已阅", field: "opinion")!])) {
            try state.sign(stepID: "s0", conclusion: .proposeGrant, opinion: "已阅", by: People.officer, at: noon("2026-09-22"), asOfficer: true)
        }
    }

    @Test("queue: an unassigned step is claimed by a holder of its role; reassigned only by a more senior role")
    func claimAndReassign() throws {
        var state = openCase(.section, assignee: nil)
        #expect(state.nextAssignee == nil)
        #expect(throws: ApprovalRuleError.self) { try state.claim(stepID: "", by: People.chief) }  // wrong role
        #expect(throws: ApprovalRuleError.self) { try state.claim(stepID: "", by: People.otherSection) }  // other section
        try state.claim(stepID: "", by: People.officer)
        #expect(state.nextAssignee == "officer-li")
        #expect(throws: ApprovalRuleError.self) { try state.claim(stepID: "", by: People.officer2) }  // taken
        // An officer cannot reassign an officer step; the chief can, with a reason.
        #expect(throws: ApprovalRuleError.self) { try state.reassign(stepID: "s0", to: "officer-wang", reason: "工作量调整", by: People.officer) }
        #expect(throws: ApprovalRuleError.self) { try state.reassign(stepID: "s0", to: "officer-wang", reason: "", by: People.chief) }
        try state.reassign(stepID: "s0", to: "officer-wang", reason: "工作量调整", by: People.chief)
        #expect(state.nextAssignee == "officer-wang")
        #expect(throws: ApprovalRuleError.self) {
            try state.sign(stepID: "s0", conclusion: .proposeGrant, opinion: review, by: People.officer, at: noon("2026-09-22"), asOfficer: true)
        }
        try state.sign(stepID: "s0", conclusion: .proposeGrant, opinion: review, by: People.officer2, at: noon("2026-09-22"), asOfficer: true)
        // The pending chief step was unassigned: the chief claims it; the officer who reviewed cannot.
        try state.claim(stepID: "s1", by: People.chief)
        #expect(state.nextAssignee == "chief-zhao")
    }

    @Test("delegation while on leave; nobody signs two steps of a case through delegation")
    func delegation() throws {
        var state = openCase(.deputy)
        try state.sign(stepID: "s0", conclusion: .proposeGrant, opinion: review, by: People.officer, at: noon("2026-09-22"), asOfficer: true)
        try state.claim(stepID: "s1", by: People.chief)
        // Only the assignee delegates; not to themselves; not to someone who already signed.
        #expect(throws: ApprovalRuleError.self) { try state.delegate(stepID: "s1", to: "chief-qian", reason: "年休假", by: People.chief2) }
        #expect(throws: ApprovalRuleError.self) { try state.delegate(stepID: "s1", to: "chief-zhao", reason: "年休假", by: People.chief) }
        #expect(throws: ApprovalRuleError.self) { try state.delegate(stepID: "s1", to: "officer-li", reason: "年休假", by: People.chief) }
        try state.delegate(stepID: "s1", to: "chief-qian", reason: "年休假 09-22 至 09-25", by: People.chief)
        #expect(state.steps[1].assignee == "chief-qian")
        #expect(state.steps[1].delegatedBy?.subject == "chief-zhao")
        #expect(throws: ApprovalRuleError.self) {
            try state.sign(stepID: "s1", conclusion: .proposeGrant, opinion: signOff, by: People.chief, at: noon("2026-09-22"), asOfficer: false)
        }
        try state.sign(stepID: "s1", conclusion: .proposeGrant, opinion: signOff, by: People.chief2, at: noon("2026-09-22"), asOfficer: false)
        // The deputy's step cannot be delegated to the delegate who just signed.
        try state.claim(stepID: "s2", by: People.deputy)
        #expect(throws: ApprovalRuleError.self) { try state.delegate(stepID: "s2", to: "chief-qian", reason: "出差", by: People.deputy) }
    }

    @Test("return to an earlier step: a fresh round from that role, the redo counted, the reason required")
    func returnToStep() throws {
        var state = openCase(.deputy)
        try state.sign(stepID: "s0", conclusion: .proposeGrant, opinion: review, by: People.officer, at: noon("2026-09-22"), asOfficer: true)
        try state.sign(stepID: "s1", conclusion: .proposeGrant, opinion: signOff, by: People.chief, at: noon("2026-09-22"), asOfficer: false)
        #expect(throws: ApprovalRuleError.self) { try state.returnTo(targetIndex: 0, reason: "退回", by: People.deputy, at: noon("2026-09-23")) }
        #expect(throws: ApprovalRuleError.self) { try state.returnTo(targetIndex: 0, reason: "承办人未核查采伐作业设计的审核意见，请补充核查", by: People.officer, at: noon("2026-09-23")) }
        #expect(throws: ApprovalRuleError.self) { try state.returnTo(targetIndex: 2, reason: "承办人未核查采伐作业设计的审核意见，请补充核查", by: People.deputy, at: noon("2026-09-23")) }
        try state.returnTo(targetIndex: 0, reason: "承办人未核查采伐作业设计的审核意见，请补充核查", by: People.deputy, at: noon("2026-09-23"))
        #expect(state.returns == 1)
        #expect(state.steps.map(\.status) == [.returned, .returned, .returned, .active, .pending, .pending])
        #expect(state.steps[3].assignee == "officer-li")
        #expect(state.steps[3].round == 2)
        #expect(state.steps[4].assignee == "chief-zhao")
        // In the new round the same people sign again (the old signatures are returned).
        try state.sign(stepID: "s3", conclusion: .proposeGrant, opinion: review + "；已补充核查", by: People.officer, at: noon("2026-09-24"), asOfficer: true)
        try state.sign(stepID: "s4", conclusion: .proposeGrant, opinion: signOff, by: People.chief, at: noon("2026-09-24"), asOfficer: false)
        try state.sign(stepID: "s5", conclusion: .proposeGrant, opinion: "经审核同意准予林木采伐许可，按设计作业", by: People.deputy, at: noon("2026-09-24"), asOfficer: false)
        // Return from "awaiting decision" by the decider.
        try state.returnTo(targetIndex: 4, reason: "科室负责人意见未说明蓄积量核算依据，请重新审核", by: People.deputy, at: noon("2026-09-28"))
        #expect(state.returns == 2)
        #expect(state.activeStep?.role == .sectionChief)
    }

    @Test("withdrawal before the decision closes an open suspension that day")
    func withdrawal() throws {
        var state = openCase(.section)
        try state.suspend(reason: .siteInspection, expectedDays: 5, noticeText: "需现场核查经营场所，预计5个工作日", on: day("2026-09-23"), by: People.officer, id: "sp1")
        #expect(throws: ApprovalRuleError.self) { try state.withdraw(reason: " ", requestFileID: "", on: day("2026-09-24"), by: People.clerk) }
        try state.withdraw(reason: "申请人决定暂不开业", requestFileID: "file-w1", on: day("2026-09-24"), by: People.clerk)
        #expect(state.status == .withdrawn)
        #expect(state.suspensions[0].resumedOn == day("2026-09-24"))
        #expect(state.clocks.promised.openSuspension == nil)
        #expect(state.nextRole == nil)
    }
}
