import Foundation
import OneSealCore
import OneSealProto
import OneSealServiceKit
import SwiftProtobuf
import WebRules

/// The back office's case page (#19 screen 2): the case as approval has it, the application as intake
/// has it, each material, the chain, the clock, the decision, the audit entries, and the forms of
/// the acts this person's post may do on the case in its present state. Every warning in words.
enum CasePage {
    struct View: Sendable {
        var theCase: Approval_Case
        var application: Intake_Application?
        var audit: [Approval_AuditEntry]
    }

    /// The forms the page offers `staff` on `item` now: the act's post (`StaffCaseHandlers.allowed`)
    /// and the case's state. Approval still decides; this only leaves out what cannot succeed.
    static func offered(_ act: CaseAct, _ item: Approval_Case, _ staff: StaffStore.Staff) -> Bool {
        guard StaffCaseHandlers.allowed(act, staff.role), let role = StaffHandlers.approvalRole(staff.role) else { return false }
        let open = item.status == .inProgress || item.status == .suspended
        switch act {
        case .review: return item.status == .inProgress && !item.awaitingDecision && item.nextRole == .officer
        case .signOff: return item.status == .inProgress && !item.awaitingDecision && item.nextRole == role && role != .officer
        case .decision: return item.status == .inProgress && item.nextRole == role && (item.awaitingDecision || decidesOnTheSpot(item))
        case .suspend: return item.status == .inProgress
        case .resume: return item.status == .suspended
        case .extension: return open && !item.hasExtension
        case .returnStep: return item.status == .inProgress && !item.awaitingDecision && item.nextRole == role && !returnTargets(item).isEmpty
        case .reassign: return open
        case .jointReview:
            guard item.status == .inProgress, !item.hasDecision else { return false }
            switch item.item.tier {
            case .section: return role == .sectionChief
            case .deputy: return role == .deputyDirector || role == .director
            case .collective: return role == .director && item.nextRole == .collectiveMeeting
            default: return false
            }
        }
    }

    /// A sole-approval case whose officer has not reviewed it yet: the officer may review and decide
    /// in one act (独任审批 on the spot, decision 72), so the decision form asks for the opinion too.
    static func decidesOnTheSpot(_ item: Approval_Case) -> Bool {
        item.item.tier == .sole && item.status == .inProgress && !item.awaitingDecision && item.nextRole == .officer
    }

    /// The meeting an item's tier calls for (approval's `JointReviewKind.required(for:)`).
    static func jointReviewKind(_ tier: Common_ApprovalTier) -> Approval_JointReviewKind {
        switch tier {
        case .section: .section
        case .deputy: .deputy
        case .collective: .collective
        default: .unspecified
        }
    }

    static func jointReviewText(_ kind: Approval_JointReviewKind) -> String {
        switch kind {
        case .section: "科室会审"
        case .deputy: "分管负责人召集相关科室会审"
        case .collective: "集体研究"
        default: "会审"
        }
    }

    static func voteText(_ vote: Approval_Vote) -> String {
        switch vote {
        case .agree: "同意"
        case .disagree: "不同意"
        case .abstain: "弃权"
        default: "—"
        }
    }

    /// The completed steps a signer may send the case back to (a fresh step of that role follows).
    static func returnTargets(_ item: Approval_Case) -> [(index: Int, label: String)] {
        item.steps.enumerated().filter { $0.element.status == .completed }.map { ($0.offset, "\(roleText($0.element.role))（\(who($0.element.completedBy))）") }
    }

    /// Whether `act` is already in `item`, done by `subject`: a repeated submission of the same form.
    static func alreadyDone(_ act: CaseAct, _ item: Approval_Case, by subject: String, step stepID: String) -> Bool {
        switch act {
        case .review, .signOff:
            return item.steps.contains { $0.stepID == stepID && $0.status == .completed && $0.completedBy.subject == subject }
        case .decision:
            return item.hasDecision && item.decision.decidedBy.subject == subject
        case .suspend:
            return item.status == .suspended && item.suspensions.last?.suspendedBy.subject == subject
        case .resume:
            guard let last = item.suspensions.last else { return false }
            return last.hasResumedOn && last.resumedBy.subject == subject
        case .extension:
            return item.hasExtension && item.extension.approvedBy.subject == subject
        case .returnStep:
            // A return leaves nothing that names its author on the case: a repeat is told the case changed.
            return false
        case .reassign:
            let active = item.currentStepIndex >= 0 && Int(item.currentStepIndex) < item.steps.count ? item.steps[Int(item.currentStepIndex)] : nil
            return active?.assignee.subject == subject
        case .jointReview:
            // Approval answers a repeat of the same form (its key) with the case as it is.
            return item.jointReviews.contains { $0.convenedBy.subject == subject }
        }
    }

    static func violationText(_ violation: Common_FieldViolation) -> String {
        if violation.reason == "required" { return "必填。\(violation.description_p)" }
        if violation.reason.contains("vague") || violation.reason.contains("short") {
            return "不够具体：请写明核查了什么、发现了什么、依据哪条规定。（\(violation.description_p)）"
        }
        return violation.description_p
    }

    // MARK: Words

    static func roleText(_ role: Approval_ApprovalRole) -> String {
        switch role {
        case .officer: "承办人"
        case .sectionChief: "科室负责人"
        case .deputyDirector: "分管负责人"
        case .director: "主要负责人"
        case .collectiveMeeting: "集体研究"
        default: "—"
        }
    }

    static func tierText(_ tier: Common_ApprovalTier) -> String {
        switch tier {
        case .sole: "独任审批"
        case .section: "科室负责人审批"
        case .deputy: "分管负责人审批"
        case .collective: "集体研究"
        default: "—"
        }
    }

    static func statusText(_ status: Approval_CaseStatus) -> String {
        switch status {
        case .inProgress: "审批中"
        case .suspended: "中止计时"
        case .granted: "准予许可"
        case .denied: "不予许可"
        case .withdrawn: "申请人撤回"
        case .revoked: "已撤销"
        case .cancelled: "已注销"
        default: "—"
        }
    }

    static func stepStatusText(_ status: Approval_StepStatus) -> String {
        switch status {
        case .pending: "未到"
        case .active: "办理中"
        case .completed: "已签署"
        case .returned: "已退回"
        default: "—"
        }
    }

    static func conclusionText(_ conclusion: Approval_StepConclusion) -> String {
        switch conclusion {
        case .proposeGrant: "同意"
        case .proposeDeny: "不同意"
        default: ""
        }
    }

    /// The procedure's name as the written notices give it (`SuspensionReason.chineseName`).
    static func procedureText(_ procedure: Common_SpecialProcedure) -> String {
        SuspensionReason(proto: procedure)?.chineseName ?? "—"
    }

    static func time(_ timestamp: Google_Protobuf_Timestamp) -> String {
        ProgressPage.beijing(timestamp.date)
    }

    static func date(_ date: Common_CivilDate) -> String { VerifyPage.date(date) }

    static func who(_ actor: Common_ActorRef) -> String {
        guard !actor.subject.isEmpty else { return "—" }
        return actor.name.isEmpty ? HTML.escape(actor.subject) : "\(HTML.escape(actor.name))（\(HTML.escape(actor.subject))）"
    }

    static func document(_ document: Common_IssuedDocument) -> String {
        guard !document.number.isEmpty || !document.title.isEmpty else { return "" }
        return "\(HTML.escape(document.title)) <strong class=\"notice-number\">\(HTML.escape(document.number))</strong>"
    }

    /// What the page says after an act went through, with the written notice's number.
    static func doneText(_ act: CaseAct, _ item: Approval_Case) -> String {
        switch act {
        case .review: return "审查意见已签署，办件已转下一环节（\(roleText(item.nextRole))）。"
        case .signOff: return item.awaitingDecision ? "审核意见已签署，办件待作出决定。" : "审核意见已签署，办件已转下一环节（\(roleText(item.nextRole))）。"
        case .decision:
            let document = item.decision.document
            return "决定已作出：\(item.status == .granted ? "准予许可" : "不予许可")。决定书 \(document.number)"
        case .suspend:
            return "已中止计时。告知书 \(item.suspensions.last?.notice.number ?? "")"
        case .resume:
            return "已恢复计时。"
        case .extension:
            return "已延长审批期限\(item.extension.extensionDays)个工作日。告知书 \(item.extension.notice.number)"
        case .returnStep:
            return "已退回重办，办件转至\(roleText(item.nextRole))。"
        case .reassign:
            return "已改派。"
        case .jointReview:
            return "\(jointReviewText(item.jointReviews.last?.kind ?? .unspecified))记录已保存（\(item.jointReviews.count)次会审）。"
        }
    }

    // MARK: The page

    static func render(
        layout: Layout, csrf token: String, staff: StaffStore.Staff, view: View, done: CaseAct?,
        failed: (act: CaseAct, errors: FormErrors?, formError: String?)? = nil, key: String? = nil
    ) -> String {
        let item = view.theCase
        let base = "/staff/cases/\(item.caseID)"
        let deadline = item.deadline
        let doneBanner = done.map { "<section class=\"verdict ok\" role=\"status\" id=\"act-done\"><p class=\"big\">\(HTML.escape(doneText($0, item)))</p></section>" } ?? ""
        let failedBanner = failed.map { _ in "<section class=\"verdict bad\" role=\"alert\" id=\"form-error\"><p>未办理，请按提示修改（见下方表单）。</p></section>" } ?? ""

        // The summary.
        var summary = """
        <dl class="summary">
        <dt>事项</dt><dd>\(HTML.escape(item.item.name))（\(HTML.escape(item.item.implementationCode))）</dd>
        <dt>审批层级</dt><dd>\(tierText(item.item.tier))</dd>
        <dt>状态</dt><dd id="case-status">\(statusText(item.status))</dd>
        <dt>受理日期</dt><dd>\(item.hasAcceptedOn ? date(item.acceptedOn) : "—")</dd>
        <dt>办结期限</dt><dd>\(deadline.hasDueOn ? date(deadline.dueOn) : "—") · \(StaffPages.warning(deadline))</dd>
        <dt>法定期限</dt><dd>\(item.statutoryDeadline.hasDueOn ? date(item.statutoryDeadline.dueOn) : "—")</dd>
        <dt>当前环节</dt><dd id="next-role">\(item.awaitingDecision ? "待\(roleText(item.nextRole))作出决定" : roleText(item.nextRole))</dd>
        <dt>申请编号</dt><dd>\(HTML.escape(item.applicationNumber))</dd>
        """
        if item.hasLicence { summary += "<dt>证照</dt><dd>\(HTML.escape(item.licence.licenceNumber))</dd>" }
        summary += "</dl>"

        // The application.
        let applicant = view.application?.applicant ?? item.applicant
        var applicationSection = """
        <dl class="summary">
        <dt>申请人</dt><dd>\(HTML.escape(applicant.name))</dd>
        <dt>证件号码</dt><dd>\(HTML.escape(applicant.idNumber))</dd>
        \(applicant.legalRepresentative.isEmpty ? "" : "<dt>法定代表人</dt><dd>\(HTML.escape(applicant.legalRepresentative))</dd>")
        \(applicant.contactName.isEmpty ? "" : "<dt>联系人</dt><dd>\(HTML.escape(applicant.contactName)) \(HTML.escape(applicant.contactPhone))</dd>")
        \(applicant.address.isEmpty ? "" : "<dt>地址</dt><dd>\(HTML.escape(applicant.address))</dd>")
        """
        if let application = view.application {
            applicationSection += "<dt>提交日期</dt><dd>\(application.hasSubmittedOn ? date(application.submittedOn) : "—")</dd>"
            if !application.windowID.isEmpty { applicationSection += "<dt>受理窗口</dt><dd>\(HTML.escape(application.windowID))号窗口</dd>" }
        }
        applicationSection += "</dl>"
        if view.application == nil { applicationSection += "<p>本站受理服务未提供申请详情（如下级转报的办件），以下材料取自审批案卷。</p>" }
        if !item.firstReviewOpinion.isEmpty { applicationSection += "<p>初审意见：\(HTML.escape(item.firstReviewOpinion))</p>" }

        // The materials, each opened inline by the browser (PDF viewer, image).
        let materialRows = item.materials.map { material -> String in
            let view: String
            if !material.fileID.isEmpty {
                view = "<a href=\"\(base)/materials/\(HTML.escape(material.fileID))\" target=\"_blank\" rel=\"noopener\">查看（\(HTML.escape(material.name))）</a>"
            } else if material.hasElectronicLicence {
                view = "电子证照 \(HTML.escape(material.electronicLicence.licenceNumber))\(material.licenceVerified ? "（已核验）" : "（未通过核验）")"
            } else {
                view = "纸质材料"
            }
            return "<tr><td>\(HTML.escape(material.requirementCode))</td><td>\(HTML.escape(material.name))</td><td>\(HTML.escape(material.form))</td><td>\(view)</td></tr>"
        }.joined(separator: "\n")
        let materials = item.materials.isEmpty ? "<p>无材料。</p>" : """
        <table><thead><tr><th scope="col">编号</th><th scope="col">材料</th><th scope="col">形式</th><th scope="col">查看</th></tr></thead>
        <tbody>\(materialRows)</tbody></table>
        """

        // The chain.
        let stepRows = item.steps.map { step in
            """
            <tr data-step="\(HTML.escape(step.stepID))"><td>\(step.index + 1)</td><td>\(roleText(step.role))</td><td>\(stepStatusText(step.status))</td>\
            <td>\(step.status == .completed ? who(step.completedBy) : who(step.assignee))</td><td>\(conclusionText(step.conclusion))</td>\
            <td>\(HTML.escape(step.opinion))</td><td>\(step.hasCompletedAt ? time(step.completedAt) : "")</td></tr>
            """
        }.joined(separator: "\n")
        let chain = """
        <table><thead><tr><th scope="col">序</th><th scope="col">环节</th><th scope="col">状态</th><th scope="col">办理人</th><th scope="col">结论</th><th scope="col">意见</th><th scope="col">时间</th></tr></thead>
        <tbody>\(stepRows)</tbody></table>
        """

        // The clock and the decision: what the applicant was told in writing.
        var history: [String] = []
        for suspension in item.suspensions {
            history.append("<li>\(date(suspension.suspendedOn)) 中止计时（\(procedureText(suspension.reason))，预计\(suspension.expectedDays)个工作日），\(who(suspension.suspendedBy))。\(document(suspension.notice))"
                + (suspension.hasResumedOn ? "；\(date(suspension.resumedOn)) 恢复计时，结果：\(HTML.escape(suspension.result))" : "") + "</li>")
        }
        if item.hasExtension {
            history.append("<li>\(date(item.extension.approvedOn)) 延长\(item.extension.extensionDays)个工作日，\(who(item.extension.approvedBy))批准，理由：\(HTML.escape(item.extension.reason))。\(document(item.extension.notice))</li>")
        }
        if item.hasDecision {
            let decision = item.decision
            var text = "<li>\(date(decision.decidedOn)) \(statusText(item.status == .granted || item.status == .denied ? item.status : .granted))，\(who(decision.decidedBy))。\(document(decision.document))"
            switch decision.outcome {
            case .grant(let grant)?: text += " 许可范围：\(HTML.escape(grant.scope))"
            case .denial(let denial)?: text += " 理由：\(HTML.escape(denial.reasons.joined(separator: "；")))"
            case nil: break
            }
            history.append(text + "</li>")
        }
        let clock = history.isEmpty ? "<p>无中止、延期或决定。</p>" : "<ul>\(history.joined(separator: "\n"))</ul>"

        // The meetings (会审), each with every participant's vote and opinion.
        let meetings = item.jointReviews.map { review -> String in
            let opinions = review.opinions.map { opinion in
                "<tr><td>\(who(opinion.participant))</td><td>\(HTML.escape(opinion.title))</td><td>\(voteText(opinion.vote))</td><td>\(HTML.escape(opinion.opinion))</td></tr>"
            }.joined(separator: "\n")
            return """
            <article class="joint-review" data-review="\(HTML.escape(review.jointReviewID))">
            <h3>\(jointReviewText(review.kind))（\(time(review.heldAt))，\(HTML.escape(review.location))，\(who(review.convenedBy))召集）</h3>
            <table><thead><tr><th scope="col">参会人</th><th scope="col">职务</th><th scope="col">表决</th><th scope="col">意见</th></tr></thead><tbody>\(opinions)</tbody></table>
            <p>会议结论：\(HTML.escape(review.conclusion))（决议：\(review.outcome == .proposeGrant ? "拟准予许可" : "拟不予许可")）</p>
            </article>
            """
        }.joined(separator: "\n")

        // The audit entries approval exposes.
        let auditRows = view.audit.map { entry in
            "<tr><td>\(entry.sequence)</td><td>\(time(entry.at))</td><td>\(HTML.escape(entry.action))</td><td>\(who(entry.actor))</td><td><code>\(HTML.escape(String(entry.detailsJson.prefix(300))).replacingOccurrences(of: ",", with: ",<wbr>"))</code></td></tr>"
        }.joined(separator: "\n")
        let audit = view.audit.isEmpty ? "<p>无记录。</p>" : """
        <table><thead><tr><th scope="col">序号</th><th scope="col">时间</th><th scope="col">动作</th><th scope="col">办理人</th><th scope="col">内容</th></tr></thead>
        <tbody>\(auditRows)</tbody></table>
        """

        // The forms.
        let forms = CaseAct.allCases.filter { offered($0, item, staff) }.map { act in
            form(act, item: item, base: base, csrf: token, key: (failed?.act == act ? key : nil) ?? SessionID.generate().text,
                 errors: failed?.act == act ? failed?.errors : nil, formError: failed?.act == act ? failed?.formError : nil)
        }.joined(separator: "\n")

        let body = """
        <h1>办件 \(HTML.escape(item.caseNumber))</h1>
        <p>\(HTML.escape(staff.displayName))（\(HTML.escape(staff.role.label))）· <a href="/staff/cases">我的待办</a> · <a href="/staff">工作台</a></p>
        \(doneBanner)\(failedBanner)
        <section class="card" aria-labelledby="case-heading"><h2 id="case-heading">办件概况</h2>\(summary)</section>
        \(forms.isEmpty ? "" : "<section class=\"card\" aria-labelledby=\"acts-heading\"><h2 id=\"acts-heading\">办理</h2>\(forms)</section>")
        <section class="card" aria-labelledby="application-heading"><h2 id="application-heading">申请</h2>\(applicationSection)</section>
        <section class="card" aria-labelledby="materials-heading"><h2 id="materials-heading">申请材料</h2>\(materials)</section>
        <section class="card" aria-labelledby="chain-heading"><h2 id="chain-heading">审批环节</h2>\(chain)</section>
        \(meetings.isEmpty ? "" : "<section class=\"card\" aria-labelledby=\"meetings-heading\"><h2 id=\"meetings-heading\">会审记录</h2>\(meetings)</section>")
        <section class="card" aria-labelledby="clock-heading"><h2 id="clock-heading">计时与决定</h2>\(clock)</section>
        <section class="card" aria-labelledby="audit-heading"><h2 id="audit-heading">审计记录</h2>\(audit)</section>
        """
        return layout.page(title: "办件 \(item.caseNumber)", body: body)
    }

    // MARK: Forms

    static func textArea(_ name: String, label: String, hint: String?, errors: FormErrors?, rows: Int = 4) -> String {
        let error = errors?.errors[name]
        let value = errors?.values[name] ?? ""
        let describedBy = [hint == nil ? nil : "\(name)-hint", error == nil ? nil : "\(name)-error"].compactMap { $0 }.joined(separator: " ")
        return """
        <label for="\(name)">\(label)</label>
        \(hint.map { "<p class=\"hint\" id=\"\(name)-hint\">\(HTML.escape($0))</p>" } ?? "")
        <textarea id="\(name)" name="\(name)" rows="\(rows)" maxlength="\(CaseActLimits.maximumTextCharacters)"\(describedBy.isEmpty ? "" : " aria-describedby=\"\(describedBy)\"")\(error == nil ? "" : " aria-invalid=\"true\"")>\(HTML.escape(value))</textarea>
        \(error.map { "<p class=\"field-error\" id=\"\(name)-error\" role=\"alert\">\(HTML.escape($0))</p>" } ?? "")
        """
    }

    static func radios(_ name: String, legend: String, options: [(String, String)], errors: FormErrors?) -> String {
        let error = errors?.errors[name]
        let chosen = errors?.values[name] ?? ""
        let inputs = options.map { value, label in
            "<label><input type=\"radio\" name=\"\(name)\" value=\"\(value)\"\(chosen == value ? " checked" : "")> \(label)</label>"
        }.joined(separator: " ")
        return """
        <fieldset\(error == nil ? "" : " aria-describedby=\"\(name)-error\"")><legend>\(legend)</legend>\(inputs)
        \(error.map { "<p class=\"field-error\" id=\"\(name)-error\" role=\"alert\">\(HTML.escape($0))</p>" } ?? "")</fieldset>
        """
    }

    static func form(_ act: CaseAct, item: Approval_Case, base: String, csrf token: String, key: String, errors: FormErrors?, formError: String?) -> String {
        let active = item.currentStepIndex >= 0 && Int(item.currentStepIndex) < item.steps.count ? item.steps[Int(item.currentStepIndex)] : nil
        let hidden = """
        \(AccountPages.csrf(token))
        <input type="hidden" name="\(CaseAct.keyField)" value="\(HTML.escape(key))">
        <input type="hidden" name="\(CaseAct.revisionField)" value="\(item.revision)">
        <input type="hidden" name="\(CaseAct.stepField)" value="\(HTML.escape(active?.stepID ?? ""))">
        """
        let problem = formError.map { "<p class=\"field-error\" role=\"alert\" id=\"\(act.rawValue)-error\">\(HTML.escape($0))</p>" } ?? ""
        let conclusions = [("grant", "拟同意（准予许可）"), ("deny", "拟不同意（不予许可）")]
        let parts: (String, String, String)
        switch act {
        case .review:
            parts = ("承办审查意见", radios(CaseAct.conclusionField, legend: "审查结论", options: conclusions, errors: errors)
                + textArea(CaseAct.opinionField, label: "审查意见", hint: "写明核查的事实、审查的材料和依据的规定", errors: errors), "签署审查意见")
        case .signOff:
            parts = ("\(roleText(item.nextRole))审核意见", radios(CaseAct.conclusionField, legend: "审核结论", options: [("grant", "同意"), ("deny", "不同意")], errors: errors)
                + textArea(CaseAct.opinionField, label: "审核意见", hint: "对承办人审查意见的具体意见", errors: errors), "签署审核意见")
        case .decision:
            let onTheSpot = decidesOnTheSpot(item)
                ? [textArea(CaseAct.reviewOpinionField, label: "审查意见（独任审批：审查并当场作出决定）", hint: "写明核查的事实、审查的材料和依据的规定", errors: errors)] : []
            let decisionFields: [String] = onTheSpot + [
                radios(CaseAct.outcomeField, legend: "决定", options: [("grant", "准予许可"), ("deny", "不予许可")], errors: errors),
                "<fieldset><legend>准予许可时填写</legend>",
                textArea(CaseAct.scopeField, label: "许可范围", hint: "印在证照上，如“预包装食品销售”", errors: errors, rows: 2),
                AccountPages.field(CaseAct.placeField, label: "场所（经营场所/生产地址）", hint: nil, errors: errors, maxLength: CaseActLimits.maximumLineCharacters, autocomplete: "off"),
                textArea(CaseAct.conditionsField, label: "附加条件（每行一条，可空）", hint: nil, errors: errors, rows: 2),
                AccountPages.field(CaseAct.validUntilField, label: "有效期截止（年-月-日，长期有效留空）", hint: nil, errors: errors, maxLength: 10, autocomplete: "off"),
                "</fieldset><fieldset><legend>不予许可时填写</legend>",
                textArea(CaseAct.reasonsField, label: "不予许可的理由（每行一条）", hint: "每条理由写明事实", errors: errors, rows: 3),
                AccountPages.field(CaseAct.legalBasisField, label: "法律依据", hint: nil, errors: errors, maxLength: CaseActLimits.maximumLineCharacters, autocomplete: "off"),
                textArea(CaseAct.appealRightsField, label: "救济途径告知（可空：按本局默认文本）", hint: "申请行政复议（60日内）或提起行政诉讼（6个月内）的机关和法院", errors: errors, rows: 2),
                "</fieldset>",
            ]
            parts = ("作出决定", decisionFields.joined(separator: "\n"), "作出决定")
        case .suspend:
            let chosen = errors?.values[CaseAct.procedureField] ?? ""
            let options = SuspendForm.procedures.map { "<option value=\"\($0.value)\"\(chosen == $0.value ? " selected" : "")>\($0.label)</option>" }.joined()
            let error = errors?.errors[CaseAct.procedureField]
            parts = ("中止计时（特别程序）", """
                <label for="\(CaseAct.procedureField)">特别程序</label>
                <select id="\(CaseAct.procedureField)" name="\(CaseAct.procedureField)"\(error == nil ? "" : " aria-invalid=\"true\" aria-describedby=\"\(CaseAct.procedureField)-error\"")><option value="">请选择</option>\(options)</select>
                \(error.map { "<p class=\"field-error\" id=\"\(CaseAct.procedureField)-error\" role=\"alert\">\(HTML.escape($0))</p>" } ?? "")
                """
                + AccountPages.field(CaseAct.expectedDaysField, label: "预计所需工作日", hint: nil, errors: errors, maxLength: 3, autocomplete: "off", mode: "numeric")
                + textArea(CaseAct.noticeTextField, label: "告知申请人的内容", hint: "什么程序、为什么、需要多长时间（行政许可法第45条）", errors: errors), "中止计时并出具告知书")
        case .resume:
            parts = ("恢复计时", textArea(CaseAct.resultField, label: "特别程序的结果", hint: "如专家评审结论、检测报告结论", errors: errors), "恢复计时")
        case .returnStep:
            let chosen = errors?.values[CaseAct.targetStepField] ?? ""
            let options = returnTargets(item).map { "<option value=\"\($0.index)\"\(chosen == String($0.index) ? " selected" : "")>\(HTML.escape($0.label))</option>" }.joined()
            let error = errors?.errors[CaseAct.targetStepField]
            parts = ("退回重办", """
                <label for="\(CaseAct.targetStepField)">退回到</label>
                <select id="\(CaseAct.targetStepField)" name="\(CaseAct.targetStepField)"\(error == nil ? "" : " aria-invalid=\"true\" aria-describedby=\"\(CaseAct.targetStepField)-error\"")><option value="">请选择</option>\(options)</select>
                \(error.map { "<p class=\"field-error\" id=\"\(CaseAct.targetStepField)-error\" role=\"alert\">\(HTML.escape($0))</p>" } ?? "")
                """ + textArea(CaseAct.returnReasonField, label: "退回理由", hint: "需重新核查或补充的内容", errors: errors), "退回")
        case .reassign:
            parts = ("改派当前环节", AccountPages.field(CaseAct.assigneeField, label: "接办人工号", hint: nil, errors: errors, maxLength: StaffAccountDraft.maximumStaffNumberCharacters, autocomplete: "off")
                + textArea(CaseAct.reassignReasonField, label: "改派理由", hint: nil, errors: errors, rows: 2), "改派")
        case .jointReview:
            let minimum = item.item.tier == .collective ? 3 : 2
            let rows = (1...JointReviewForm.rows).map { row -> String in
                func cell(_ part: String, _ label: String, _ max: Int) -> String {
                    let name = JointReviewForm.field(part, row: row)
                    let error = errors?.errors[name]
                    return "<td><label class=\"visually-hidden\" for=\"\(name)\">第\(row)行\(label)</label><input id=\"\(name)\" name=\"\(name)\" maxlength=\"\(max)\" autocomplete=\"off\" value=\"\(HTML.escape(errors?.values[name] ?? ""))\"\(error == nil ? "" : " aria-invalid=\"true\" aria-describedby=\"\(name)-error\"")>\(error.map { "<p class=\"field-error\" id=\"\(name)-error\" role=\"alert\">\(HTML.escape($0))</p>" } ?? "")</td>"
                }
                let voteName = JointReviewForm.field("vote", row: row)
                let chosen = errors?.values[voteName] ?? ""
                let voteError = errors?.errors[voteName]
                let votes = JointReviewForm.Vote.allCases.map { "<option value=\"\($0.rawValue)\"\(chosen == $0.rawValue ? " selected" : "")>\($0.label)</option>" }.joined()
                let opinionName = JointReviewForm.field("opinion", row: row)
                let opinionError = errors?.errors[opinionName]
                return "<tr>" + cell("subject", "工号", StaffAccountDraft.maximumStaffNumberCharacters) + cell("name", "姓名", 40) + cell("title", "职务", 60)
                    + "<td><label class=\"visually-hidden\" for=\"\(voteName)\">第\(row)行表决</label><select id=\"\(voteName)\" name=\"\(voteName)\"\(voteError == nil ? "" : " aria-invalid=\"true\" aria-describedby=\"\(voteName)-error\"")><option value=\"\">—</option>\(votes)</select>\(voteError.map { "<p class=\"field-error\" id=\"\(voteName)-error\" role=\"alert\">\(HTML.escape($0))</p>" } ?? "")</td>"
                    + "<td><label class=\"visually-hidden\" for=\"\(opinionName)\">第\(row)行意见</label><textarea id=\"\(opinionName)\" name=\"\(opinionName)\" rows=\"2\" maxlength=\"\(CaseActLimits.maximumTextCharacters)\"\(opinionError == nil ? "" : " aria-invalid=\"true\" aria-describedby=\"\(opinionName)-error\"")>\(HTML.escape(errors?.values[opinionName] ?? ""))</textarea>\(opinionError.map { "<p class=\"field-error\" id=\"\(opinionName)-error\" role=\"alert\">\(HTML.escape($0))</p>" } ?? "")</td></tr>"
            }.joined(separator: "\n")
            let participantsError = errors?.errors[JointReviewForm.participantsField]
            parts = ("\(jointReviewText(jointReviewKind(item.item.tier)))记录", AccountPages.field(JointReviewForm.locationField, label: "会议地点", hint: nil, errors: errors, maxLength: CaseActLimits.maximumLineCharacters, autocomplete: "off")
                + AccountPages.field(JointReviewForm.heldAtField, label: "会议时间（年-月-日T时:分，留空为现在）", hint: nil, errors: errors, maxLength: 16, autocomplete: "off")
                + "<fieldset id=\"\(JointReviewForm.participantsField)\"\(participantsError == nil ? "" : " aria-describedby=\"\(JointReviewForm.participantsField)-error\"")><legend>参会人意见（至少\(minimum)位，空行不记）</legend>"
                + (participantsError.map { "<p class=\"field-error\" id=\"\(JointReviewForm.participantsField)-error\" role=\"alert\">\(HTML.escape($0))</p>" } ?? "")
                + "<table><thead><tr><th scope=\"col\">工号</th><th scope=\"col\">姓名</th><th scope=\"col\">职务</th><th scope=\"col\">表决</th><th scope=\"col\">发表意见</th></tr></thead><tbody>\(rows)</tbody></table></fieldset>"
                + textArea(JointReviewForm.conclusionField, label: "会议结论", hint: "会议对申请事项的审查结论和理由", errors: errors, rows: 3)
                + radios(JointReviewForm.outcomeField, legend: "决议", options: [("grant", "拟准予许可"), ("deny", "拟不予许可")], errors: errors), "保存会审记录")
        case .extension:
            parts = ("延长审批期限（仅一次）", AccountPages.field(CaseAct.extensionDaysField, label: "延长工作日数（留空为法定上限）", hint: nil, errors: errors, maxLength: 2, autocomplete: "off", mode: "numeric")
                + textArea(CaseAct.extensionReasonField, label: "延期理由（告知申请人）", hint: nil, errors: errors), "批准延期并出具告知书")
        }
        let (title, fields, button) = parts
        return """
        <form method="post" action="\(base)/\(act.path)" id="form-\(act.rawValue)" novalidate>
        <h3>\(title)</h3>
        \(problem)
        \(hidden)
        \(fields)
        <button type="submit">\(button)</button>
        </form>
        """
    }
}
