import Foundation
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

    static func home(layout: Layout, csrf token: String, staff: StaffStore.Staff) -> String {
        let post = staff.windowNumber.map { "，\(HTML.escape($0))号窗口" } ?? staff.departmentCode.map { "，部门 \(HTML.escape($0))" } ?? ""
        let body = """
        <h1>工作台</h1>
        <section class="card">
        <p>\(HTML.escape(staff.displayName))（工号 \(HTML.escape(staff.staffNumber))）· \(HTML.escape(staff.role.label))\(post)</p>
        <form method="post" action="/staff/sign-out">
        \(AccountPages.csrf(token))
        <button type="submit">退出登录</button>
        </form>
        </section>
        """
        return layout.page(title: "工作台", body: body)
    }
}
