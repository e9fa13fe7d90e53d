import Foundation
import OneSealProto
import WebRules

/// 综合受理 (#19 screen 1): the window's queue and an application's page with the intake
/// decisions and 出件. Due dates and warnings in words; each form's errors by their fields.
enum WindowPage {
    struct Queue {
        var waiting: [Intake_Application]
        var waitingTotal: Int64
        var ready: [Intake_Application]
        var readyTotal: Int64
        var receivedToday: Int64
        /// The clerk's own window today (nil: the account has no window number).
        var own: OwnDay? = nil
    }

    /// What one window received today, by where those applications stand now.
    struct OwnDay {
        var received: Int64
        var accepted: Int64
        var correction: Int64
        var notAccepted: Int64
    }

    struct View {
        var application: Intake_Application
        /// Each material the application's items ask for (the first item naming a code keeps it).
        var requirements: [(item: String, requirement: Intake_MaterialRequirement)]
        /// Whether any item allows 容缺受理 / 告知承诺 (intake checks each material and item).
        var deficiencyAllowed = false
        var commitmentAllowed = false
        /// This node: an item implemented elsewhere is forwarded (审核转报).
        var node = ""

        /// Accepted here, with an item another node implements and no case opened for it yet.
        var forwardable: Bool {
            application.status == .accepted
                && application.items.contains { $0.implementingNode.divisionCode != node && !$0.implementingNode.divisionCode.isEmpty && $0.caseID.isEmpty }
        }
    }

    /// The deemed-acceptance clock first: what must be decided soonest is on top.
    static func byIntakeDue(_ a: Intake_Application, _ b: Intake_Application) -> Bool {
        let left = a.intakeDeadline.dueOn, right = b.intakeDeadline.dueOn
        return (left.year, left.month, left.day, a.applicationNumber) < (right.year, right.month, right.day, b.applicationNumber)
    }

    static func items(_ application: Intake_Application) -> String {
        HTML.escape(application.items.map(\.itemName).joined(separator: "、"))
    }

    static func rows(_ applications: [Intake_Application], due: Bool) -> String {
        guard !applications.isEmpty else { return "<p>暂无。</p>" }
        let rows = applications.map { application in
            let link = "<a href=\"/staff/window/\(HTML.escape(application.applicationID))\">\(HTML.escape(application.applicationNumber))</a>"
            let when = due ? (application.intakeDeadline.hasDueOn ? VerifyPage.date(application.intakeDeadline.dueOn) + " " + StaffPages.warning(application.intakeDeadline) : "—")
                : (application.hasDeliveryChoice && application.deliveryChoice.method == .mail ? "邮寄" : "窗口领取")
            return "<tr><td data-label=\"申请编号\">\(link)</td><td data-label=\"申请人\">\(HTML.escape(application.applicant.name))</td>"
                + "<td data-label=\"事项\">\(items(application))</td><td data-label=\"\(due ? "受理期限" : "送达方式")\">\(when)</td></tr>"
        }.joined(separator: "\n")
        return """
        <table class="items">
        <thead><tr><th scope="col">申请编号</th><th scope="col">申请人</th><th scope="col">事项</th><th scope="col">\(due ? "受理期限（逾期视为受理）" : "送达方式")</th></tr></thead>
        <tbody>
        \(rows)
        </tbody>
        </table>
        """
    }

    static func queue(layout: Layout, staff: StaffStore.Staff, queue: Queue) -> String {
        let window = staff.windowNumber.map { "\(HTML.escape($0))号窗口" } ?? "窗口"
        let body = """
        <h1>综合受理 · \(window)</h1>
        <p>\(HTML.escape(staff.displayName))（\(HTML.escape(staff.role.label))）· <a href="/staff">工作台</a> · <a href="/staff/window/new" id="new-application">收件（新申请）</a></p>
        <section class="card" aria-labelledby="today">
        <h2 id="today">今日</h2>
        <p>今日收件 \(HTML.total(queue.receivedToday)) 件 · 待受理 \(HTML.total(queue.waitingTotal)) 件 · 待出件 \(HTML.total(queue.readyTotal)) 件</p>
        \(queue.own.map { "<p id=\"window-today\">本窗口今日：收件 \($0.received) 件，已受理 \($0.accepted) 件，一次性告知补正 \($0.correction) 件，不予受理 \($0.notAccepted) 件</p>" } ?? "")
        </section>
        <section class="card" aria-labelledby="waiting">
        <h2 id="waiting">待受理（\(HTML.total(queue.waitingTotal))）</h2>
        \(rows(queue.waiting, due: true))
        </section>
        <section class="card" aria-labelledby="ready">
        <h2 id="ready">待出件（\(HTML.total(queue.readyTotal))）</h2>
        \(rows(queue.ready, due: false))
        </section>
        """
        return layout.page(title: "综合受理", body: body)
    }

    static func statusText(_ status: Intake_ApplicationStatus) -> String {
        switch status {
        case .submitted: "待受理"
        case .correctionRequested: "已一次性告知补正，待申请人补正"
        case .accepted: "已受理，审批中"
        case .notAccepted: "不予受理"
        case .forwarded: "已受理并转报"
        case .readyForDelivery: "已办结，待出件"
        case .delivered: "已出件"
        case .withdrawn: "已撤回"
        default: "—"
        }
    }

    static func doneText(_ act: WindowAct, _ application: Intake_Application) -> String {
        switch act {
        case .accept: "已受理，受理通知书编号：\(application.receipt.receiptNumber)"
        case .correction: "已出具一次性补正告知书，编号：\(application.correctionNotices.last?.noticeNumber ?? "—")"
        case .reject: "已出具不予受理通知书，编号：\(application.notAccepted.noticeNumber)"
        case .deliver: "已出件，领取人：\(application.delivery.recipient.name)"
        case .deficiency: "已容缺受理，受理通知书编号：\(application.receipt.receiptNumber)"
        case .commitment: "已按告知承诺受理，受理通知书编号：\(application.receipt.receiptNumber)"
        case .forward: "已转报\(application.forwarding.toNode.divisionCode)审批"
        }
    }

    static func error(_ errors: FormErrors?, _ field: String) -> String {
        errors?.errors[field].map { "<p class=\"field-error\" id=\"\(field)-error\" role=\"alert\">\(HTML.escape($0))</p>" } ?? ""
    }

    static func hidden(_ view: View) -> String {
        """
        <input type="hidden" name="\(WindowAct.keyField)" value="\(SessionID.generate().text)">
        <input type="hidden" name="\(WindowAct.revisionField)" value="\(view.application.revision)">
        """
    }

    static func application(
        layout: Layout, csrf token: String, staff: StaffStore.Staff, view: View, done: WindowAct?,
        failed: (act: WindowAct, errors: FormErrors?, message: String?)? = nil
    ) -> String {
        let application = view.application
        func errors(_ act: WindowAct) -> FormErrors? { failed?.act == act ? failed?.errors : nil }
        func formError(_ act: WindowAct) -> String { failed?.act == act ? AccountPages.banner(failed?.message) : "" }
        let provided = Set(application.materials.map(\.requirementCode))
        let materials = view.requirements.map { entry in
            let requirement = entry.requirement
            return "<tr><td data-label=\"材料\">\(HTML.escape(requirement.name))\(requirement.required ? "" : "（非必需）")</td><td data-label=\"提交情况\">\(provided.contains(requirement.code) ? "已提交" : "<strong class=\"warning yellow\">未提交</strong>")</td></tr>"
        }.joined(separator: "\n")
        var forms = ""
        if application.status == .submitted {
            let correctionErrors = errors(.correction)
            let ticks = view.requirements.map { entry -> String in
                let code = entry.requirement.code
                let tick = CorrectionForm.tickField(code), kind = CorrectionForm.kindField(code), fix = CorrectionForm.fixField(code)
                let values = correctionErrors?.values ?? [:]
                let defaultKind = provided.contains(code) ? "incomplete" : "missing"
                let chosen = values[kind] ?? defaultKind
                let options = CorrectionForm.kinds.map { "<option value=\"\($0.value)\"\(chosen == $0.value ? " selected" : "")>\($0.label)</option>" }.joined()
                return """
                <fieldset><legend><label class="choice"><input type="checkbox" name="\(tick)" value="1"\(values[tick] != nil ? " checked" : "")> \(HTML.escape(entry.requirement.name))</label></legend>
                <label for="\(kind)">问题</label><select id="\(kind)" name="\(kind)">\(options)</select>
                \(error(correctionErrors, kind))
                <label for="\(fix)">需补正的内容</label>
                <input type="text" id="\(fix)" name="\(fix)" maxlength="\(CorrectionForm.maximumHowToFixCharacters)" value="\(HTML.escape(values[fix] ?? ""))"\(correctionErrors?.errors[fix] == nil ? "" : " aria-invalid=\"true\" aria-describedby=\"\(fix)-error\"")>
                \(error(correctionErrors, fix))
                </fieldset>
                """
            }.joined(separator: "\n")
            let rejectErrors = errors(.reject)
            let ground = rejectErrors?.values[RejectForm.groundField] ?? ""
            let grounds = RejectForm.grounds.map { "<label class=\"choice\"><input type=\"radio\" name=\"\(RejectForm.groundField)\" value=\"\($0.value)\"\(ground == $0.value ? " checked" : "")> \($0.label)</label>" }.joined(separator: "\n")
            forms += """
            <section class="card" aria-labelledby="accept-heading">
            <h2 id="accept-heading">受理</h2>
            \(formError(.accept))
            <form method="post" action="/staff/window/\(HTML.escape(application.applicationID))/accept" id="form-accept" novalidate>
            \(AccountPages.csrf(token))
            \(hidden(view))
            \(AccountPages.field(AcceptForm.noteField, label: "备注（可不填）", hint: nil, errors: errors(.accept), maxLength: AcceptForm.maximumNoteCharacters, autocomplete: "off"))
            <button type="submit">受理并出具受理通知书</button>
            </form>
            </section>
            <section class="card" aria-labelledby="correction-heading">
            <h2 id="correction-heading">一次性告知补正</h2>
            <p class="hint">勾选全部需要补正的材料并写明补正内容：告知只出具一次。</p>
            \(formError(.correction))
            <form method="post" action="/staff/window/\(HTML.escape(application.applicationID))/correction" id="form-correction" novalidate>
            \(AccountPages.csrf(token))
            \(hidden(view))
            \(error(correctionErrors, CorrectionForm.listField))
            \(ticks)
            <button type="submit">出具一次性补正告知书</button>
            </form>
            </section>
            <section class="card" aria-labelledby="reject-heading">
            <h2 id="reject-heading">不予受理</h2>
            \(formError(.reject))
            <form method="post" action="/staff/window/\(HTML.escape(application.applicationID))/reject" id="form-reject" novalidate>
            \(AccountPages.csrf(token))
            \(hidden(view))
            <fieldset><legend>理由</legend>
            \(grounds)
            \(error(rejectErrors, RejectForm.groundField))
            </fieldset>
            \(AccountPages.field(RejectForm.reasonField, label: "具体原因", hint: nil, errors: rejectErrors, maxLength: RejectForm.maximumReasonCharacters, autocomplete: "off"))
            \(AccountPages.field(RejectForm.basisField, label: "依据条款", hint: "例如《中华人民共和国行政许可法》第三十二条第一款第二项", errors: rejectErrors, maxLength: RejectForm.maximumBasisCharacters, autocomplete: "off"))
            \(AccountPages.field(RejectForm.agencyField, label: "应向哪个机关申请（不属于本机关职权范围时必填）", hint: nil, errors: rejectErrors, maxLength: RejectForm.maximumAgencyCharacters, autocomplete: "off"))
            <button type="submit">出具不予受理通知书</button>
            </form>
            </section>
            """
        }
        if application.status == .submitted && view.deficiencyAllowed {
            let deficiencyErrors = errors(.deficiency)
            let values = deficiencyErrors?.values ?? [:]
            let ticks = view.requirements.filter { $0.requirement.deficiencyAllowed }.map { entry in
                let tick = DeficiencyForm.tickField(entry.requirement.code)
                return "<label class=\"choice\"><input type=\"checkbox\" name=\"\(tick)\" value=\"1\"\(values[tick] != nil ? " checked" : "")> \(HTML.escape(entry.requirement.name))</label>"
            }.joined(separator: "\n")
            forms += """
            <section class="card" aria-labelledby="deficiency-heading">
            <h2 id="deficiency-heading">容缺受理</h2>
            \(formError(.deficiency))
            <form method="post" action="/staff/window/\(HTML.escape(application.applicationID))/deficiency" id="form-deficiency" novalidate>
            \(AccountPages.csrf(token))
            \(hidden(view))
            <fieldset><legend>容缺的材料（仅限允许容缺的非关键材料）</legend>
            \(ticks)
            \(error(deficiencyErrors, DeficiencyForm.listField))
            </fieldset>
            \(AccountPages.field(DeficiencyForm.daysField, label: "补齐期限（工作日，可不填）", hint: nil, errors: deficiencyErrors, maxLength: 2, autocomplete: "off", mode: "numeric"))
            \(CasePage.textArea(DeficiencyForm.undertakingField, label: "申请人签署的补齐承诺", hint: nil, errors: deficiencyErrors))
            <button type="submit">容缺受理</button>
            </form>
            </section>
            """
        }
        if application.status == .submitted && view.commitmentAllowed {
            let commitmentErrors = errors(.commitment)
            let values = commitmentErrors?.values ?? [:]
            let ticks = view.requirements.map { entry in
                let tick = CommitmentForm.tickField(entry.requirement.code)
                return "<label class=\"choice\"><input type=\"checkbox\" name=\"\(tick)\" value=\"1\"\(values[tick] != nil ? " checked" : "")> \(HTML.escape(entry.requirement.name))</label>"
            }.joined(separator: "\n")
            forms += """
            <section class="card" aria-labelledby="commitment-heading">
            <h2 id="commitment-heading">告知承诺受理</h2>
            \(formError(.commitment))
            <form method="post" action="/staff/window/\(HTML.escape(application.applicationID))/commitment" id="form-commitment" novalidate>
            \(AccountPages.csrf(token))
            \(hidden(view))
            \(CasePage.textArea(CommitmentForm.textField, label: "承诺书内容（按申请人签署的录入）", hint: nil, errors: commitmentErrors))
            <fieldset><legend>以承诺代替的材料</legend>
            \(ticks)
            </fieldset>
            <button type="submit">按告知承诺受理</button>
            </form>
            </section>
            """
        }
        if view.forwardable {
            forms += """
            <section class="card" aria-labelledby="forward-heading">
            <h2 id="forward-heading">审核转报</h2>
            <p class="hint">本申请有由上级实施的事项：写明初审意见后转报。</p>
            \(formError(.forward))
            <form method="post" action="/staff/window/\(HTML.escape(application.applicationID))/forward" id="form-forward" novalidate>
            \(AccountPages.csrf(token))
            \(hidden(view))
            \(CasePage.textArea(ForwardForm.opinionField, label: "初审意见", hint: "查验了什么、结论如何", errors: errors(.forward)))
            <button type="submit">转报</button>
            </form>
            </section>
            """
        }
        if application.status == .readyForDelivery {
            forms += """
            <section class="card" aria-labelledby="deliver-heading">
            <h2 id="deliver-heading">出件</h2>
            \(application.hasDeliveryChoice && application.deliveryChoice.method == .mail ? "<p>申请人选择了邮寄送达；如本人到窗口领取，可在此登记。</p>" : "")
            \(formError(.deliver))
            <form method="post" action="/staff/window/\(HTML.escape(application.applicationID))/deliver" id="form-deliver" novalidate>
            \(AccountPages.csrf(token))
            \(hidden(view))
            \(AccountPages.field(CollectionForm.nameField, label: "领取人姓名", hint: "申请人本人或其委托的代理人", errors: errors(.deliver), maxLength: CollectionForm.maximumNameCharacters, autocomplete: "off"))
            \(AccountPages.field(CollectionForm.idField, label: "领取人身份证号码", hint: "核验证件后录入，18位", errors: errors(.deliver), maxLength: 24, autocomplete: "off"))
            <button type="submit">登记出件</button>
            </form>
            </section>
            """
        }
        let body = """
        <h1>申请 \(HTML.escape(application.applicationNumber))</h1>
        \(done.map { "<section class=\"verdict ok\" role=\"status\" id=\"act-done\"><p>\(HTML.escape(doneText($0, application)))</p></section>" } ?? "")
        <p>\(HTML.escape(staff.displayName))（\(HTML.escape(staff.role.label))）· <a href="/staff/window">窗口待办</a></p>
        <section class="card" aria-labelledby="summary">
        <h2 id="summary">\(statusText(application.status))</h2>
        <table class="items"><tbody>
        <tr><th scope="row">申请人</th><td>\(HTML.escape(application.applicant.name))（\(HTML.escape(application.applicant.idNumber))）</td></tr>
        <tr><th scope="row">事项</th><td>\(items(application))</td></tr>
        <tr><th scope="row">受理期限</th><td>\(application.intakeDeadline.hasDueOn ? VerifyPage.date(application.intakeDeadline.dueOn) + " " + StaffPages.warning(application.intakeDeadline) : "—")</td></tr>
        </tbody></table>
        </section>
        <section class="card" aria-labelledby="materials">
        <h2 id="materials">材料清单</h2>
        <table class="items"><thead><tr><th scope="col">材料</th><th scope="col">提交情况</th></tr></thead><tbody>
        \(materials)
        </tbody></table>
        </section>
        \(documents(application))
        \(forms)
        """
        return layout.page(title: "申请 \(application.applicationNumber)", body: body)
    }

    /// The documents issued on the application, each opened for printing with its number.
    static func documents(_ application: Intake_Application) -> String {
        let documents = ApplicationPage.documents(application)
        guard !documents.isEmpty else { return "" }
        let rows = documents.map { document in
            "<li><a href=\"/staff/window/\(HTML.escape(application.applicationID))/documents/\(HTML.escape(document.documentID))\">打印\(HTML.escape(document.title.isEmpty ? "文书" : document.title))</a>（\(HTML.escape(document.number))）</li>"
        }.joined(separator: "\n")
        return """
        <section class="card" aria-labelledby="documents">
        <h2 id="documents">文书</h2>
        <ul id="documents-list">
        \(rows)
        </ul>
        </section>
        """
    }

    /// 收件, step one: the item, from the catalogue.
    static func chooseItem(layout: Layout, staff: StaffStore.Staff, items: [Intake_Item], unknown: Bool) -> String {
        let options = items.filter(\.active).map { "<option value=\"\(HTML.escape($0.implementationCode))\">\(HTML.escape($0.name))（\(HTML.escape($0.implementationCode))）</option>" }.joined()
        let body = """
        <h1>收件：选择事项</h1>
        \(unknown ? AccountPages.banner("没有这个事项，请重新选择。") : "")
        <p>\(HTML.escape(staff.displayName))（\(HTML.escape(staff.role.label))）· <a href="/staff/window">窗口待办</a></p>
        <section class="card">
        <form method="get" action="/staff/window/new" id="form-choose-item">
        <label for="item">事项</label>
        <select id="item" name="item">\(options)</select>
        <button type="submit">下一步</button>
        </form>
        </section>
        """
        return layout.page(title: "收件", body: body)
    }

    /// 收件, step two: who applies (checked as typed) and each material's scan.
    static func newApplication(
        layout: Layout, csrf token: String, staff: StaffStore.Staff, item: Intake_Item, errors: FormErrors?, fileErrors: [String: String],
        notice: String?, key: String? = nil
    ) -> String {
        let kind = errors?.values[Registration.kindField] ?? "person"
        let kindChoice = [("person", "自然人"), ("company", "法人或其他组织")].map {
            "<label class=\"choice\"><input type=\"radio\" name=\"\(Registration.kindField)\" value=\"\($0.0)\"\(kind == $0.0 ? " checked" : "")> \($0.1)</label>"
        }.joined(separator: "\n")
        let problems = (errors?.errors.count ?? 0) + fileErrors.count
        let body = """
        <h1>收件：\(HTML.escape(item.name))</h1>
        \(AccountPages.banner(notice))
        \(problems == 0 ? "" : "<section class=\"verdict bad\" role=\"alert\" id=\"form-error\"><p>有\(problems)处问题，请按提示修改；本次未保存任何内容。</p></section>")
        <p>\(HTML.escape(staff.displayName))（\(HTML.escape(staff.role.label))）· <a href="/staff/window">窗口待办</a></p>
        <form method="post" action="/staff/window/new" enctype="multipart/form-data" id="form-new-application" novalidate>
        \(AccountPages.csrf(token))
        <input type="hidden" name="item" value="\(HTML.escape(item.implementationCode))">
        <input type="hidden" name="\(WindowAct.keyField)" value="\(HTML.escape(key ?? SessionID.generate().text))">
        <section class="card">
        <h2>申请人</h2>
        <fieldset><legend>申请人类型</legend>\(kindChoice)</fieldset>
        \(AccountPages.field(Registration.nameField, label: "姓名或单位名称", hint: nil, errors: errors, maxLength: AccountLimits.maximumNameCharacters, autocomplete: "off"))
        \(AccountPages.field(Registration.identityField, label: "公民身份号码或统一社会信用代码", hint: "18位，录入时校验", errors: errors, maxLength: WebLimits.maximumFieldCharacters, autocomplete: "off"))
        \(AccountPages.field(Registration.representativeField, label: "法定代表人（单位申请时填写）", hint: nil, errors: errors, maxLength: AccountLimits.maximumNameCharacters, autocomplete: "off"))
        \(AccountPages.field(Registration.phoneField, label: "手机号码", hint: nil, errors: errors, type: "tel", maxLength: WebLimits.maximumFieldCharacters, autocomplete: "off", mode: "tel"))
        </section>
        <section class="card">
        <h2>材料扫描件</h2>
        \(item.materials.isEmpty ? "<p>本事项无需提交材料。</p>" : ApplyPage.materialInputs(item, errors: fileErrors))
        </section>
        <button type="submit">收件</button>
        </form>
        """
        return layout.page(title: "收件", body: body)
    }

    static func refused(layout: Layout, staff: StaffStore.Staff) -> String {
        let body = """
        <h1>无权访问</h1>
        <section class="verdict bad" role="alert"><p>综合受理页面仅供窗口工作人员使用，你的岗位是\(HTML.escape(staff.role.label))。</p></section>
        <p><a href="/staff">返回工作台</a></p>
        """
        return layout.page(title: "无权访问", body: body)
    }
}
