import Foundation
import OneSealProto
import SwiftProtobuf
import WebRules

/// The department inbox's pages (#19 screen 3): the pushes with their claim deadlines (in words,
/// never by colour alone), one push with its pushed fields, the claim, and the findings sent back.
enum PushPages {
    static func refused(layout: Layout, staff: StaffStore.Staff) -> String {
        layout.page(title: "无权访问", body: """
        <h1>无权访问</h1>
        <section class="verdict bad" role="alert"><p>推送信息仅供行业主管部门的监管人员（已设部门代码的账户）使用，你的岗位是\(HTML.escape(staff.role.label))。</p></section>
        <p><a href="/staff">返回工作台</a></p>
        """)
    }

    static func kindText(_ kind: Supervision_PushKind) -> String {
        switch kind {
        case .grant: "准予许可"
        case .licence: "证照制发"
        case .change: "证照变更"
        case .revocation: "撤销许可"
        case .cancellation: "注销许可"
        case .commitment: "告知承诺（须核查承诺）"
        default: "—"
        }
    }

    static func statusText(_ status: Supervision_PushStatus) -> String {
        switch status {
        case .pending: "待认领"
        case .claimed: "已认领"
        case .rejected: "已退回"
        case .rerouted: "已改派"
        default: "—"
        }
    }

    /// The claim deadline in words: overdue, due today, days left.
    static func claimDeadline(_ push: Supervision_Push) -> String {
        let deadline = push.claimDeadline
        guard deadline.hasDueOn else { return "—" }
        let due = VerifyPage.date(deadline.dueOn)
        if push.status == .claimed { return "\(due)（\(push.claimedOnTime ? "按时认领" : "超期认领")）" }
        if deadline.overdue { return "\(due) <strong class=\"warning red\">超期\(deadline.overdueWorkingDays)个工作日</strong>" }
        if deadline.workingDaysLeft == 0 { return "\(due) <strong class=\"warning yellow\">今日到期</strong>" }
        return "\(due)（剩\(deadline.workingDaysLeft)个工作日）"
    }

    /// The pushes as a table; `selectable`: a box per row to tick for 认领所选, labelled by the case number.
    static func rows(_ pushes: [Supervision_Push], selectable: Bool = false) -> String {
        guard !pushes.isEmpty else { return "<p>暂无。</p>" }
        let rows = pushes.map { push in
            let id = HTML.escape(push.pushID)
            let box = selectable
                ? "<td><input type=\"checkbox\" name=\"\(PushForms.selectPrefix)\(id)\" id=\"\(PushForms.selectPrefix)\(id)\" aria-label=\"选择 \(HTML.escape(push.caseNumber)) \(kindText(push.kind))\"></td>" : ""
            return "<tr>\(box)<td><a href=\"/staff/pushes/\(id)\">\(HTML.escape(push.caseNumber))</a></td><td>\(HTML.escape(push.itemName))</td>"
                + "<td>\(kindText(push.kind))</td><td>\(HTML.escape(push.holder.name))</td><td>\(push.hasPushedAt ? ProgressPage.beijing(push.pushedAt.date) : "—")</td>"
                + "<td>\(claimDeadline(push))</td></tr>"
        }.joined(separator: "\n")
        return """
        <table><thead><tr>\(selectable ? "<th scope=\"col\">选择</th>" : "")<th scope="col">办件编号</th><th scope="col">事项</th><th scope="col">推送类型</th><th scope="col">持证主体</th><th scope="col">推送时间</th><th scope="col">认领期限</th></tr></thead>
        <tbody>\(rows)</tbody></table>
        """
    }

    /// The inbox: the pending pushes with a box each and one 认领所选 form (`ClaimPushes`), then
    /// the recently claimed ones.
    static func inbox(
        layout: Layout, csrf token: String, staff: StaffStore.Staff, pending: [Supervision_Push], claimed: [Supervision_Push],
        claimedCount: Int?, selectionError: String?
    ) -> String {
        let banner = claimedCount.map { "<section class=\"verdict ok\" role=\"status\" id=\"act-done\"><p class=\"big\">已认领\($0)条。</p></section>" } ?? ""
        let problem = selectionError.map { "<p class=\"field-error\" role=\"alert\" id=\"claim-selected-error\">\(HTML.escape($0))</p>" } ?? ""
        let selection = pending.isEmpty ? rows(pending) : """
            <form method="post" action="/staff/pushes/claim" id="form-claim-selected">
            \(AccountPages.csrf(token))
            \(problem)
            \(rows(pending, selectable: true))
            \(AccountPages.field(PushForms.noteField, label: "认领备注（可空，记入所选每一条）", hint: nil, errors: nil, maxLength: CaseActLimits.maximumLineCharacters, autocomplete: "off"))
            <button type="submit">认领所选</button>
            </form>
            """
        return layout.page(title: "推送信息", body: """
        <h1>推送信息（审管联动）</h1>
        <p>\(HTML.escape(staff.displayName))（部门 \(HTML.escape(staff.departmentCode ?? ""))）· <a href="/staff">工作台</a></p>
        \(banner)
        <section class="card"><h2>待认领（\(pending.count)）</h2>\(selection)</section>
        <section class="card"><h2>已认领（最近\(claimed.count)条）</h2>\(rows(claimed))</section>
        """)
    }

    static func push(
        layout: Layout, csrf token: String, staff: StaffStore.Staff, push: Supervision_Push, findings: [Supervision_Finding],
        done: String?, errors: FormErrors?, formError: String?, key: String?
    ) -> String {
        let base = "/staff/pushes/\(HTML.escape(push.pushID))"
        let banner: String
        switch done {
        case "claim"?: banner = "<section class=\"verdict ok\" role=\"status\" id=\"act-done\"><p class=\"big\">已认领。认领时间 \(push.hasClaimedAt ? ProgressPage.beijing(push.claimedAt.date) : "")</p></section>"
        case "finding"?: banner = "<section class=\"verdict ok\" role=\"status\" id=\"act-done\"><p class=\"big\">反馈已提交。</p></section>"
        case "reject"?: banner = "<section class=\"verdict ok\" role=\"status\" id=\"act-done\"><p class=\"big\">已退回，待审批局重新指派监管部门。</p></section>"
        default: banner = ""
        }
        let validity = (push.hasValidFrom ? VerifyPage.date(push.validFrom) : "—") + " 至 " + (push.hasValidUntil ? VerifyPage.date(push.validUntil) : "长期")
        let details = """
        <dl class="summary">
        <dt>状态</dt><dd id="push-status">\(statusText(push.status))</dd>
        <dt>推送类型</dt><dd>\(kindText(push.kind))</dd>
        <dt>事项</dt><dd>\(HTML.escape(push.itemName))</dd>
        <dt>办件编号</dt><dd>\(HTML.escape(push.caseNumber))</dd>
        <dt>持证主体</dt><dd>\(HTML.escape(push.holder.name))（\(HTML.escape(push.holder.idNumber))）</dd>
        <dt>证照编号</dt><dd>\(HTML.escape(push.licence.licenceNumber.isEmpty ? "—" : push.licence.licenceNumber))</dd>
        <dt>有效期</dt><dd>\(validity)</dd>
        <dt>决定日期</dt><dd>\(push.hasDecidedOn ? VerifyPage.date(push.decidedOn) : "—")</dd>
        <dt>许可范围</dt><dd>\(HTML.escape(push.scope))</dd>
        \(push.conditions.isEmpty ? "" : "<dt>附加条件</dt><dd>\(HTML.escape(push.conditions.joined(separator: "；")))</dd>")
        <dt>场所</dt><dd>\(HTML.escape(push.place))</dd>
        <dt>监管职责</dt><dd>\(HTML.escape(push.responsibility))</dd>
        <dt>认领期限</dt><dd>\(claimDeadline(push))</dd>
        \(push.status == .claimed ? "<dt>认领人</dt><dd>\(CasePage.who(push.claimedBy))</dd>" : "")
        \(push.status == .rejected ? "<dt>退回理由</dt><dd>\(HTML.escape(push.rejectionReason))（\(CasePage.who(push.rejectedBy))）</dd>" : "")
        </dl>
        """
        let claim = push.status == .pending ? """
        <form method="post" action="\(base)/claim" id="form-claim">
        \(AccountPages.csrf(token))
        \(AccountPages.field(PushForms.noteField, label: "认领备注（可空）", hint: nil, errors: nil, maxLength: CaseActLimits.maximumLineCharacters, autocomplete: "off"))
        <button type="submit">认领</button>
        </form>
        <form method="post" action="\(base)/reject" id="form-reject" novalidate>
        <h3>退回（不属于本部门监管职责）</h3>
        \(AccountPages.csrf(token))
        \(CasePage.textArea(PushForms.reasonField, label: "退回理由", hint: "写明为何不属于本部门职责", errors: errors))
        \(AccountPages.field(PushForms.suggestedField, label: "建议移交的部门代码（可空）", hint: nil, errors: errors, maxLength: 64, autocomplete: "off"))
        <button type="submit">退回</button>
        </form>
        """ : ""
        let findingRows = findings.map { finding in
            "<li>\(finding.hasOccurredOn ? VerifyPage.date(finding.occurredOn) : "") \(HTML.escape(PushForms.kinds.first { PushForms.kind($0.0) == finding.kind }?.1 ?? "—"))：\(HTML.escape(finding.facts))（\(CasePage.who(finding.submittedBy))）</li>"
        }.joined(separator: "\n")
        let kindChosen = errors?.values[PushForms.kindField] ?? ""
        let resultChosen = errors?.values[PushForms.resultField] ?? ""
        func select(_ name: String, _ label: String, _ options: [(String, String)], _ chosen: String) -> String {
            let error = errors?.errors[name]
            return """
            <label for="\(name)">\(label)</label>
            <select id="\(name)" name="\(name)"\(error == nil ? "" : " aria-invalid=\"true\" aria-describedby=\"\(name)-error\"")><option value="">请选择</option>\(options.map { "<option value=\"\($0.0)\"\(chosen == $0.0 ? " selected" : "")>\($0.1)</option>" }.joined())</select>
            \(error.map { "<p class=\"field-error\" id=\"\(name)-error\" role=\"alert\">\(HTML.escape($0))</p>" } ?? "")
            """
        }
        let findingForm = push.status == .claimed ? """
        <form method="post" action="\(base)/findings" id="form-finding" novalidate>
        <h3>反馈监管结果</h3>
        \(formError.map { "<p class=\"field-error\" role=\"alert\" id=\"finding-error\">\(HTML.escape($0))</p>" } ?? "")
        \(AccountPages.csrf(token))
        <input type="hidden" name="\(CaseAct.keyField)" value="\(HTML.escape(key ?? SessionID.generate().text))">
        \(select(PushForms.kindField, "反馈类型", PushForms.kinds, kindChosen))
        \(select(PushForms.resultField, "检查结果（反馈检查结果时必选）", PushForms.results, resultChosen))
        \(CasePage.textArea(PushForms.factsField, label: "查明的事实", hint: "具体写明检查时间、地点和发现", errors: errors))
        \(AccountPages.field(PushForms.occurredField, label: "发生日期（年-月-日）", hint: nil, errors: errors, maxLength: 10, autocomplete: "off"))
        <button type="submit">提交反馈</button>
        </form>
        """ : ""
        return layout.page(title: "推送 \(push.caseNumber)", body: """
        <h1>推送 \(HTML.escape(push.caseNumber))</h1>
        <p>\(HTML.escape(staff.displayName))（部门 \(HTML.escape(staff.departmentCode ?? ""))）· <a href="/staff/pushes">推送信息</a> · <a href="/staff">工作台</a></p>
        \(banner)
        <section class="card"><h2>推送内容</h2>\(details)\(claim)</section>
        <section class="card"><h2>监管反馈</h2>\(findings.isEmpty ? "<p>暂无反馈。</p>" : "<ul>\(findingRows)</ul>")\(findingForm)</section>
        """)
    }

    // MARK: The bureau's re-routing (退回改派)

    static func rerouteRefused(layout: Layout, staff: StaffStore.Staff) -> String {
        layout.page(title: "无权访问", body: """
        <h1>无权访问</h1>
        <section class="verdict bad" role="alert"><p>退回推送的改派由科室负责人、分管负责人、主要负责人或系统管理员办理，你的岗位是\(HTML.escape(staff.role.label))。</p></section>
        <p><a href="/staff">返回工作台</a></p>
        """)
    }

    static func returned(layout: Layout, staff: StaffStore.Staff, pushes: [Supervision_Push]) -> String {
        let rows = pushes.map { push in
            "<tr><td><a href=\"\(PushRerouteHandlers.path)/\(HTML.escape(push.pushID))\">\(HTML.escape(push.caseNumber))</a></td><td>\(HTML.escape(push.itemName))</td>"
                + "<td>\(HTML.escape(push.department.name.isEmpty ? push.department.code : push.department.name))</td><td>\(HTML.escape(push.rejectionReason))</td>"
                + "<td>\(HTML.escape(push.suggestedDepartment.code.isEmpty ? "—" : push.suggestedDepartment.code))</td><td>\(push.hasRejectedAt ? ProgressPage.beijing(push.rejectedAt.date) : "—")</td></tr>"
        }.joined(separator: "\n")
        let table = pushes.isEmpty ? "<p>暂无退回的推送。</p>" : """
        <table><thead><tr><th scope="col">办件编号</th><th scope="col">事项</th><th scope="col">退回部门</th><th scope="col">退回理由</th><th scope="col">建议部门</th><th scope="col">退回时间</th></tr></thead>
        <tbody>\(rows)</tbody></table>
        """
        return layout.page(title: "退回的推送", body: """
        <h1>退回的推送（待改派）</h1>
        <p>\(HTML.escape(staff.displayName))（\(HTML.escape(staff.role.label))）· <a href="/staff">工作台</a></p>
        <section class="card"><h2>待改派（\(pushes.count)）</h2>\(table)</section>
        """)
    }

    static func reroute(
        layout: Layout, csrf token: String, staff: StaffStore.Staff, push: Supervision_Push, departments: [Supervision_Department],
        errors: FormErrors?, formError: String?, key: String, done: Bool
    ) -> String {
        let banner = done && push.status == .rerouted
            ? "<section class=\"verdict ok\" role=\"status\" id=\"act-done\"><p class=\"big\">已改派，新的推送已发往所选部门。</p></section>" : ""
        let suggested = push.suggestedDepartment.code
        let boxes = departments.map { department in
            let chosen = department.code == suggested && errors == nil
            return "<label class=\"choice\"><input type=\"checkbox\" name=\"\(RerouteForm.departmentsField)\" value=\"\(HTML.escape(department.code))\"\(chosen ? " checked" : "")> \(HTML.escape(department.name))（\(HTML.escape(department.code))）\(department.code == push.department.code ? "（原推送部门）" : "")</label>"
        }.joined(separator: "\n")
        let departmentsError = errors?.errors[RerouteForm.departmentsField]
        let form = push.status == .rejected ? """
        <form method="post" action="\(PushRerouteHandlers.path)/\(HTML.escape(push.pushID))" id="form-reroute" novalidate>
        <h3>改派给</h3>
        \(formError.map { "<p class=\"field-error\" role=\"alert\" id=\"reroute-error\">\(HTML.escape($0))</p>" } ?? "")
        \(AccountPages.csrf(token))
        <input type="hidden" name="\(CaseAct.keyField)" value="\(HTML.escape(key))">
        <fieldset id="\(RerouteForm.departmentsField)"\(departmentsError == nil ? "" : " aria-describedby=\"\(RerouteForm.departmentsField)-error\"")><legend>接收部门（可多选）</legend>
        \(boxes.isEmpty ? "<p>本站未登记监管部门。</p>" : boxes)
        \(departmentsError.map { "<p class=\"field-error\" id=\"\(RerouteForm.departmentsField)-error\" role=\"alert\">\(HTML.escape($0))</p>" } ?? "")
        </fieldset>
        \(CasePage.textArea(RerouteForm.reasonField, label: "改派理由", hint: "如：按职责边界清单应由市场监管部门监管", errors: errors, rows: 2))
        <label class="choice"><input type="checkbox" name="\(RerouteForm.boundaryField)"\(errors?.values[RerouteForm.boundaryField] == "on" ? " checked" : "")> 同时修正该事项的审管职责边界清单</label>
        <button type="submit">改派</button>
        </form>
        """ : ""
        let chain = push.reroutedToPushIds.isEmpty ? "" : "<p>改派后的推送：\(push.reroutedToPushIds.count) 条。</p>"
        return layout.page(title: "退回的推送 \(push.caseNumber)", body: """
        <h1>退回的推送 \(HTML.escape(push.caseNumber))</h1>
        <p>\(HTML.escape(staff.displayName))（\(HTML.escape(staff.role.label))）· <a href="\(PushRerouteHandlers.path)">退回的推送</a> · <a href="/staff">工作台</a></p>
        \(banner)
        <section class="card"><h2>推送内容</h2>
        <dl class="summary">
        <dt>状态</dt><dd id="push-status">\(statusText(push.status))</dd>
        <dt>推送类型</dt><dd>\(kindText(push.kind))</dd>
        <dt>事项</dt><dd>\(HTML.escape(push.itemName))（\(HTML.escape(push.implementationCode))）</dd>
        <dt>原推送部门</dt><dd>\(HTML.escape(push.department.name.isEmpty ? push.department.code : push.department.name))</dd>
        <dt>退回理由</dt><dd>\(HTML.escape(push.rejectionReason))（\(CasePage.who(push.rejectedBy))）</dd>
        <dt>建议部门</dt><dd>\(HTML.escape(suggested.isEmpty ? "—" : suggested))</dd>
        </dl>\(chain)
        </section>
        \(form.isEmpty ? "" : "<section class=\"card\">\(form)</section>")
        """)
    }
}
