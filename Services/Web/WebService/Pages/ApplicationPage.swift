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

    /// The rating section: its form (with errors), what was just submitted, or nothing.
    enum RatingState {
        case unavailable
        case form(FormErrors?)
        case submitted(Evaluation_SubmitRatingResponse)
    }

    /// The rating's own fields — five levels, the 差评 reasons, the comment — each with its error
    /// by it: the signed-in form and the receipt's rating link (`RatingLinkPage`) ask the same.
    static func ratingFields(values: [String: String], errors: [String: String]) -> String {
        func error(_ field: String) -> String {
            errors[field].map { "<p class=\"field-error\" id=\"\(field)-error\" role=\"alert\">\(HTML.escape($0))</p>" } ?? ""
        }
        let picked = values[RatingForm.levelField] ?? ""
        let levels = RatingForm.levels.map { level in
            "<label class=\"choice\"><input type=\"radio\" name=\"\(RatingForm.levelField)\" value=\"\(level.value)\"\(picked == String(level.value) ? " checked" : "")> \(level.label)</label>"
        }.joined(separator: "\n")
        let reasons = RatingForm.badReasons.map { reason in
            "<label class=\"choice\"><input type=\"checkbox\" name=\"\(RatingForm.reasonField)\" value=\"\(HTML.escape(reason))\"> \(HTML.escape(reason))</label>"
        }.joined(separator: "\n")
        return """
        <fieldset><legend>满意程度</legend>
        \(levels)
        \(error(RatingForm.levelField))
        </fieldset>
        <fieldset><legend>不满意的原因（差评时选择）</legend>
        \(reasons)
        \(error(RatingForm.reasonField))
        </fieldset>
        <label for="\(RatingForm.commentField)">评价内容</label>
        <p class="hint" id="comment-hint">最多\(RatingForm.maximumCommentCharacters)字</p>
        <textarea id="\(RatingForm.commentField)" name="\(RatingForm.commentField)" rows="4" maxlength="\(RatingForm.maximumCommentCharacters)" aria-describedby="comment-hint">\(HTML.escape(values[RatingForm.commentField] ?? ""))</textarea>
        \(error(RatingForm.commentField))
        """
    }

    static func levelText(_ level: Evaluation_RatingLevel) -> String {
        RatingForm.levels.first { $0.value == level.rawValue }?.label ?? "—"
    }

    static func rectificationText(_ status: Evaluation_RectificationStatus) -> String {
        switch status {
        case .open: "已立案，待核实回访"
        case .calledBack: "已回访核实，整改中"
        case .rectified: "已整改，待你评价整改结果"
        case .closed: "已办结"
        case .void: "经申诉核实，差评不成立"
        default: "—"
        }
    }

    /// `/account/ratings/<id>`: the person's rating, its rectification as it stands, and the form
    /// for their verdict once the hall says it is rectified.
    static func ratingPage(layout: Layout, answer: Evaluation_GetRatingResponse, csrf token: String, notice: String?) -> String {
        let rating = answer.rating
        var body = """
        <h1>我的评价</h1>
        \(notice.map { "<section class=\"verdict bad\" role=\"alert\"><p>\(HTML.escape($0))</p></section>" } ?? "")
        <section class="card"><dl class="facts">
        <dt>满意程度</dt><dd id="rating-level">\(HTML.escape(levelText(rating.level)))</dd>
        \(rating.tags.isEmpty ? "" : "<dt>原因</dt><dd>\(HTML.escape(rating.tags.joined(separator: "、")))</dd>")
        \(rating.comment.isEmpty ? "" : "<dt>评价内容</dt><dd>\(HTML.escape(rating.comment))</dd>")
        </dl></section>
        """
        if answer.hasRectification {
            let fix = answer.rectification
            let due = fix.hasDeadline && fix.deadline.hasDueOn ? VerifyPage.date(fix.deadline.dueOn) : "—"
            body += """
            <section class="card" aria-labelledby="fix-heading"><h2 id="fix-heading">整改</h2>
            <dl class="facts" id="rectification">
            <dt>状态</dt><dd id="rectification-status">\(HTML.escape(rectificationText(fix.status)))</dd>
            <dt>整改期限</dt><dd>\(HTML.escape(due))</dd>
            \(fix.measures.isEmpty ? "" : "<dt>整改措施</dt><dd id=\"rectification-measures\">\(HTML.escape(fix.measures))</dd>")
            \(fix.feedback.isEmpty ? "" : "<dt>反馈</dt><dd>\(HTML.escape(fix.feedback))</dd>")
            \(fix.followUpLevel == .unspecified ? "" : "<dt>你对整改的评价</dt><dd id=\"rectification-verdict\">\(HTML.escape(levelText(fix.followUpLevel)))</dd>")
            </dl>
            """
            if fix.status == .rectified {
                let levels = RatingForm.levels.map { "<label class=\"choice\"><input type=\"radio\" name=\"\(RatingForm.levelField)\" value=\"\($0.value)\"> \($0.label)</label>" }.joined(separator: "\n")
                body += """
                <form method="post" action="/account/ratings/\(HTML.escape(rating.ratingID))/verdict" novalidate>
                \(AccountPages.csrf(token))
                <fieldset><legend>对整改结果的满意程度</legend>
                \(levels)
                </fieldset>
                <label for="comment">意见</label>
                <textarea id="comment" name="comment" rows="3" maxlength="\(RatingForm.maximumCommentCharacters)"></textarea>
                <button type="submit" id="verdict-submit">提交</button>
                </form>
                """
            }
            body += "</section>"
        }
        body += "<p><a href=\"/account\">返回我的办件</a></p>"
        return layout.page(title: "我的评价", body: body)
    }

    /// Rating is offered once the hall has decided an item (一事一评 after the result).
    static func mayRate(_ application: Intake_Application) -> Bool {
        application.items.contains { [.granted, .denied, .licenceIssued, .delivered].contains($0.progress) }
    }

    static func rating(_ state: RatingState, application: Intake_Application, csrf token: String, idempotencyKey: String) -> String {
        switch state {
        case .unavailable:
            return ""
        case .submitted(let response):
            let rating = response.rating
            var text = """
            <section class="card" aria-labelledby="rating-heading" id="rating">
            <h2 id="rating-heading">我的评价</h2>
            <dl class="facts">
            <dt>满意程度</dt><dd id="rating-level">\(HTML.escape(levelText(rating.level)))</dd>
            \(rating.tags.isEmpty ? "" : "<dt>原因</dt><dd>\(HTML.escape(rating.tags.joined(separator: "、")))</dd>")
            \(rating.comment.isEmpty ? "" : "<dt>评价内容</dt><dd>\(HTML.escape(rating.comment))</dd>")
            </dl>
            """
            if response.hasRectification {
                let rectification = response.rectification
                let due = rectification.hasDeadline && rectification.deadline.hasDueOn ? VerifyPage.date(rectification.deadline.dueOn) : "—"
                text += """
                <h3>整改</h3>
                <dl class="facts" id="rectification">
                <dt>状态</dt><dd id="rectification-status">\(HTML.escape(rectificationText(rectification.status)))</dd>
                <dt>整改期限</dt><dd>\(HTML.escape(due))</dd>
                \(rectification.department.name.isEmpty ? "" : "<dt>责任部门</dt><dd>\(HTML.escape(rectification.department.name))</dd>")
                </dl>
                <p class="hint">差评将由责任部门核实、回访并整改，整改后请你评价整改结果。</p>
                """
            }
            if !rating.ratingID.isEmpty {
                text += "<p><a id=\"rating-link\" href=\"/account/ratings/\(HTML.escape(rating.ratingID))\">查看评价与整改进展</a>（可收藏此链接）</p>"
            }
            return text + "</section>"
        case .form(let errors):
            guard mayRate(application) else { return "" }
            return """
            <section class="card" aria-labelledby="rating-heading" id="rating">
            <h2 id="rating-heading">评价本次办理（好差评）</h2>
            <form method="post" action="/account/applications/\(HTML.escape(application.applicationID))/rating" novalidate>
            \(AccountPages.csrf(token))
            <input type="hidden" name="\(ApplyHandlers.keyField)" value="\(HTML.escape(idempotencyKey))">
            \(ratingFields(values: errors?.values ?? [:], errors: errors?.errors ?? [:]))
            <button type="submit" id="rating-submit">提交评价</button>
            </form>
            </section>
            """
        }
    }

    static func deliveryMethodText(_ method: Intake_DeliveryMethod) -> String {
        switch method {
        case .window: "窗口领取"
        case .mail: "邮寄"
        case .electronic: "电子送达"
        default: "—"
        }
    }

    static func maskedAddress(_ address: Intake_DeliveryAddress) -> String {
        DeliveryForm.maskedAddress(recipientName: address.recipientName, phone: address.phone, postalAddress: address.postalAddress, postalCode: address.postalCode)
    }

    /// Whether the applicant may still choose: until the result is delivered, and only when there
    /// will be one (intake decides; this only hides a form it would refuse).
    static func mayChooseDelivery(_ application: Intake_Application) -> Bool {
        !application.hasDelivery && ![.delivered, .notAccepted, .withdrawn].contains(application.status)
    }

    /// 送达 (#18 item 6): the delivery record once there is one; before it, the current choice and
    /// the form to make or change it. Addresses are printed masked.
    static func delivery(_ application: Intake_Application, csrf token: String, idempotencyKey: String, errors: FormErrors?) -> String {
        if application.hasDelivery {
            let record = application.delivery
            let when = record.hasDeliveredAt ? ProgressPage.beijing(record.deliveredAt.date) : "—"
            var rows = """
            <dt>送达方式</dt><dd id="delivery-method">\(HTML.escape(deliveryMethodText(record.method)))</dd>
            <dt>送达时间</dt><dd id="delivery-at">\(HTML.escape(when))</dd>
            """
            if record.method == .mail {
                if record.hasAddress { rows += "<dt>邮寄地址</dt><dd id=\"delivery-address\">\(HTML.escape(maskedAddress(record.address)))</dd>" }
                rows += "<dt>快递单号</dt><dd id=\"delivery-tracking\">\(HTML.escape(record.trackingNumber))</dd>"
            }
            if record.hasRecipient, !record.recipient.name.isEmpty {
                rows += "<dt>领取人</dt><dd id=\"delivery-recipient\">\(HTML.escape(record.recipient.name))</dd>"
            }
            return """
            <section class="card" aria-labelledby="delivery-heading" id="delivery">
            <h2 id="delivery-heading">送达记录</h2>
            <dl class="facts" id="delivery-record">\(rows)</dl>
            </section>
            """
        }
        guard mayChooseDelivery(application) else { return "" }
        var current = "<p id=\"delivery-choice\">尚未选择送达方式；未选择时请到受理窗口领取。</p>"
        if application.hasDeliveryChoice {
            let choice = application.deliveryChoice
            current = "<dl class=\"facts\" id=\"delivery-choice\"><dt>已选择</dt><dd id=\"delivery-choice-method\">\(HTML.escape(deliveryMethodText(choice.method)))</dd>"
                + (choice.method == .mail && choice.hasAddress ? "<dt>邮寄地址</dt><dd id=\"delivery-choice-address\">\(HTML.escape(maskedAddress(choice.address)))</dd>" : "")
                + "</dl>"
        }
        let picked = errors?.values[DeliveryForm.methodField] ?? (application.deliveryChoice.method == .mail ? "mail" : "window")
        func error(_ field: String) -> String {
            errors?.errors[field].map { "<p class=\"field-error\" id=\"delivery-\(field)-error\" role=\"alert\">\(HTML.escape($0))</p>" } ?? ""
        }
        func input(_ field: String, _ label: String, _ maximum: Int, type: String = "text", autocomplete: String) -> String {
            let bad = errors?.errors[field] != nil
            return """
            <label for="delivery-\(field)">\(label)</label>
            <input type="\(type)" id="delivery-\(field)" name="\(field)" maxlength="\(maximum)" autocomplete="\(autocomplete)" value="\(HTML.escape(errors?.values[field] ?? ""))"\(bad ? " aria-invalid=\"true\" aria-describedby=\"delivery-\(field)-error\"" : "")>
            \(error(field))
            """
        }
        return """
        <section class="card" aria-labelledby="delivery-heading" id="delivery">
        <h2 id="delivery-heading">送达方式</h2>
        \(current)
        <form method="post" action="/account/applications/\(HTML.escape(application.applicationID))/delivery" novalidate>
        \(AccountPages.csrf(token))
        <input type="hidden" name="\(ApplyHandlers.keyField)" value="\(HTML.escape(idempotencyKey))">
        <fieldset><legend>结果如何送达</legend>
        <label class="choice"><input type="radio" name="\(DeliveryForm.methodField)" value="window" id="delivery-window"\(picked == "window" ? " checked" : "")> 到受理窗口领取</label>
        <label class="choice"><input type="radio" name="\(DeliveryForm.methodField)" value="mail" id="delivery-mail"\(picked == "mail" ? " checked" : "")> 邮寄到指定地址</label>
        \(error(DeliveryForm.methodField))
        </fieldset>
        <fieldset><legend>邮寄信息（选择邮寄时填写）</legend>
        \(input(DeliveryForm.nameField, "收件人", DeliveryForm.maximumNameCharacters, autocomplete: "name"))
        \(input(DeliveryForm.phoneField, "收件人电话", DeliveryForm.maximumPhoneCharacters, type: "tel", autocomplete: "tel"))
        \(input(DeliveryForm.addressField, "邮寄地址（省、市、区县、街道、门牌号）", DeliveryForm.maximumAddressCharacters, autocomplete: "street-address"))
        \(input(DeliveryForm.codeField, "邮政编码（可不填）", 6, autocomplete: "postal-code"))
        </fieldset>
        <button type="submit" id="delivery-submit">保存送达方式</button>
        </form>
        </section>
        """
    }

    static func render(
        layout: Layout, application: Intake_Application, csrf token: String, idempotencyKey: String, errors: [String: String],
        notice: String? = nil, noticeIsBad: Bool = false, rating ratingState: RatingState = .unavailable, deliveryErrors: FormErrors? = nil
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
        \(application.applicationNumber.isEmpty || application.queryCode.isEmpty ? "" : "<dt>评价链接</dt><dd><a id=\"rating-short-link\" href=\"\(HTML.escape(RatingLinkHandlers.link(number: application.applicationNumber, code: application.queryCode)))\">\(HTML.escape(RatingLinkHandlers.link(number: application.applicationNumber)))</a>（办结后凭查询码评价，无需登录）</dd>")
        </dl>
        </section>
        \(correction)
        <section class="card"><h2>事项</h2>
        <table class="items" id="application-items"><thead><tr><th>事项</th><th>进度</th></tr></thead><tbody>
        \(items)
        </tbody></table></section>
        <section class="card"><h2>已交材料</h2><ul id="application-materials">\(materials.isEmpty ? "<li>无</li>" : materials)</ul></section>
        \(documents.isEmpty ? "" : "<section class=\"card\"><h2>文书</h2><ul id=\"application-documents\">\(documents)</ul></section>")
        \(delivery(application, csrf: token, idempotencyKey: idempotencyKey, errors: deliveryErrors))
        \(rating(ratingState, application: application, csrf: token, idempotencyKey: idempotencyKey))
        <p><a href="/account">返回我的办件</a></p>
        """
        return layout.page(title: "办件详情", body: body)
    }
}
