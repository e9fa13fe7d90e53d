import Foundation
import OneSealProto
import WebRules

/// 系统运维 (#19 screen 5): services' health, staff accounts, the item catalogue. Status in words
/// (正常/异常/不可达), never colour alone.
enum OperatorPage {
    struct ServiceHealth: Sendable {
        var name: String
        var answer: Health_CheckResponse?
        /// Why there is no answer (the RPC status), or nil.
        var problem: String?

        var serving: Bool { answer?.status == .serving }
    }

    struct Publication: Sendable {
        var code: String
        var name: String
        var version: Int
        var new: Bool
    }

    static func status(_ health: ServiceHealth) -> String {
        guard let answer = health.answer else { return "<strong class=\"warning red\">不可达（\(HTML.escape(health.problem ?? "—"))）</strong>" }
        switch answer.status {
        case .serving: return "<span>正常</span>"
        case .notServing: return "<strong class=\"warning red\">异常</strong>"
        default: return "<strong class=\"warning yellow\">未知</strong>"
        }
    }

    static func healthRows(_ services: [ServiceHealth], frontDatabase: Bool) -> String {
        let rows = services.map { service in
            let components = (service.answer?.components ?? []).map { component in
                "\(component.name)=\(component.status == .serving ? "正常" : "异常")\(component.detail.isEmpty ? "" : "（\(component.detail)）")"
            }.joined(separator: "；")
            return "<tr data-serving=\"\(service.serving)\"><td data-label=\"服务\">\(HTML.escape(service.name))</td><td data-label=\"状态\">\(status(service))</td>"
                + "<td data-label=\"版本\">\(HTML.escape(service.answer?.version ?? "—"))</td><td data-label=\"实例\">\(HTML.escape(service.answer?.instance ?? "—"))</td>"
                + "<td data-label=\"组件\">\(HTML.escape(components.isEmpty ? "—" : components))</td></tr>"
        }.joined(separator: "\n")
        let own = "<tr data-serving=\"\(frontDatabase)\"><td data-label=\"服务\">web（本站账户数据库）</td><td data-label=\"状态\">\(frontDatabase ? "<span>正常</span>" : "<strong class=\"warning red\">异常</strong>")</td><td data-label=\"版本\">—</td><td data-label=\"实例\">—</td><td data-label=\"组件\">postgres</td></tr>"
        return """
        <table class="items">
        <thead><tr><th scope="col">服务</th><th scope="col">状态</th><th scope="col">版本</th><th scope="col">实例</th><th scope="col">组件</th></tr></thead>
        <tbody>
        \(rows)
        \(own)
        </tbody>
        </table>
        """
    }

    static func staffRows(_ people: [StaffStore.Staff]) -> String {
        guard !people.isEmpty else { return "<p>尚无工作人员账户。</p>" }
        let rows = people.map { person in
            let post = person.windowNumber.map { "\($0)号窗口" } ?? person.departmentCode.map { "部门 \($0)" } ?? "—"
            let state = person.disabled ? "已停用" : person.mustChangePassword ? "待首次登录改密" : "正常"
            return "<tr><td data-label=\"工号\">\(HTML.escape(person.staffNumber))</td><td data-label=\"姓名\">\(HTML.escape(person.displayName))</td>"
                + "<td data-label=\"岗位\">\(HTML.escape(person.role.label))</td><td data-label=\"窗口/部门\">\(HTML.escape(post))</td>"
                + "<td data-label=\"动态验证码\">\(person.hasSecondFactor ? "已启用" : "未启用")</td><td data-label=\"状态\">\(state)</td></tr>"
        }.joined(separator: "\n")
        return """
        <table class="items">
        <thead><tr><th scope="col">工号</th><th scope="col">姓名</th><th scope="col">岗位</th><th scope="col">窗口/部门</th><th scope="col">动态验证码</th><th scope="col">状态</th></tr></thead>
        <tbody>
        \(rows)
        </tbody>
        </table>
        """
    }

    static func itemRows(_ items: [Intake_Item]) -> String {
        guard !items.isEmpty else { return "<p>目录为空。</p>" }
        let rows = items.map { item in
            "<tr><td data-label=\"实施编码\">\(HTML.escape(item.implementationCode))</td><td data-label=\"版本\">v\(item.version)</td>"
                + "<td data-label=\"事项\">\(HTML.escape(item.name))</td><td data-label=\"承诺时限\">\(CataloguePage.days(item.promisedDays))</td>"
                + "<td data-label=\"状态\">\(item.active ? "在用" : "已停用")</td></tr>"
        }.joined(separator: "\n")
        return """
        <table class="items">
        <thead><tr><th scope="col">实施编码</th><th scope="col">版本</th><th scope="col">事项</th><th scope="col">承诺时限</th><th scope="col">状态</th></tr></thead>
        <tbody>
        \(rows)
        </tbody>
        </table>
        """
    }

    static func publicationRows(_ published: [Publication]) -> String {
        guard !published.isEmpty else { return "" }
        let rows = published.map {
            "<tr><td data-label=\"实施编码\">\(HTML.escape($0.code))</td><td data-label=\"事项\">\(HTML.escape($0.name))</td><td data-label=\"结果\">\($0.new ? "已发布 v\($0.version)" : "未变化（v\($0.version)）")</td></tr>"
        }.joined(separator: "\n")
        return """
        <table class="items" id="import-result">
        <thead><tr><th scope="col">实施编码</th><th scope="col">事项</th><th scope="col">结果</th></tr></thead>
        <tbody>
        \(rows)
        </tbody>
        </table>
        """
    }

    static func render(
        layout: Layout, csrf token: String, staff: StaffStore.Staff, health: [ServiceHealth], frontDatabase: Bool, people: [StaffStore.Staff],
        catalogue: [Intake_Item]?, published: [Publication], notice: String?, noticeIsBad: Bool
    ) -> String {
        let serving = health.filter(\.serving).count + (frontDatabase ? 1 : 0)
        let banner = notice.map { "<section class=\"verdict \(noticeIsBad ? "bad" : "ok")\" role=\"\(noticeIsBad ? "alert" : "status")\"><p>\(HTML.escape($0))</p></section>" } ?? ""
        let body = """
        <h1>系统运维</h1>
        \(banner)
        \(publicationRows(published))
        <p>\(HTML.escape(staff.displayName))（\(HTML.escape(staff.role.label))）· <a href="/staff">工作台</a></p>
        <section class="card" aria-labelledby="health">
        <h2 id="health">服务状态：\(serving)/\(health.count + 1) 正常</h2>
        \(healthRows(health, frontDatabase: frontDatabase))
        </section>
        <section class="card" aria-labelledby="catalogue">
        <h2 id="catalogue">事项目录\(catalogue.map { "（\($0.count)项）" } ?? "")</h2>
        \(catalogue.map(itemRows) ?? "<p>受理服务暂时无法读取目录。</p>")
        <p><a href="/staff/operations/catalogue.json">导出目录文件（oneseal-catalogue/1）</a></p>
        <form method="post" action="/staff/operations/catalogue" enctype="multipart/form-data">
        \(AccountPages.csrf(token))
        <label for="catalogue-file">导入目录文件（内容有变化的事项发布新版本）</label>
        <input type="file" id="catalogue-file" name="\(OperatorHandlers.fileField)" accept="application/json,.json" required>
        <label for="change-note">发布说明</label>
        <input type="text" id="change-note" name="\(OperatorHandlers.noteField)" maxlength="\(OperatorHandlers.maximumNoteCharacters)">
        <button type="submit">导入并发布</button>
        </form>
        </section>
        <section class="card" aria-labelledby="people">
        <h2 id="people">工作人员（\(people.count)人）</h2>
        \(staffRows(people))
        <p>新增、停用、重置密码用运维命令 <code>oneseal staff add|disable|reset-password</code>（见运维手册）：账户变更不开放网页入口。</p>
        </section>
        """
        return layout.page(title: "系统运维", body: body)
    }

    static func refused(layout: Layout, csrf token: String, staff: StaffStore.Staff) -> String {
        let body = """
        <h1>无权访问</h1>
        <section class="verdict bad" role="alert"><p>此页面仅供系统运维人员使用，你的岗位是\(HTML.escape(staff.role.label))。</p></section>
        <p><a href="/staff">返回工作台</a></p>
        """
        return layout.page(title: "无权访问", body: body)
    }
}
