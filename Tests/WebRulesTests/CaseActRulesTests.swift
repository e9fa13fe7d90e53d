import Foundation
import Testing
import WebRules

/// The back office's forms at the edge (#19, W36): every problem at once, each by its field; what
/// approval names maps back to the page's field.
@Suite struct CaseActRulesTests {
    @Test("a review needs its conclusion and an opinion; both missing are both named")
    func signing() throws {
        guard case .failure(let errors) = SigningForm.validate(["opinion": "  "]) else { Issue.record("empty review accepted"); return }
        #expect(Set(errors.errors.keys) == [CaseAct.conclusionField, CaseAct.opinionField])
        let long = String(repeating: "审", count: CaseActLimits.maximumTextCharacters + 1)
        guard case .failure(let tooLong) = SigningForm.validate(["conclusion": "grant", "opinion": long]) else { Issue.record("2,001 characters accepted"); return }
        #expect(tooLong.errors[CaseAct.opinionField]?.contains("2000") == true)
        let valid = try SigningForm.validate(["conclusion": "deny", "opinion": " 经核查，\r\n场所不符合 "]).get()
        #expect(valid.conclusion == .deny && valid.opinion == "经核查，\n场所不符合")
    }

    @Test("a decision: a grant needs its scope and a real date; a denial at least one reason; the outcome must be chosen")
    func decision() throws {
        guard case .failure(let none) = DecisionForm.validate([:]) else { Issue.record("no outcome accepted"); return }
        #expect(Set(none.errors.keys) == [CaseAct.outcomeField])
        guard case .failure(let grant) = DecisionForm.validate(["outcome": "grant", "valid_until": "2031-02-30"]) else { Issue.record("grant without scope accepted"); return }
        #expect(Set(grant.errors.keys) == [CaseAct.scopeField, CaseAct.validUntilField])
        guard case .failure(let deny) = DecisionForm.validate(["outcome": "deny", "reasons": "\n \n"]) else { Issue.record("denial without reasons accepted"); return }
        #expect(Set(deny.errors.keys) == [CaseAct.reasonsField])
        guard case .deny(let reasons, _, _) = try DecisionForm.validate(["outcome": "deny", "reasons": "场所面积不足\n无消防验收"]).get() else { Issue.record("denial lost"); return }
        #expect(reasons == ["场所面积不足", "无消防验收"])
        guard case .grant(let scope, _, let conditions, let until) = try DecisionForm.validate(["outcome": "grant", "scope": "预包装食品销售", "conditions": "", "valid_until": "2031-12-31"]).get() else { Issue.record("grant lost"); return }
        #expect(scope == "预包装食品销售" && conditions.isEmpty && until?.year == 2031 && until?.month == 12 && until?.day == 31)
    }

    @Test("a sole officer's decision on the spot: the review opinion is checked with the decision, every error at once")
    func decisionOnTheSpot() throws {
        guard case .failure(let both) = DecisionForm.validateOnTheSpot(["outcome": "grant", "review_opinion": " \n "]) else { Issue.record("no opinion accepted"); return }
        #expect(Set(both.errors.keys) == [CaseAct.reviewOpinionField, CaseAct.scopeField])
        guard case .failure(let opinion) = DecisionForm.validateOnTheSpot(["outcome": "grant", "scope": "预包装食品销售"]) else { Issue.record("missing opinion accepted"); return }
        #expect(Set(opinion.errors.keys) == [CaseAct.reviewOpinionField] && opinion.values["scope"] == "预包装食品销售")
        let (form, text) = try DecisionForm.validateOnTheSpot(["outcome": "grant", "scope": "预包装食品销售", "review_opinion": " 经审查，材料齐全，符合规定 \r\n"]).get()
        #expect(text == "经审查，材料齐全，符合规定")
        guard case .grant(let scope, _, _, _) = form else { Issue.record("grant lost"); return }
        #expect(scope == "预包装食品销售")
        #expect(CaseAct.decision.field(forService: "opinion") == CaseAct.reviewOpinionField)
    }

    @Test("suspension, resumption and extension: procedure, days in range, the texts")
    func clock() throws {
        guard case .failure(let suspend) = SuspendForm.validate(["procedure": "hearing", "expected_days": "0"]) else { Issue.record("bad suspension accepted"); return }
        #expect(Set(suspend.errors.keys) == [CaseAct.procedureField, CaseAct.expectedDaysField, CaseAct.noticeTextField], "a hearing is its own procedure (W36), not a suspension form choice")
        #expect(try SuspendForm.validate(["procedure": "expert_review", "expected_days": "10", "notice_text": "组织专家评审，预计10个工作日"]).get().expectedDays == 10)
        guard case .failure(let resume) = ResumeForm.validate([:]) else { Issue.record("resume without result accepted"); return }
        #expect(Set(resume.errors.keys) == [CaseAct.resultField])
        guard case .failure(let extend) = ExtensionForm.validate(["extension_days": "16"]) else { Issue.record("16 days accepted"); return }
        #expect(Set(extend.errors.keys) == [CaseAct.extensionDaysField, CaseAct.extensionReasonField])
        #expect(try ExtensionForm.validate(["extension_days": "", "extension_reason": "需补充现场核查"]).get().days == 0)
    }

    @Test("approval's field paths land on the page's fields")
    func servicePaths() {
        #expect(CaseAct.review.field(forService: "opinion") == CaseAct.opinionField)
        #expect(CaseAct.decision.field(forService: "grant.scope") == CaseAct.scopeField)
        #expect(CaseAct.decision.field(forService: "denial.reasons[1]") == CaseAct.reasonsField)
        #expect(CaseAct.suspend.field(forService: "reason") == CaseAct.procedureField)
        #expect(CaseAct.extension.field(forService: "reason") == CaseAct.extensionReasonField)
        #expect(CaseAct.review.field(forService: "expected_revision") == nil)
    }

    @Test("会审: place, conclusion, resolution and enough participants; empty rows left out, filled rows keep their numbers; a future meeting refused")
    func jointReview() throws {
        let now = Date(timeIntervalSince1970: 1_796_342_400)  // 2026-12-04 00:00 UTC
        guard case .failure(let empty) = JointReviewForm.validate([:], minimumParticipants: 2, now: now) else { Issue.record("empty meeting accepted"); return }
        #expect(Set(empty.errors.keys) == [JointReviewForm.locationField, JointReviewForm.conclusionField, JointReviewForm.outcomeField, JointReviewForm.participantsField])
        var fields: [String: String] = [
            "jr_location": "局三楼会议室", "jr_conclusion": "经会审，申请符合条件", "jr_outcome": "grant", "jr_held_at": "2026-12-04T07:30",
            "jr_subject_1": "K01", "jr_title_1": "食品科科长", "jr_vote_1": "agree", "jr_opinion_1": "材料齐全，现场核查符合",
            // Row 2 left empty; row 3 filled.
            "jr_subject_3": "K02", "jr_name_3": "钱七", "jr_title_3": "食品科副科长", "jr_vote_3": "disagree", "jr_opinion_3": "仓储面积需复核",
        ]
        let valid = try JointReviewForm.validate(fields, minimumParticipants: 2, now: now).get()
        #expect(valid.participants.map(\.row) == [1, 3] && valid.participants[1].vote == .disagree && valid.outcome == .grant)
        // 07:30 in Beijing is 23:30 UTC the day before.
        #expect(valid.heldAt == Date(timeIntervalSince1970: 1_796_342_400 - 1_800))
        // Collective: three needed; the same person twice; a meeting in the future; a bad time.
        guard case .failure(let three) = JointReviewForm.validate(fields, minimumParticipants: 3, now: now) else { Issue.record("two at a collective meeting accepted"); return }
        #expect(three.errors[JointReviewForm.participantsField]?.contains("3") == true)
        fields["jr_subject_3"] = "K01"
        fields["jr_held_at"] = "2026-12-04T09:30"
        guard case .failure(let twice) = JointReviewForm.validate(fields, minimumParticipants: 2, now: now) else { Issue.record("duplicate accepted"); return }
        #expect(Set(twice.errors.keys) == [JointReviewForm.field("subject", row: 3), JointReviewForm.heldAtField])
        fields["jr_held_at"] = "2026-12-04 07:30"
        fields["jr_subject_3"] = "K02"
        fields["jr_vote_3"] = "maybe"
        guard case .failure(let shape) = JointReviewForm.validate(fields, minimumParticipants: 2, now: now) else { Issue.record("bad time accepted"); return }
        #expect(Set(shape.errors.keys) == [JointReviewForm.heldAtField, JointReviewForm.field("vote", row: 3)])
        // Approval's k-th opinion is shown at the row it came from.
        #expect(JointReviewForm.field(forService: "review.opinions[1].opinion", rows: [1, 3]) == "jr_opinion_3")
        #expect(JointReviewForm.field(forService: "review.opinions", rows: [1, 3]) == JointReviewForm.participantsField)
        #expect(CaseAct.jointReview.field(forService: "review.location") == JointReviewForm.locationField)
    }

    @Test("改派 a returned push: at least one department, codes checked, each once, the reason required")
    func reroute() throws {
        guard case .failure(let none) = RerouteForm.validate("reroute_reason=") else { Issue.record("nothing chosen accepted"); return }
        #expect(Set(none.errors.keys) == [RerouteForm.departmentsField, RerouteForm.reasonField])
        guard case .failure(let bad) = RerouteForm.validate("departments=SC%2001&reroute_reason=%E8%81%8C%E8%B4%A3") else { Issue.record("bad code accepted"); return }
        #expect(Set(bad.errors.keys) == [RerouteForm.departmentsField])
        let valid = try RerouteForm.validate("departments=SJ-01&departments=WS-02&departments=SJ-01&reroute_reason=%E6%8C%89%E8%BE%B9%E7%95%8C%E6%B8%85%E5%8D%95&update_boundary=on").get()
        #expect(valid.departments == ["SJ-01", "WS-02"] && valid.updateBoundary && valid.reason == "按边界清单")
        let many = (1...11).map { "departments=D\($0)" }.joined(separator: "&") + "&reroute_reason=x"
        guard case .failure(let tooMany) = RerouteForm.validate(many) else { Issue.record("eleven departments accepted"); return }
        #expect(tooMany.errors[RerouteForm.departmentsField]?.contains("10") == true)
    }
}
