import Foundation
import OneSealProto
import WebRules

/// `/account/applications/<id>`: one application as its applicant sees it — status, items with
/// their progress and e-licences, the materials on file, the correction notice with its upload
/// form (only what it lists), and the documents the hall issued.
enum ApplicationPage {
    /// Every document on the application that the hall issued, oldest first.
    static func documents(_ application: Intake_Application) -> [Common_IssuedDocument] {
        var out: [Common_IssuedDocument] = []
        if application.hasReceipt, application.receipt.hasDocument { out.append(application.receipt.document) }
        for notice in application.correctionNotices where notice.hasDocument { out.append(notice.document) }
        if application.hasNotAccepted, application.notAccepted.hasDocument { out.append(application.notAccepted.document) }
        for item in application.items { out += item.notices }
        return out.filter { !$0.documentID.isEmpty }
    }

    static func render(
        layout: Layout, application: Intake_Application, csrf token: String, idempotencyKey: String, errors: [String: String],
        notice: String? = nil, noticeIsBad: Bool = false
    ) -> String {
        let items = application.items.map { item -> String in
            let licence = item.hasLicence && !item.licence.licenceIdentifier.isEmpty
                ? "<br><a class=\"licence-download\" href=\"/account/licences/\(HTML.escape(item.licence.licenceIdentifier.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? ""))\">下载电子证照（PDF）\(item.licence.licenceNumber.isEmpty ? "" : "：" + HTML.escape(item.licence.licenceNumber))</a>"
                : ""
            return "<tr><td data-label=\"事项\">\(HTML.escape(item.itemName))</td><td data-label=\"进度\" class=\"progress\">\(HTML.escape(ProgressPage.progressText(item.progress)))\(licence)</td></tr>"
        }.joined(separator: "\n")
        let materials = application.materials.map { material in
            "<li>\(HTML.escape(material.name.isEmpty ? material.requirementCode : material.name))\(material.fileID.isEmpty ? "" : "（已上传，SHA-256 \(HTML.escape(String(material.fileID.prefix(12))))…）")</li>"
        }.joined(separator: "\n")
        let documents = documents(application).map { document in
            let title = HTML.escape(document.title.isEmpty ? "文书" : document.title) + (document.number.isEmpty ? "" : "（\(HTML.escape(document.number))）")
            return document.content.isEmpty
                ? "<li>\(title)</li>"
                : "<li><a class=\"document-download\" href=\"/account/applications/\(HTML.escape(application.applicationID))/documents/\(HTML.escape(document.documentID))\">\(title)</a></li>"
        }.joined(separator: "\n")
        let listed = MyApplicationHandlers.listed(application)
        var correction = ""
        if !listed.isEmpty, let last = application.correctionNotices.last {
            let problems = last.problems.map { "<li>\(HTML.escape($0.materialName))：\(HTML.escape($0.howToFix))</li>" }.joined(separator: "\n")
            let inputs = listed.sorted(by: { $0.key < $1.key }).map { field, problem -> String in
                let error = errors[field]
                return """
                <label for="\(field)">\(HTML.escape(problem.materialName))</label>
                <p class="hint" id="\(field)-hint">\(HTML.escape(MaterialFile.limitText))</p>
                <input type="file" id="\(field)" name="\(field)" accept=".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png" aria-describedby="\(field)-hint\(error == nil ? "" : " \(field)-error")"\(error == nil ? "" : " aria-invalid=\"true\"")>
                \(error.map { "<p class=\"field-error\" id=\"\(field)-error\" role=\"alert\">\(HTML.escape($0))</p>" } ?? "")
                """
            }.joined(separator: "\n")
            correction = """
            <section class="card" aria-labelledby="correction-heading" id="correction">
            <h2 id="correction-heading">补正告知\(last.noticeNumber.isEmpty ? "" : "（\(HTML.escape(last.noticeNumber))）")</h2>
            <p>窗口一次性告知需补正的材料如下，只需上传所列材料：</p>
            <ul id="correction-problems">\(problems)</ul>
            <form method="post" action="/account/applications/\(HTML.escape(application.applicationID))/correction" enctype="multipart/form-data" novalidate>
            \(AccountPages.csrf(token))
            <input type="hidden" name="\(ApplyHandlers.keyField)" value="\(HTML.escape(idempotencyKey))">
            \(inputs)
            <button type="submit" id="correction-submit">提交补正材料</button>
            </form>
            </section>
            """
        }
        let banner = notice.map { "<section class=\"verdict \(noticeIsBad ? "bad" : "ok")\" role=\"status\" id=\"application-notice\"><p>\(HTML.escape($0))</p></section>" } ?? ""
        let body = """
        <h1>办件详情</h1>
        \(banner)
        <section class="card">
        <dl class="facts">
        <dt>受理编号</dt><dd id="application-number">\(HTML.escape(application.applicationNumber))</dd>
        <dt>状态</dt><dd id="application-status">\(HTML.escape(ProgressPage.statusText(application.status)))</dd>
        <dt>渠道</dt><dd>\(HTML.escape(AccountPages.channelText(application.channel)))</dd>
        <dt>查询码</dt><dd>\(HTML.escape(application.queryCode))</dd>
        </dl>
        </section>
        \(correction)
        <section class="card"><h2>事项</h2>
        <table class="items" id="application-items"><thead><tr><th>事项</th><th>进度</th></tr></thead><tbody>
        \(items)
        </tbody></table></section>
        <section class="card"><h2>已交材料</h2><ul id="application-materials">\(materials.isEmpty ? "<li>无</li>" : materials)</ul></section>
        \(documents.isEmpty ? "" : "<section class=\"card\"><h2>文书</h2><ul id=\"application-documents\">\(documents)</ul></section>")
        <p><a href="/account">返回我的办件</a></p>
        """
        return layout.page(title: "办件详情", body: body)
    }
}
