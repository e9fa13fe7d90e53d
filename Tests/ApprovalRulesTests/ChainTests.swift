import ApprovalRules
import Foundation
import OneSealCore
import Testing

@Suite("Sign-off chains by tier")
struct ChainTests {
    @Test("the chain of each tier; collective = officer, recorded meeting, then the director")
    func chains() {
        #expect(ApprovalChain.roles(for: .sole) == [.officer])
        #expect(ApprovalChain.roles(for: .section) == [.officer, .sectionChief])
        #expect(ApprovalChain.roles(for: .deputy) == [.officer, .sectionChief, .deputyDirector])
        #expect(ApprovalChain.roles(for: .collective) == [.officer, .collectiveMeeting, .director])
        #expect(ApprovalChain.decidingRole(for: .collective) == .director)
        #expect(JointReviewKind.required(for: .section) == .section)
        #expect(JointReviewKind.required(for: .deputy) == .deputy)
        #expect(JointReviewKind.required(for: .sole) == nil)
    }

    @Test("sole approval: the officer reviews and decides; on time, working days counted")
    func sole() throws {
        var state = openCase(.sole)
        #expect(state.nextRole == .officer)
        #expect(state.nextAssignee == "officer-li")
        try state.sign(stepID: "s0", conclusion: .proposeGrant, opinion: review, by: People.officer, at: noon("2026-09-23"), asOfficer: true)
        #expect(state.awaitingDecision)
        #expect(state.nextAssignee == "officer-li")
        // Another officer cannot decide it.
        #expect(throws: ApprovalRuleError.self) {
            try state.decide(grant, by: People.officer2, on: day("2026-09-23"), at: noon("2026-09-23"), calendar: calendar, defaultAppealRights: "")
        }
        try state.decide(grant, by: People.officer, on: day("2026-09-23"), at: noon("2026-09-23"), calendar: calendar, defaultAppealRights: "")
        #expect(state.status == .granted)
        let decision = try #require(state.decision)
        #expect(decision.onTime)
        #expect(decision.workingDaysTaken == 2)
        guard case .grant(let terms) = decision.outcome else { Issue.record("not a grant"); return }
        #expect(terms.validFrom == day("2026-09-23"))
        #expect(terms.validUntil == day("2031-09-22"))  // 60 months, the day before
        // A closed case refuses further acts.
        #expect(throws: ApprovalRuleError.failedPrecondition("case 371302-20260921-000001 is granted; it cannot be withdrawn")) {
            try state.withdraw(reason: "不再经营", requestFileID: "", on: day("2026-09-24"), by: People.clerk)
        }
    }

    @Test("sole approval on the spot: review and decision in one act, each checked; refused, nothing changes; other tiers refused")
    func soleOnTheSpot() throws {
        var state = openCase(.sole)
        let before = state
        // Not the handling officer, no opinion, no outcome, a denial without reasons: refused whole.
        #expect(throws: ApprovalRuleError.self) {
            try state.reviewAndDecide(opinion: review, grant, by: People.officer2, on: day("2026-09-23"), at: noon("2026-09-23"), calendar: calendar, defaultAppealRights: "")
        }
        #expect(throws: ApprovalRuleError.self) {
            try state.reviewAndDecide(opinion: "", grant, by: People.officer, on: day("2026-09-23"), at: noon("2026-09-23"), calendar: calendar, defaultAppealRights: "")
        }
        #expect(throws: ApprovalRuleError.invalidArgument([FieldViolation(field: "outcome", description: "required: grant or denial", reason: "required")])) {
            try state.reviewAndDecide(opinion: review, nil, by: People.officer, on: day("2026-09-23"), at: noon("2026-09-23"), calendar: calendar, defaultAppealRights: "")
        }
        #expect(throws: ApprovalRuleError.self) {
            try state.reviewAndDecide(opinion: review, .deny(DenialTerms(reasons: [], legalBasis: "")), by: People.officer, on: day("2026-09-23"), at: noon("2026-09-23"), calendar: calendar, defaultAppealRights: "")
        }
        #expect(state == before)
        try state.reviewAndDecide(opinion: review, grant, by: People.officer, on: day("2026-09-23"), at: noon("2026-09-23"), calendar: calendar, defaultAppealRights: "")
        #expect(state.status == .granted)
        #expect(state.steps.map(\.status) == [.completed])
        #expect(state.steps[0].conclusion == .proposeGrant && state.steps[0].opinion == review && state.steps[0].completedBy?.subject == People.officer.subject)
        #expect(state.decision?.decidedBy.subject == People.officer.subject && state.decision?.workingDaysTaken == 2)
        // Reviewed already: the act is a plain decision now.
        var reviewed = openCase(.sole)
        try reviewed.sign(stepID: "s0", conclusion: .proposeGrant, opinion: review, by: People.officer, at: noon("2026-09-23"), asOfficer: true)
        #expect(throws: ApprovalRuleError.self) {
            try reviewed.reviewAndDecide(opinion: review, grant, by: People.officer, on: day("2026-09-23"), at: noon("2026-09-23"), calendar: calendar, defaultAppealRights: "")
        }
        // A section item goes through its chief.
        var section = openCase(.section)
        #expect(throws: ApprovalRuleError.self) {
            try section.reviewAndDecide(opinion: review, grant, by: People.officer, on: day("2026-09-23"), at: noon("2026-09-23"), calendar: calendar, defaultAppealRights: "")
        }
        #expect(section.steps.allSatisfy { $0.completedAt == nil })
    }

    @Test("section tier: officer → section chief, who decides; out of turn and wrong role refused")
    func section() throws {
        var state = openCase(.section)
        // The chief cannot sign before the officer; the officer cannot use SignOff.
        #expect(throws: ApprovalRuleError.self) {
            try state.sign(stepID: "s1", conclusion: .proposeGrant, opinion: signOff, by: People.chief, at: noon("2026-09-22"), asOfficer: false)
        }
        #expect(throws: ApprovalRuleError.failedPrecondition("step s0 is the officer's review; use ReviewStep")) {
            try state.sign(stepID: "s0", conclusion: .proposeGrant, opinion: review, by: People.officer, at: noon("2026-09-22"), asOfficer: false)
        }
        // An officer of another section cannot touch it.
        #expect(throws: ApprovalRuleError.self) {
            try state.sign(stepID: "s0", conclusion: .proposeGrant, opinion: review, by: People.otherSection, at: noon("2026-09-22"), asOfficer: true)
        }
        try state.sign(stepID: "s0", conclusion: .proposeGrant, opinion: review, by: People.officer, at: noon("2026-09-22"), asOfficer: true)
        #expect(state.nextRole == .sectionChief)
        // Deciding before the chief signs is refused.
        #expect(throws: ApprovalRuleError.self) {
            try state.decide(grant, by: People.chief, on: day("2026-09-22"), at: noon("2026-09-22"), calendar: calendar, defaultAppealRights: "")
        }
        // The officer cannot sign the chief's step.
        #expect(throws: ApprovalRuleError.self) {
            try state.sign(stepID: "", conclusion: .proposeGrant, opinion: signOff, by: People.officer, at: noon("2026-09-22"), asOfficer: false)
        }
        try state.sign(stepID: "", conclusion: .proposeGrant, opinion: signOff, by: People.chief, at: noon("2026-09-22"), asOfficer: false)
        // A denial cannot follow a proposed grant.
        #expect(throws: ApprovalRuleError.self) {
            try state.decide(.deny(DenialTerms(reasons: ["经营场所与申请材料所载地址不一致"], legalBasis: "《食品经营许可管理办法》第十一条")),
                             by: People.chief, on: day("2026-09-22"), at: noon("2026-09-22"), calendar: calendar, defaultAppealRights: "")
        }
        try state.decide(grant, by: People.chief, on: day("2026-09-22"), at: noon("2026-09-22"), calendar: calendar, defaultAppealRights: "")
        #expect(state.status == .granted)
        #expect(state.decision?.decidedBy.subject == "chief-zhao")
    }

    @Test("deputy tier: officer → section chief → deputy director; the director may act as deputy; one person, one step")
    func deputy() throws {
        var state = openCase(.deputy)
        try state.sign(stepID: "s0", conclusion: .proposeGrant, opinion: review, by: People.officer, at: noon("2026-09-22"), asOfficer: true)
        // The deputy cannot sign while the chief's step is active.
        #expect(throws: ApprovalRuleError.self) {
            try state.sign(stepID: "s2", conclusion: .proposeGrant, opinion: signOff, by: People.deputy, at: noon("2026-09-22"), asOfficer: false)
        }
        try state.sign(stepID: "s1", conclusion: .proposeGrant, opinion: signOff, by: People.chief, at: noon("2026-09-22"), asOfficer: false)
        // The chief may not also sign as deputy (a chief token is not a deputy anyway): role check.
        #expect(throws: ApprovalRuleError.self) {
            try state.sign(stepID: "s2", conclusion: .proposeGrant, opinion: signOff, by: People.chief, at: noon("2026-09-22"), asOfficer: false)
        }
        try state.sign(stepID: "s2", conclusion: .proposeDeny, opinion: "经复核，采伐作业设计未经林业主管部门审核，不符合规定", by: People.director, at: noon("2026-09-23"), asOfficer: false)
        // A vague denial reason and a remedies text without litigation are refused, all at once.
        #expect(throws: ApprovalRuleError.self) {
            try state.decide(.deny(DenialTerms(reasons: ["不同意"], legalBasis: "", appealRights: "可申请行政复议，六十日内")),
                             by: People.director, on: day("2026-09-23"), at: noon("2026-09-23"), calendar: calendar, defaultAppealRights: "")
        }
        let fields = violatedFields {
            try state.decide(.deny(DenialTerms(reasons: ["不同意"], legalBasis: "", appealRights: "可申请行政复议，六十日内")),
                             by: People.director, on: day("2026-09-23"), at: noon("2026-09-23"), calendar: calendar, defaultAppealRights: "")
        }
        #expect(fields == ["denial.reasons[0]", "denial.legal_basis", "denial.appeal_rights"])
        try state.decide(.deny(DenialTerms(reasons: ["采伐作业设计未经审核，不符合《森林法》第五十六条规定的条件"], legalBasis: "《中华人民共和国森林法》第五十六条", reconsiderationAgency: "临沂市兰山区人民政府")),
                         by: People.director, on: day("2026-09-23"), at: noon("2026-09-23"), calendar: calendar, defaultAppealRights: "")
        #expect(state.status == .denied)
        guard case .deny(let denial) = state.decision?.outcome else { Issue.record("not a denial"); return }
        #expect(denial.appealRights.contains("临沂市兰山区人民政府申请行政复议"))
        #expect(denial.appealRights.contains("六个月内"))
    }

    @Test("collective study: the meeting is recorded (participants, opinions, resolution), then the director signs and decides")
    func collective() throws {
        var state = openCase(.collective)
        try state.sign(stepID: "s0", conclusion: .proposeGrant, opinion: review, by: People.officer, at: noon("2026-09-22"), asOfficer: true)
        #expect(state.nextRole == .collectiveMeeting)
        // The meeting step is not signed like a person's step.
        #expect(throws: ApprovalRuleError.self) {
            try state.sign(stepID: "s1", conclusion: .proposeGrant, opinion: signOff, by: People.director, at: noon("2026-09-22"), asOfficer: false)
        }
        var meeting = JointReviewRecord(
            id: "m-1", kind: .collective, heldAt: noon("2026-09-24"), location: "局三楼会议室", convenedBy: People.director,
            opinions: [
                ParticipantOpinion(participant: People.director, title: "局长", opinion: "医疗机构设置符合区域卫生规划，同意执业登记", vote: .agree),
                ParticipantOpinion(participant: People.deputy, title: "分管副局长", opinion: "现场核查设施设备符合标准，同意", vote: .agree),
                ParticipantOpinion(participant: CaseActor(subject: "deputy-he", role: "deputy_director"), title: "副局长", opinion: "人员资质齐全，建议加强日常监管", vote: .agree),
            ],
            conclusion: "经集体研究，申请符合《医疗机构管理条例》规定条件，同意准予执业登记", outcome: .proposeGrant, minutesFileID: "minutes-1")
        // Convened by a deputy: refused (the director chairs collective study).
        var byDeputy = meeting
        byDeputy.convenedBy = People.deputy
        #expect(throws: ApprovalRuleError.self) { try state.recordJointReview(byDeputy) }
        // Too few participants and a vague conclusion: every problem listed.
        var thin = meeting
        thin.opinions = Array(meeting.opinions.prefix(2))
        thin.conclusion = "同意"
        #expect(violatedFields { try state.recordJointReview(thin) } == ["review.opinions", "review.conclusion"])
        try state.recordJointReview(meeting)
        #expect(state.jointReviews.count == 1)
        #expect(state.steps[1].status == .completed)
        #expect(state.nextRole == .director)
        // A second collective meeting needs the step to be active again.
        meeting.id = "m-2"
        #expect(throws: ApprovalRuleError.self) { try state.recordJointReview(meeting) }
        try state.sign(stepID: "s2", conclusion: .proposeGrant, opinion: "依据集体研究结论，准予医疗机构执业登记", by: People.director, at: noon("2026-09-25"), asOfficer: false)
        try state.decide(grant, by: People.director, on: day("2026-09-28"), at: noon("2026-09-28"), calendar: calendar, defaultAppealRights: "")
        #expect(state.status == .granted)
        // 09-22, 09-23, 09-24, 09-28: the 25th-27th are the Mid-Autumn days off.
        #expect(state.decision?.workingDaysTaken == 4)
    }

    @Test("joint review by category: a section item's meeting is convened by the section chief; a sole item has none")
    func jointReviewByCategory() throws {
        var state = openCase(.section)
        let opinions = [
            ParticipantOpinion(participant: People.chief, title: "科长", opinion: "申请材料与现场一致，同意准予许可", vote: .agree),
            ParticipantOpinion(participant: People.officer2, title: "审查员", opinion: "消防验收文件齐全，同意准予许可", vote: .agree),
        ]
        let section = JointReviewRecord(id: "j1", kind: .section, heldAt: noon("2026-09-22"), location: "市场准入科", convenedBy: People.chief,
                                        opinions: opinions, conclusion: "科室会审认为申请符合法定条件，拟准予许可", outcome: .proposeDeny, minutesFileID: "")
        var deputyKind = section
        deputyKind.kind = .deputy
        deputyKind.convenedBy = People.deputy
        #expect(throws: ApprovalRuleError.self) { try state.recordJointReview(deputyKind) }
        var byOfficer = section
        byOfficer.convenedBy = People.officer
        #expect(throws: ApprovalRuleError.self) { try state.recordJointReview(byOfficer) }
        try state.recordJointReview(section)
        // The meeting resolved "deny": a grant may not contradict it.
        try state.sign(stepID: "s0", conclusion: .proposeGrant, opinion: review, by: People.officer, at: noon("2026-09-22"), asOfficer: true)
        try state.sign(stepID: "s1", conclusion: .proposeGrant, opinion: signOff, by: People.chief, at: noon("2026-09-22"), asOfficer: false)
        #expect(throws: ApprovalRuleError.self) {
            try state.decide(grant, by: People.chief, on: day("2026-09-22"), at: noon("2026-09-22"), calendar: calendar, defaultAppealRights: "")
        }
        var sole = openCase(.sole)
        #expect(throws: ApprovalRuleError.self) { try sole.recordJointReview(section) }
    }
}
