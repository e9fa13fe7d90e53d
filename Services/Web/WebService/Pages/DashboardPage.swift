import EvaluationRules
import Foundation
import OneSealCore
import OneSealProto
import WebRules

/// 效能看板 (#19 screen 4): today and this month at a glance, the cases near or past their limit,
/// each window's flag and the month's charts — the figures are evaluation's, the charts drawn by
/// its `SVGChart` (the monthly report's), every label escaped. Warnings and flags are in words,
/// never colour alone.
enum DashboardPage {
    struct Board {
        var today: CivilDate
        var month: ReportMonth
        var todayFigures: Evaluation_EfficiencyMetrics
        var report: Evaluation_ReportResponse
        var warnings: Evaluation_EarlyWarningsResponse
    }

    static func percent(_ rate: Double) -> String { String(format: "%.1f%%", rate * 100) }

    static func figures(_ rows: [(String, String)]) -> String {
        "<table class=\"items\"><tbody>" + rows.map { "<tr><th scope=\"row\">\(HTML.escape($0.0))</th><td>\(HTML.escape($0.1))</td></tr>" }.joined() + "</tbody></table>"
    }

    static func warningLevel(_ level: Common_WarningLevel) -> String {
        switch level {
        case .red: "<strong class=\"warning red\">红牌 · 超期</strong>"
        case .yellow: "<strong class=\"warning yellow\">黄牌 · 临近期限</strong>"
        default: "<span>正常</span>"
        }
    }

    static func clock(_ name: String) -> String {
        switch name {
        case "approval": "审批"
        case "intake": "受理（逾期视为受理）"
        case "certificate": "制证"
        case "rectification": "差评整改"
        case "claim": "监管认领"
        default: name
        }
    }

    static func flag(_ colour: Evaluation_FlagColour) -> String {
        switch colour {
        case .red: "<strong class=\"warning red\">红旗</strong>"
        case .yellow: "<strong class=\"warning yellow\">黄旗</strong>"
        default: "<span>正常</span>"
        }
    }

    static func warningRows(_ warnings: [Evaluation_EarlyWarning]) -> String {
        guard !warnings.isEmpty else { return "<p>没有临近或超过期限的办件。</p>" }
        let rows = warnings.map { warning in
            let due = warning.deadline.hasDueOn ? VerifyPage.date(warning.deadline.dueOn) : "—"
            let number = warning.caseNumber.isEmpty ? "—" : HTML.escape(warning.caseNumber)
            let officer = warning.officer.name.isEmpty ? warning.officer.subject : warning.officer.name
            return "<tr><td data-label=\"办件\">\(number)</td><td data-label=\"事项\">\(HTML.escape(warning.itemName))</td>"
                + "<td data-label=\"计时\">\(HTML.escape(clock(warning.clock)))</td><td data-label=\"承办人\">\(HTML.escape(officer))</td>"
                + "<td data-label=\"期限\">\(due)</td><td data-label=\"预警\">\(warningLevel(warning.level))</td></tr>"
        }.joined(separator: "\n")
        return """
        <table class="items">
        <thead><tr><th scope="col">办件</th><th scope="col">事项</th><th scope="col">计时</th><th scope="col">承办人</th><th scope="col">期限</th><th scope="col">预警</th></tr></thead>
        <tbody>
        \(rows)
        </tbody>
        </table>
        """
    }

    static func flagRows(_ flags: [Evaluation_WindowFlag]) -> String {
        guard !flags.isEmpty else { return "<p>本月尚无窗口数据。</p>" }
        let rows = flags.map { window in
            let reasons = window.hits.map(\.description_p).filter { !$0.isEmpty }
            return "<tr><td data-label=\"窗口\">\(HTML.escape(window.windowName.isEmpty ? window.windowID : window.windowName))</td>"
                + "<td data-label=\"评定\">\(flag(window.colour))</td><td data-label=\"收件\">\(window.metrics.received)</td>"
                + "<td data-label=\"原因\">\(reasons.isEmpty ? "—" : HTML.escape(reasons.joined(separator: "；")))</td></tr>"
        }.joined(separator: "\n")
        return """
        <table class="items">
        <thead><tr><th scope="col">窗口</th><th scope="col">评定</th><th scope="col">收件</th><th scope="col">原因</th></tr></thead>
        <tbody>
        \(rows)
        </tbody>
        </table>
        """
    }

    static func charts(_ charts: [Evaluation_Chart]) -> String {
        charts.compactMap(ChartSpec.init).map { chart in
            "<figure>\(SVGChart.render(chart))\(chart.takeaway.isEmpty ? "" : "<figcaption>\(HTML.escape(chart.takeaway))</figcaption>")</figure>"
        }.joined(separator: "\n")
    }

    static func render(layout: Layout, staff: StaffStore.Staff, board: Board) -> String {
        let day = board.todayFigures, month = board.report.summary
        let date = PublicDisplay.date(year: board.today.year, month: board.today.month, day: board.today.day)
        let previous = board.month.previous.map { "<a href=\"/staff/dashboard/report?month=\($0.text)\">上月（\($0.year)年\($0.month)月）报告</a>" } ?? ""
        let body = """
        <h1>效能看板</h1>
        <p>\(HTML.escape(staff.displayName))（\(HTML.escape(staff.role.label))）· \(date) · 每分钟自动刷新 · <a href="/staff">工作台</a></p>
        <section class="card" aria-labelledby="today">
        <h2 id="today">今日</h2>
        \(figures([("收件", "\(day.received)"), ("受理", "\(day.accepted)"), ("办结", "\(day.decided)"), ("准予", "\(day.granted)"), ("不予", "\(day.denied)"), ("补正告知", "\(day.corrections)"), ("差评", "\(day.badReviews)")]))
        </section>
        <section class="card" aria-labelledby="month">
        <h2 id="month">本月（\(board.month.year)年\(board.month.month)月）</h2>
        \(figures([
            ("收件", "\(month.received)"), ("受理", "\(month.accepted)"), ("办结", "\(month.decided)"),
            ("按期办结率", percent(month.onTimeRate)), ("超期（已办结超期 + 在办超期）", "\(month.decidedLate) + \(month.runningOverdue)"),
            ("在办", "\(month.running)"), ("评价 / 差评", "\(month.ratings) / \(month.badReviews)"), ("满意度（1–5）", String(format: "%.2f", month.satisfactionMean)),
            ("差评整改 / 按期整改", "\(month.rectifications) / \(month.rectifiedOnTime)"), ("最多跑一次办结率", percent(month.oneVisitRate)),
        ]))
        <p><a href="/staff/dashboard/report?month=\(board.month.text)">本月效能分析报告</a> \(previous)</p>
        </section>
        <section class="card" aria-labelledby="warnings">
        <h2 id="warnings">预警：红牌 \(board.warnings.red) 件 · 黄牌 \(board.warnings.yellow) 件</h2>
        \(warningRows(board.warnings.warnings))
        \(board.warnings.page.totalSize > Int64(board.warnings.warnings.count) ? "<p>仅列出最紧迫的\(board.warnings.warnings.count)件，共\(board.warnings.page.totalSize)件。</p>" : "")
        </section>
        <section class="card" aria-labelledby="windows">
        <h2 id="windows">窗口红黄旗（本月）</h2>
        \(flagRows(board.report.flags))
        </section>
        <section class="card" aria-labelledby="charts">
        <h2 id="charts">图表</h2>
        \(charts(board.report.charts))
        </section>
        """
        return layout.page(title: "效能看板", body: body, refreshSeconds: DashboardHandlers.refreshSeconds)
    }

    static func unavailable(layout: Layout, staff: StaffStore.Staff, notice: String) -> String {
        let body = """
        <h1>效能看板</h1>
        \(AccountPages.banner(notice))
        <p>\(HTML.escape(staff.displayName))（\(HTML.escape(staff.role.label))）· <a href="/staff">工作台</a></p>
        """
        return layout.page(title: "效能看板", body: body)
    }

    static func refused(layout: Layout, csrf token: String, staff: StaffStore.Staff) -> String {
        let body = """
        <h1>无权访问</h1>
        <section class="verdict bad" role="alert"><p>效能看板仅供科室负责人、分管负责人、主要负责人、效能监督和局领导使用，你的岗位是\(HTML.escape(staff.role.label))。</p></section>
        <p><a href="/staff">返回工作台</a></p>
        """
        return layout.page(title: "无权访问", body: body)
    }
}
