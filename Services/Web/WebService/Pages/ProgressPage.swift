import Foundation
import OneSealProto
import WebRules

/// `/progress` (办件查询): the form (also on the home page) and the answer of intake's public
/// `TrackProgress`: every item with its stage and due date, the notices on its clock (suspension,
/// extension), the decision, and where to collect the result. The form is POSTed so the query code
/// never lands in a URL, a browser history or an access log.
enum ProgressPage {
    static func form(errors: FormErrors?) -> String {
        let numberField = ProgressForm.numberField, codeField = ProgressForm.codeField
        func input(_ name: String, label: String, hint: String, maxLength: Int, mode: String) -> String {
            let error = errors?.errors[name]
            let value = errors?.values[name] ?? ""
            let describedBy = "\(name)-hint" + (error == nil ? "" : " \(name)-error")
            return """
            <label for="\(name)">\(label)</label>
            <p class="hint" id="\(name)-hint">\(hint)</p>
            <input type="text" id="\(name)" name="\(name)" value="\(HTML.escape(value))" maxlength="\(maxLength)" inputmode="\(mode)" autocomplete="off" aria-describedby="\(describedBy)"\(error == nil ? "" : " aria-invalid=\"true\"")>
            \(error.map { "<p class=\"field-error\" id=\"\(name)-error\" role=\"alert\">\(HTML.escape($0))</p>" } ?? "")
            """
        }
        return """
        <section class="card" aria-labelledby="progress-heading">
        <h2 id="progress-heading">办件进度查询</h2>
        <p>凭受理通知书上的受理编号和查询码查询，无需登录。</p>
        <form method="post" action="/progress" novalidate>
        \(input(numberField, label: "受理编号", hint: "22位数字，见受理通知书", maxLength: 40, mode: "numeric"))
        \(input(codeField, label: "查询码", hint: "10位字母或数字，见受理通知书", maxLength: 20, mode: "text"))
        <button type="submit">查询</button>
        </form>
        </section>
        """
    }

    static func formPage(layout: Layout, errors: FormErrors?, notice: String? = nil) -> String {
        let banner = notice.map { "<section class=\"verdict bad\" role=\"alert\" id=\"progress-error\"><p>\(HTML.escape($0))</p></section>" } ?? ""
        return layout.page(title: "办件进度查询", body: "<h1>办件进度查询</h1>\n\(banner)\n\(form(errors: errors))")
    }

    static func statusText(_ status: Intake_ApplicationStatus) -> String {
        switch status {
        case .submitted: "已提交，待受理"
        case .correctionRequested: "待补正材料"
        case .accepted: "已受理，审批中"
        case .notAccepted: "不予受理"
        case .forwarded: "已受理，已转报上级审批"
        case .readyForDelivery: "已办结，待领取"
        case .delivered: "已办结，已领取"
        case .withdrawn: "已撤回"
        default: "未知"
        }
    }

    static func progressText(_ progress: Intake_ItemProgress) -> String {
        switch progress {
        case .pendingIntake: "待受理"
        case .inApproval: "审批中"
        case .suspended: "暂停计时"
        case .granted: "准予许可"
        case .denied: "不予许可"
        case .licenceIssued: "准予许可，证照已制发"
        case .delivered: "已领取"
        case .withdrawn: "已撤回"
        case .notAccepted: "不予受理"
        case .revoked: "许可已撤销"
        case .cancelled: "许可已注销"
        default: "未知"
        }
    }

    /// Stages after which the clock no longer runs for the applicant.
    static let finished: Set<Intake_ItemProgress> = [.granted, .denied, .licenceIssued, .delivered, .withdrawn, .notAccepted, .revoked, .cancelled]

    static func render(layout: Layout, response: Intake_TrackProgressResponse) -> String {
        let items = response.items.map { item -> String in
            var due = "—"
            if item.hasDeadline, item.deadline.hasDueOn {
                let d = item.deadline
                due = VerifyPage.date(d.dueOn)
                if d.suspended { due += "（暂停计时中）" } else if d.hasFinishedOn || Self.finished.contains(item.progress) { due += "（已办结）" } else if d.overdue { due += "（已超期\(d.overdueWorkingDays)个工作日）" } else { due += "（剩余\(d.workingDaysLeft)个工作日）" }
            }
            var decision = ""
            if !item.denialSummary.isEmpty { decision = "不予许可：\(item.denialSummary)" }
            if item.hasLicence, !item.licence.licenceNumber.isEmpty { decision += (decision.isEmpty ? "" : "；") + "证照：\(item.licence.licenceName) \(item.licence.licenceNumber)" }
            let notices = item.notices.map { "\($0.title)（\($0.number)，\(VerifyPage.date($0.issuedOn))）" }.joined(separator: "；")
            let node = item.implementingNode.name.isEmpty ? item.implementingNode.divisionCode : item.implementingNode.name
            return """
            <tr class="item"><td data-label="事项">\(HTML.escape(item.itemName))</td><td data-label="办理进度" class="stage">\(HTML.escape(progressText(item.progress)))</td>
            <td data-label="承诺办结日">\(HTML.escape(due))</td><td data-label="办理机关">\(HTML.escape(node))</td>
            <td data-label="告知书">\(HTML.escape(notices.isEmpty ? "无" : notices))</td><td data-label="审批结果">\(HTML.escape(decision.isEmpty ? "—" : decision))</td></tr>
            """
        }.joined(separator: "\n")
        let steps = response.steps.map { step -> String in
            let at = step.hasAt ? Self.beijing(step.at.date) : ""
            return "<li><time>\(HTML.escape(at))</time> \(HTML.escape(step.description_p))</li>"
        }.joined(separator: "\n")
        let collection = response.collectionPoint.isEmpty ? "" : "<section class=\"card verdict ok\" id=\"collection\"><p class=\"big\">领取结果</p><p>\(HTML.escape(response.collectionPoint))</p></section>"
        return layout.page(title: "办件进度", body: """
        <h1>办件进度</h1>
        <section class="card" id="progress-result" aria-labelledby="summary-heading">
        <h2 id="summary-heading">受理编号 \(HTML.escape(response.applicationNumber))</h2>
        <dl class="facts"><dt>申请人</dt><dd>\(HTML.escape(response.maskedApplicantName))</dd><dt>办件状态</dt><dd id="application-status">\(HTML.escape(statusText(response.status)))</dd></dl>
        </section>
        \(collection)
        <section class="card" aria-labelledby="items-heading"><h2 id="items-heading">事项</h2>
        <table class="items"><thead><tr><th>事项</th><th>办理进度</th><th>承诺办结日</th><th>办理机关</th><th>告知书</th><th>审批结果</th></tr></thead>
        <tbody>
        \(items)
        </tbody></table></section>
        <section class="card" aria-labelledby="steps-heading"><h2 id="steps-heading">办理过程</h2><ol>
        \(steps)
        </ol></section>
        <p><a href="/">返回首页</a></p>
        """)
    }

    static func beijing(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "Asia/Shanghai")
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return formatter.string(from: date)
    }
}
