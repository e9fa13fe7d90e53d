import Foundation
import OneSealCore
import OneSealProto
import WebRules

/// The account pages (#18 item 3): register, sign in, "my applications". Every form carries the
/// CSRF token as a hidden field; every field has its label, its hint (the limit), and its error in
/// Chinese next to it (`aria-invalid`, `aria-describedby`).
enum AccountPages {
    static func field(
        _ name: String, label: String, hint: String?, errors: FormErrors?, type: String = "text", maxLength: Int,
        autocomplete: String, mode: String? = nil, keepValue: Bool = true
    ) -> String {
        let error = errors?.errors[name]
        let value = keepValue ? (errors?.values[name] ?? "") : ""
        let describedBy = [hint == nil ? nil : "\(name)-hint", error == nil ? nil : "\(name)-error"].compactMap { $0 }.joined(separator: " ")
        return """
        <label for="\(name)">\(label)</label>
        \(hint.map { "<p class=\"hint\" id=\"\(name)-hint\">\(HTML.escape($0))</p>" } ?? "")
        <input type="\(type)" id="\(name)" name="\(name)" value="\(HTML.escape(value))" maxlength="\(maxLength)" autocomplete="\(autocomplete)"\(mode.map { " inputmode=\"\($0)\"" } ?? "")\(describedBy.isEmpty ? "" : " aria-describedby=\"\(describedBy)\"")\(error == nil ? "" : " aria-invalid=\"true\"")>
        \(error.map { "<p class=\"field-error\" id=\"\(name)-error\" role=\"alert\">\(HTML.escape($0))</p>" } ?? "")
        """
    }

    static func csrf(_ token: String) -> String {
        "<input type=\"hidden\" name=\"\(CSRFTokens.field)\" value=\"\(HTML.escape(token))\">"
    }

    static func banner(_ notice: String?) -> String {
        notice.map { "<section class=\"verdict bad\" role=\"alert\" id=\"form-error\"><p>\(HTML.escape($0))</p></section>" } ?? ""
    }

    static func register(layout: Layout, csrf token: String, errors: FormErrors?, notice: String? = nil) -> String {
        let kind = AccountKind(rawValue: errors?.values[Registration.kindField] ?? "") ?? .person
        let kindError = errors?.errors[Registration.kindField]
        let body = """
        <h1>注册网上办事账户</h1>
        \(banner(notice))
        <section class="card">
        <p>个人以公民身份号码注册，企业等法人以统一社会信用代码注册（由法定代表人或其授权的经办人操作）。注册信息加密保存，仅用于网上办事。</p>
        <form method="post" action="/account/register" novalidate>
        \(csrf(token))
        <fieldset><legend>账户类型</legend>
        <label class="choice"><input type="radio" name="kind" value="person"\(kind == .person ? " checked" : "")> 个人</label>
        <label class="choice"><input type="radio" name="kind" value="company"\(kind == .company ? " checked" : "")> 法人（企业、单位）</label>
        \(kindError.map { "<p class=\"field-error\" role=\"alert\">\(HTML.escape($0))</p>" } ?? "")
        </fieldset>
        \(field(Registration.nameField, label: "姓名 / 单位名称", hint: "个人填姓名，法人填营业执照上的名称；最多\(AccountLimits.maximumNameCharacters)个字", errors: errors, maxLength: AccountLimits.maximumNameCharacters, autocomplete: "name"))
        \(field(Registration.identityField, label: "公民身份号码 / 统一社会信用代码", hint: "18位，个人填身份证号码，法人填统一社会信用代码", errors: errors, maxLength: 24, autocomplete: "off"))
        \(field(Registration.representativeField, label: "法定代表人（法人账户填写）", hint: "最多\(AccountLimits.maximumNameCharacters)个字", errors: errors, maxLength: AccountLimits.maximumNameCharacters, autocomplete: "off"))
        \(field(Registration.phoneField, label: "手机号码", hint: "11位，用于办件联系", errors: errors, type: "tel", maxLength: 16, autocomplete: "tel", mode: "numeric"))
        \(field(Registration.passwordField, label: "密码", hint: "至少\(AccountLimits.minimumPasswordCharacters)个字符，最多\(AccountLimits.maximumPasswordBytes)字节；不能包含身份号码或手机号码", errors: errors, type: "password", maxLength: 72, autocomplete: "new-password", keepValue: false))
        \(field(Registration.confirmField, label: "确认密码", hint: nil, errors: errors, type: "password", maxLength: 72, autocomplete: "new-password", keepValue: false))
        <button type="submit">注册</button>
        </form>
        <p>已有账户？<a href="/account/signin">登录</a></p>
        </section>
        """
        return layout.page(title: "注册", body: body)
    }

    static func signIn(layout: Layout, csrf token: String, errors: FormErrors?, notice: String? = nil) -> String {
        let body = """
        <h1>登录</h1>
        \(banner(notice))
        <section class="card">
        <form method="post" action="/account/signin" novalidate>
        \(csrf(token))
        \(field(Registration.identityField, label: "公民身份号码 / 统一社会信用代码", hint: "18位", errors: errors, maxLength: 24, autocomplete: "username"))
        \(field(Registration.passwordField, label: "密码", hint: nil, errors: errors, type: "password", maxLength: 72, autocomplete: "current-password", keepValue: false))
        <button type="submit">登录</button>
        </form>
        <p>还没有账户？<a href="/account/register">注册</a></p>
        </section>
        """
        return layout.page(title: "登录", body: body)
    }

    static func kindText(_ kind: AccountKind) -> String { kind == .person ? "个人" : "法人" }

    static func channelText(_ channel: Intake_ApplicationChannel) -> String {
        switch channel {
        case .window: "窗口"
        case .online: "网上"
        case .mobile: "移动端"
        case .selfService: "自助终端"
        case .mail: "邮寄"
        case .integrator: "系统对接"
        case .forwarded: "转报"
        default: "—"
        }
    }

    /// "我的办件": the applications intake lists for this person's applicant token.
    static func myApplications(
        layout: Layout, account: AccountStore.Account, csrf token: String, applications: [Intake_Application]?, notice: String? = nil, noticeIsGood: Bool = false,
        ratingLink: String? = nil
    ) -> String {
        let rows = (applications ?? []).map { application -> String in
            let items = application.items.map { HTML.escape($0.itemName.isEmpty ? $0.implementationCode : $0.itemName) }.joined(separator: "<br>")
            let submitted = application.hasSubmittedOn ? VerifyPage.date(application.submittedOn) : "—"
            return """
            <tr data-application="\(HTML.escape(application.applicationNumber))">
            <td data-label="受理编号"><a href="/account/applications/\(HTML.escape(application.applicationID))">\(HTML.escape(application.applicationNumber.isEmpty ? "（待编号）" : application.applicationNumber))</a></td>
            <td data-label="事项">\(items)</td>
            <td data-label="状态" class="status">\(HTML.escape(ProgressPage.statusText(application.status)))</td>
            <td data-label="提交日期">\(HTML.escape(submitted))</td>
            <td data-label="渠道">\(HTML.escape(channelText(application.channel)))</td>
            <td data-label="查询码">\(HTML.escape(application.queryCode))</td>
            </tr>
            """
        }.joined(separator: "\n")
        let list: String
        if applications == nil {
            list = ""
        } else if rows.isEmpty {
            list = "<p id=\"no-applications\">你还没有办件。可在<a href=\"/items\">办事指南</a>中查找事项。</p>"
        } else {
            list = """
            <table class="items" id="my-applications">
            <thead><tr><th>受理编号</th><th>事项</th><th>状态</th><th>提交日期</th><th>渠道</th><th>查询码</th></tr></thead>
            <tbody>
            \(rows)
            </tbody>
            </table>
            """
        }
        let body = """
        <h1>我的办件</h1>
        \(notice.map { "<section class=\"verdict \(noticeIsGood ? "ok" : "warn")\" role=\"status\" id=\"account-notice\"><p>\(HTML.escape($0))</p>\(ratingLink.map { "<p>办结后评价本次服务（无需登录）：<a id=\"submitted-rating-link\" href=\"\(HTML.escape($0))\">\(HTML.escape($0.components(separatedBy: "&c=")[0]))</a></p>" } ?? "")</section>" } ?? "")
        <section class="card" aria-labelledby="who">
        <h2 id="who">账户</h2>
        <dl class="facts">
        <dt>账户类型</dt><dd>\(kindText(account.kind))</dd>
        <dt>\(account.kind == .person ? "姓名" : "单位名称")</dt><dd id="account-name">\(HTML.escape(account.person.name))</dd>
        <dt>\(account.kind == .person ? "公民身份号码" : "统一社会信用代码")</dt><dd>\(HTML.escape(account.kind == .person ? ResidentID.mask(account.person.identityCode) : account.person.identityCode))</dd>
        </dl>
        <form method="post" action="/account/signout">\(csrf(token))<button type="submit">退出登录</button></form>
        </section>
        <section class="card" aria-labelledby="apps">
        <h2 id="apps">办件</h2>
        \(list)
        </section>
        """
        return layout.page(title: "我的办件", body: body)
    }
}
