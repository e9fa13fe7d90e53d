import Foundation
import OneSealProto
import WebRules

/// `/rate`: the rating link on the receipt (W40) — the receipt's number and query code (filled in
/// from the link when it carries them), then the same five levels, reasons and comment as the
/// signed-in form. No sign-in, so no name: the rating is anonymous and is not called back.
enum RatingLinkPage {
    static func form(layout: Layout, csrf token: String, values: [String: String], errors: [String: String], notice: String?) -> String {
        func error(_ field: String) -> String {
            errors[field].map { "<p class=\"field-error\" id=\"\(field)-error\" role=\"alert\">\(HTML.escape($0))</p>" } ?? ""
        }
        func invalid(_ field: String) -> String { errors[field] == nil ? "" : " aria-invalid=\"true\" aria-describedby=\"\(field)-error\"" }
        let banner = notice.map { "<section class=\"verdict bad\" role=\"alert\" id=\"rate-notice\"><p>\(HTML.escape($0))</p></section>" } ?? ""
        let body = """
        <h1>评价办事服务（好差评）</h1>
        \(banner)
        <p>凭受理通知书上的受理编号和查询码评价，无需登录。评价为匿名评价，不留姓名和电话。</p>
        <form method="post" action="\(RatingLinkHandlers.path)" novalidate>
        \(AccountPages.csrf(token))
        <input type="hidden" name="\(ApplyHandlers.keyField)" value="\(HTML.escape(SessionID.generate().text))">
        <label for="\(ProgressForm.numberField)">受理编号</label>
        <input type="text" id="\(ProgressForm.numberField)" name="\(ProgressForm.numberField)" inputmode="numeric" autocomplete="off" maxlength="\(WebLimits.maximumFieldCharacters)" value="\(HTML.escape(values[ProgressForm.numberField] ?? ""))"\(invalid(ProgressForm.numberField))>
        \(error(ProgressForm.numberField))
        <label for="\(ProgressForm.codeField)">查询码</label>
        <input type="text" id="\(ProgressForm.codeField)" name="\(ProgressForm.codeField)" autocomplete="off" maxlength="\(WebLimits.maximumFieldCharacters)" value="\(HTML.escape(values[ProgressForm.codeField] ?? ""))"\(invalid(ProgressForm.codeField))>
        \(error(ProgressForm.codeField))
        \(ApplicationPage.ratingFields(values: values, errors: errors))
        <button type="submit" id="rate-submit">提交评价</button>
        </form>
        """
        return layout.page(title: "评价办事服务", body: body)
    }

    static func done(layout: Layout, number: String, response: Evaluation_SubmitRatingResponse) -> String {
        let rating = response.rating
        var body = """
        <h1>评价已提交</h1>
        <section class="verdict ok" role="status" id="rate-done"><p>感谢评价。受理编号 \(HTML.escape(number)) 的评价已记录。</p></section>
        <section class="card"><dl class="facts">
        <dt>满意程度</dt><dd id="rating-level">\(HTML.escape(ApplicationPage.levelText(rating.level)))</dd>
        \(rating.tags.isEmpty ? "" : "<dt>原因</dt><dd>\(HTML.escape(rating.tags.joined(separator: "、")))</dd>")
        \(rating.comment.isEmpty ? "" : "<dt>评价内容</dt><dd>\(HTML.escape(rating.comment))</dd>")
        </dl>
        """
        if response.hasRectification {
            body += "<p class=\"hint\" id=\"rate-rectification\">差评已转责任部门核实整改（\(HTML.escape(ApplicationPage.rectificationText(response.rectification.status)))）。匿名评价不回访；如需回访，请登录后在“我的办件”中评价。</p>"
        }
        body += "</section><p><a href=\"/\">返回首页</a></p>"
        return layout.page(title: "评价已提交", body: body)
    }
}
