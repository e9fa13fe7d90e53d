import WebRules

/// `/`: both public services on one page: verifying a licence (by its QR link or by identifier is
/// left to the QR: the phone opens /verify directly) and the progress look-up form.
enum HomePage {
    static func render(layout: Layout, accounts: Bool = false) -> String {
        let account = accounts ? """
        <section class="card" aria-labelledby="account-heading">
        <h2 id="account-heading">网上办事</h2>
        <p>登录后可查看我的办件。<a href="/account/signin" id="signin-link">登录</a> · <a href="/account/register" id="register-link">注册</a></p>
        </section>
        """ : ""
        return layout.page(title: "首页", body: """
        <h1>政务服务</h1>
        \(account)
        <section class="card" aria-labelledby="verify-heading">
        <h2 id="verify-heading">证照核验</h2>
        <p>用手机扫描证照上的二维码即可打开核验页面，查看证照是否真实、是否有效。核验不需要登录。</p>
        <form method="get" action="/verify/link" novalidate>
        <label for="qr">或粘贴二维码中的链接</label>
        <p class="hint" id="qr-hint">以 …/verify?v=1&amp;id= 开头的完整链接</p>
        <input type="text" id="qr" name="qr" inputmode="url" autocomplete="off" maxlength="\(WebLimits.maximumTargetBytes)" aria-describedby="qr-hint">
        <button type="submit">核验证照</button>
        </form>
        </section>
        \(CataloguePage.searchForm(query: "", error: nil))
        \(ProgressPage.form(errors: nil))
        """)
    }
}
