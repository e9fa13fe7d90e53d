import Foundation
import OneSealProto
import WebRules

/// `/apply/<code>` (网上申报): who applies (from the account, not editable here), one file input per
/// material of the item's list with its requirement and the size limit, the CSRF token and the
/// form's idempotency key. `multipart/form-data`, so the files go with the one submit.
enum ApplyPage {
    static func render(
        layout: Layout, item: Intake_Item, account: AccountStore.Account, csrf token: String, idempotencyKey: String,
        errors: [String: String], notice: String? = nil
    ) -> String {
        let inputs = materialInputs(item, errors: errors)
        let body = """
        <h1>网上申报：\(HTML.escape(item.name))</h1>
        \(AccountPages.banner(notice))
        \(errors.isEmpty ? "" : "<section class=\"verdict bad\" role=\"alert\" id=\"form-error\"><p>材料有\(errors.count)处问题，请按提示修改后重新提交；本次未保存任何文件。</p></section>")
        <section class="card">
        <h2>申请人</h2>
        <dl class="facts">
        <dt>\(account.kind == .person ? "姓名" : "单位名称")</dt><dd>\(HTML.escape(account.person.name))</dd>
        <dt>手机号码</dt><dd>\(HTML.escape(account.person.phone))</dd>
        </dl>
        </section>
        <section class="card">
        <h2>上传材料</h2>
        <form method="post" action="/apply/\(HTML.escape(item.implementationCode))" enctype="multipart/form-data" novalidate>
        \(AccountPages.csrf(token))
        <input type="hidden" name="\(ApplyHandlers.keyField)" value="\(HTML.escape(idempotencyKey))">
        \(inputs.isEmpty ? "<p>本事项无需提交材料。</p>" : inputs)
        <button type="submit" id="apply-submit">提交申报</button>
        </form>
        <p class="hint">提交后由窗口工作人员审查，5个工作日内作出受理决定；需补正的，会在“我的办件”中一次性告知。</p>
        </section>
        """
        return layout.page(title: "网上申报", body: body)
    }

    /// One file input per material of the item's list, with its requirement, the limit and its error.
    static func materialInputs(_ item: Intake_Item, errors: [String: String]) -> String {
        item.materials.map { material -> String in
            let name = ApplyHandlers.field(material.code)
            let error = errors[name]
            let need = !material.required ? "非必需"
                : material.source == .government ? "必需，可由部门共享获取，可不上传"
                : material.deficiencyAllowed ? "必需（可容缺后补）" : "必需"
            return """
            <label for="\(name)">\(HTML.escape(material.name))（\(need)）</label>
            <p class="hint" id="\(name)-hint">\(HTML.escape(MaterialFile.limitText))\(material.acceptanceStandard.isEmpty ? "" : "；" + HTML.escape(material.acceptanceStandard))</p>
            <input type="file" id="\(name)" name="\(name)" accept=".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png" aria-describedby="\(name)-hint\(error == nil ? "" : " \(name)-error")"\(error == nil ? "" : " aria-invalid=\"true\"")>
            \(error.map { "<p class=\"field-error\" id=\"\(name)-error\" role=\"alert\">\(HTML.escape($0))</p>" } ?? "")
            """
        }.joined(separator: "\n")
    }
}
