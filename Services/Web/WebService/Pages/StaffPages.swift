import Foundation
import OneSealProto
import WebRules

/// The staff workbench's pages (#19): sign-in, the forced password change, the TOTP code, and the
/// workbench's home. Same shell, fields and CSRF as the applicant pages (`AccountPages`).
enum StaffPages {
    static func signIn(layout: Layout, csrf token: String, errors: FormErrors?, notice: String? = nil) -> String {
        let body = """
        <h1>工作人员登录</h1>
        \(AccountPages.banner(notice))
        <section class="card">
        <form method="post" action="/staff/sign-in" novalidate>
        \(AccountPages.csrf(token))
        \(AccountPages.field(StaffAccountDraft.staffNumberField, label: "工号", hint: nil, errors: errors, maxLength: StaffAccountDraft.maximumStaffNumberCharacters, autocomplete: "username"))
        \(AccountPages.field(StaffSignIn.passwordField, label: "密码", hint: nil, errors: errors, type: "password", maxLength: 72, autocomplete: "current-password", keepValue: false))
        <button type="submit">登录</button>
        </form>
        <p>忘记密码或账户被停用，请联系系统运维人员。</p>
        </section>
        """
        return layout.page(title: "工作人员登录", body: body)
    }

    static func passwordChange(layout: Layout, csrf token: String, staff: StaffStore.Staff, errors: FormErrors?, notice: String? = nil) -> String {
        let body = """
        <h1>设置新密码</h1>
        \(AccountPages.banner(notice))
        <section class="card">
        <p>\(HTML.escape(staff.displayName))（\(HTML.escape(staff.staffNumber))），首次登录或密码重置后须设置自己的密码，设置后才能进入工作台。</p>
        <form method="post" action="/staff/password" novalidate>
        \(AccountPages.csrf(token))
        \(AccountPages.field(StaffPasswordChange.currentField, label: "当前密码（发给你的一次性密码）", hint: nil, errors: errors, type: "password", maxLength: 72, autocomplete: "current-password", keepValue: false))
        \(AccountPages.field(StaffPasswordChange.newField, label: "新密码", hint: "至少\(AccountLimits.minimumPasswordCharacters)个字符，最多\(AccountLimits.maximumPasswordBytes)字节；不能包含工号", errors: errors, type: "password", maxLength: 72, autocomplete: "new-password", keepValue: false))
        \(AccountPages.field(StaffPasswordChange.confirmField, label: "确认新密码", hint: nil, errors: errors, type: "password", maxLength: 72, autocomplete: "new-password", keepValue: false))
        <button type="submit">保存新密码</button>
        </form>
        </section>
        """
        return layout.page(title: "设置新密码", body: body)
    }

    static func code(layout: Layout, csrf token: String, errors: FormErrors?, notice: String? = nil) -> String {
        let body = """
        <h1>动态验证码</h1>
        \(AccountPages.banner(notice))
        <section class="card">
        <form method="post" action="/staff/code" novalidate>
        \(AccountPages.csrf(token))
        \(AccountPages.field(StaffSignIn.codeField, label: "验证码", hint: "身份验证器应用中显示的6位数字", errors: errors, maxLength: 8, autocomplete: "one-time-code", mode: "numeric", keepValue: false))
        <button type="submit">验证</button>
        </form>
        </section>
        """
        return layout.page(title: "动态验证码", body: body)
    }

    /// A secret offered for enrolment: the sealed form value and what the person types or scans.
    struct Offer {
        var sealed: String
        var grouped: String
        var uri: String
    }

    static let offerField = "offer"

    static func enrolment(layout: Layout, csrf token: String, staff: StaffStore.Staff, offer: Offer?, errors: FormErrors?, notice: String? = nil) -> String {
        let content: String
        if staff.hasSecondFactor {
            content = """
            <section class="verdict ok" role="status" id="enrolled"><p class="big">动态验证码已启用。</p><p>此后登录时须输入身份验证器应用中的6位数字。更换或遗失手机，请联系系统管理员重置（oneseal staff reset-password --new-totp）。</p></section>
            """
        } else if let offer {
            content = """
            <section class="card">
            <ol>
            <li>在手机上打开身份验证器应用（如 FreeOTP、Google Authenticator、Microsoft Authenticator），选择“手动输入密钥”。</li>
            <li>账户填写工号 <strong>\(HTML.escape(staff.staffNumber))</strong>，密钥填写：<br><code id="totp-secret" class="big">\(HTML.escape(offer.grouped))</code>（基于时间，6位，30秒）。在手机上打开本页时可点 <a id="totp-uri" href="\(HTML.escape(offer.uri))">添加到验证器应用</a>。</li>
            <li>输入应用中显示的6位数字，完成绑定。</li>
            </ol>
            <form method="post" action="/staff/second-factor" novalidate>
            \(AccountPages.csrf(token))
            <input type="hidden" name="\(offerField)" value="\(HTML.escape(offer.sealed))">
            \(AccountPages.field(StaffSignIn.codeField, label: "验证码", hint: "应用中显示的6位数字", errors: errors, maxLength: 8, autocomplete: "one-time-code", mode: "numeric", keepValue: false))
            <button type="submit">绑定</button>
            </form>
            </section>
            """
        } else {
            content = ""
        }
        let body = """
        <h1>绑定动态验证码</h1>
        \(AccountPages.banner(notice))
        <p>\(HTML.escape(staff.displayName))（工号 \(HTML.escape(staff.staffNumber))）· <a href="/staff">工作台</a></p>
        \(content)
        """
        return layout.page(title: "绑定动态验证码", body: body)
    }

    static func home(layout: Layout, csrf token: String, staff: StaffStore.Staff) -> String {
        let post = staff.windowNumber.map { "，\(HTML.escape($0))号窗口" } ?? staff.departmentCode.map { "，部门 \(HTML.escape($0))" } ?? ""
        let body = """
        <h1>工作台</h1>
        <section class="card">
        <p>\(HTML.escape(staff.displayName))（工号 \(HTML.escape(staff.staffNumber))）· \(HTML.escape(staff.role.label))\(post)</p>
        \(staff.role.worksCases ? "<p><a href=\"/staff/cases\">我的待办（按办结期限排序）</a></p>" : "")
        \(staff.role == .department && staff.departmentCode != nil ? "<p><a href=\"/staff/pushes\">推送信息（待认领）</a></p>" : "")
        \(PushRerouteHandlers.allowed(staff.role) ? "<p><a href=\"\(PushRerouteHandlers.path)\">退回的推送（待改派）</a></p>" : "")
        \(staff.role == .windowClerk ? "<p><a href=\"/staff/window\">综合受理（待受理、待出件）</a></p>" : "")
        \(staff.role.readsFigures ? "<p><a href=\"/staff/dashboard\">效能看板</a></p>" : "")
        \(staff.hasSecondFactor ? "" : "<p><a href=\"/staff/second-factor\">绑定动态验证码（登录第二因素）</a></p>")
        \(staff.role == .operator ? "<p><a href=\"/staff/operations\">系统运维（服务状态、事项目录、工作人员）</a></p>" : "")
        <form method="post" action="/staff/sign-out">
        \(AccountPages.csrf(token))
        <button type="submit">退出登录</button>
        </form>
        </section>
        """
        return layout.page(title: "工作台", body: body)
    }

    /// A page the signed-in person's post does not open.
    static func refused(layout: Layout, csrf token: String, staff: StaffStore.Staff) -> String {
        let body = """
        <h1>无权访问</h1>
        <section class="verdict bad" role="alert"><p>此页面仅供审批人员（承办人、科室负责人、分管负责人、主要负责人）使用，你的岗位是\(HTML.escape(staff.role.label))。</p></section>
        <p><a href="/staff">返回工作台</a></p>
        """
        return layout.page(title: "无权访问", body: body)
    }

    /// The warning as words (never colour alone): 红牌 overdue, 黄牌 near the due date.
    static func warning(_ deadline: Common_Deadline) -> String {
        if deadline.suspended { return "<span>中止计时</span>" }
        switch deadline.warning {
        case .red: return "<strong class=\"warning red\">红牌 · 超期\(deadline.overdueWorkingDays)个工作日</strong>"
        case .yellow: return "<strong class=\"warning yellow\">黄牌 · 剩\(deadline.workingDaysLeft)个工作日</strong>"
        default: return "<span>剩\(deadline.workingDaysLeft)个工作日</span>"
        }
    }

    static func rows(_ cases: [Approval_Case]) -> String {
        guard !cases.isEmpty else { return "<p>暂无。</p>" }
        let rows = cases.map { item in
            let due = item.deadline.hasDueOn ? VerifyPage.date(item.deadline.dueOn) : "—"
            let accepted = item.hasAcceptedOn ? VerifyPage.date(item.acceptedOn) : "—"
            return "<tr data-warning=\"\(item.deadline.warning == .red ? "red" : item.deadline.warning == .yellow ? "yellow" : "normal")\">"
                + "<td><a href=\"/staff/cases/\(HTML.escape(item.caseID))\">\(HTML.escape(item.caseNumber))</a></td><td>\(HTML.escape(item.item.name))</td><td>\(accepted)</td><td>\(due)</td><td>\(warning(item.deadline))</td></tr>"
        }.joined(separator: "\n")
        return """
        <table>
        <thead><tr><th scope="col">办件编号</th><th scope="col">事项</th><th scope="col">受理日期</th><th scope="col">办结期限</th><th scope="col">预警</th></tr></thead>
        <tbody>
        \(rows)
        </tbody>
        </table>
        """
    }

    /// One section of the work list: a page of 50 (approval's keyset page) with the total and the
    /// link to the next page; the other section's position rides along in the link.
    struct WorkListSection {
        var page: Approval_ListCasesResponse
        /// This section's query parameter ("mine" or "queue") and the other section's (name, token).
        var parameter: String
        var other: (name: String, token: String)
    }

    static func workList(layout: Layout, csrf token: String, staff: StaffStore.Staff, mine: WorkListSection?, queue: WorkListSection?, notice: String? = nil) -> String {
        func section(_ title: String, _ section: WorkListSection) -> String {
            let cases = section.page.cases
            let total = max(section.page.page.totalSize, Int64(cases.count))
            var more = ""
            if !section.page.page.nextPageToken.isEmpty {
                var query = "\(section.parameter)=\(HTML.escape(section.page.page.nextPageToken))"
                if !section.other.token.isEmpty { query += "&amp;\(section.other.name)=\(HTML.escape(section.other.token))" }
                more = "<p><a rel=\"next\" href=\"/staff/cases?\(query)\">下一页（\(title)）</a></p>"
            }
            let shown = total > Int64(cases.count) ? "，本页 \(cases.count) 件" : ""
            return "<section class=\"card\"><h2>\(title)（共 \(HTML.total(total)) 件\(shown)）</h2>\(rows(cases))\(more)</section>"
        }
        let body = """
        <h1>我的待办</h1>
        \(AccountPages.banner(notice))
        <p>\(HTML.escape(staff.displayName))（\(HTML.escape(staff.role.label))）· <a href="/staff">工作台</a> · <a href="/staff/cases">回到第一页</a></p>
        \(mine.map { section("分配给我的办件", $0) } ?? "")
        \(queue.map { section("本岗位待认领", $0) } ?? "")
        """
        return layout.page(title: "我的待办", body: body)
    }
}
