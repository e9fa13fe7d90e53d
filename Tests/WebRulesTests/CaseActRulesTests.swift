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
}
