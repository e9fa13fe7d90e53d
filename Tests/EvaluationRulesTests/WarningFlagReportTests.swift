import Foundation
import OneSealCore
import Testing

@testable import EvaluationRules

@Suite("Early warnings, monthly flags and the report")
struct WarningFlagReportTests {
    let calendar = WorkingDayCalendar.china

    func runningCase(_ id: String, due: String, suspended: Bool = false, window: String = "W1", officer: String = "o1") -> (CaseFact, ApplicationFact) {
        var fact = CaseFact(id: id)
        fact.applicationID = "app-\(id)"
        fact.decidingNode = "371302"
        fact.openedOn = day("2026-09-01")
        fact.dueOn = day(due)
        fact.suspended = suspended
        fact.officer = StaffRef(subject: officer)
        var application = ApplicationFact(id: "app-\(id)")
        application.windowID = window
        return (fact, application)
    }

    @Test("yellow with 3 working days or fewer left, red once past the due day, never while suspended — across National Day 2026")
    func warnings() throws {
        let today = day("2026-09-29")
        var model = ReadModel()
        for (fact, application) in [
            runningCase("due-10-09", due: "2026-10-09"),  // left: 09-30, 10-08, 10-09 = 3 → yellow
            runningCase("due-10-12", due: "2026-10-12", window: "W2"),  // + Sat 10-10 (make-up), 10-12 = 5 → normal
            runningCase("due-09-28", due: "2026-09-28", officer: "o2"),  // past: red, 1 working day over
            runningCase("suspended", due: "2026-09-25", suspended: true),  // clock stopped: normal
        ] {
            model.cases[fact.id] = fact
            model.applications[application.id] = application
        }
        let ticket = RectificationFact(id: "t1", attribution: Attribution(node: "371302", windowID: "W2"), openedOn: day("2026-09-10"), dueOn: day("2026-09-30"), rectifiedOn: nil, void: false)
        let warnings = try EarlyWarnings.list(model: model, rectifications: [ticket], today: today, policy: .default, calendar: calendar)
        // Red first, then by due day: the ticket (due 09-30, 1 day left) before the case due 10-09.
        #expect(warnings.map(\.id) == ["due-09-28", "t1", "due-10-09"])
        #expect(warnings.map(\.level) == [.red, .yellow, .yellow])
        #expect(warnings[0].overdueWorkingDays == 1)
        #expect(warnings[1].clock == .rectification)
        #expect(warnings[1].workingDaysLeft == 1)
        #expect(warnings[2].workingDaysLeft == 3)
        let red = try EarlyWarnings.list(model: model, rectifications: [ticket], today: today, policy: .default, calendar: calendar, minimum: .red)
        #expect(red.map(\.id) == ["due-09-28"])
        let perWindow = EarlyWarnings.counts(warnings, by: .window)
        #expect(perWindow["W1"]?.red == 1 && perWindow["W1"]?.yellow == 1)
        #expect(perWindow["W2"]?.yellow == 1)
        let perOfficer = EarlyWarnings.counts(warnings, by: .officer)
        #expect(perOfficer["o2"]?.red == 1)
    }

    @Test("flag rules parse, and bad lines are all reported")
    func ruleParsing() throws {
        #expect(FlagRule.defaults.count == 8)
        let rules = try FlagRule.parse("# comment\nred received >= 3 受理不少于3件\n\nyellow overdue >= 1 有超期件\n")
        #expect(rules.map(\.metric) == [.received, .overdue])
        #expect(rules[0].description == "受理不少于3件")
        let error = ruleError { _ = try FlagRule.parse("blue overdue >= 1 x\nyellow speed > 1 x\nred overdue => 1 x\nred overdue >= many x\nred overdue") }
        #expect(reasons(error) == [
            "flag_rules[line 1]=colour", "flag_rules[line 2]=metric", "flag_rules[line 3]=operator", "flag_rules[line 4]=threshold", "flag_rules[line 5]=format",
        ])
    }

    @Test("October's windows: W1 red (every red rule met), W2 yellow with its reasons")
    func flags() throws {
        let model = ReadModel(folding: Stream.intake + Stream.approval)
        let table = Figures.table(Stream.october(.window), model: model, ratings: Stream.ratings, rectifications: Stream.tickets)
        let rules = try FlagRule.parse("""
            red received >= 3 月收件不少于3件
            red on_time_rate >= 1 按期办结率100%
            yellow overdue >= 1 有超期办件
            yellow on_time_rate < 0.9 按期办结率低于90%
            """)
        let flags = Flags.judge(windows: table.rows.map { ($0.key, $0.label, "371302", $0.metrics) }, rules: rules)
        #expect(flags.map(\.windowID) == ["W1", "W2"])
        #expect(flags.map(\.colour) == [.red, .yellow])
        #expect(flags[0].hits.map(\.rule.description) == ["月收件不少于3件", "按期办结率100%"])
        #expect(flags[1].hits.map(\.rule.description) == ["有超期办件", "按期办结率低于90%"])
        #expect(flags[1].hits.map(\.value) == [2, 0])
        // With the defaults W1's bad-review ratio (1 of 2) makes it yellow too.
        let defaults = Flags.judge(windows: table.rows.map { ($0.key, $0.label, "371302", $0.metrics) }, rules: FlagRule.defaults)
        #expect(defaults.first { $0.windowID == "W1" }?.hits.map(\.rule.metric) == [.badReviewRatio])
    }

    func makeReport(comment: String) -> MonthlyReport {
        let model = ReadModel(folding: Stream.intake + Stream.approval)
        let bad = BadReviewLine(ratedOn: day("2026-10-23"), window: "W1", item: "食品经营许可", level: .dissatisfied, comment: comment, tags: ["态度"], status: "待回访")
        return ReportBuilder.monthly(
            year: 2026, month: 10, asOf: day("2026-11-05"), title: "兰山区行政审批服务局 2026年10月效能分析报告", nodes: [Stream.county],
            model: model, ratings: Stream.ratings, rectifications: Stream.tickets, badReviews: [bad], rules: FlagRule.defaults,
            onTimeTarget: 0.98, warnings: (yellow: 1, red: 2))!
    }

    @Test("the monthly report has its charts with the month's figures")
    func charts() {
        let report = makeReport(comment: "等了很久")
        #expect(report.summary.received == 6)
        #expect(report.charts.map(\.id) == ["on_time_gauge", "daily_volume", "window_volume", "window_on_time", "item_working_days", "rating_levels", "department_outcomes", "trend"])
        #expect(report.charts[0].series[0].points[0].value == 75)
        #expect(report.charts[1].series[0].points.count == 31)
        #expect(report.charts[1].series[0].points[11].value == 2)  // 10-12: app2 and app3
        #expect(report.charts[5].series[0].points.map(\.value) == [1, 1, 0, 1, 0])  // 5, 4, 3, 2, 1
        #expect(report.charts[7].series[0].points.map(\.label) == ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"])
        #expect(report.charts[0].takeaway.contains("按期办结率75%"))
        #expect(ReportBuilder.monthRange(year: 2026, month: 2)?.to == day("2026-02-28"))
        #expect(ReportBuilder.monthRange(year: 2026, month: 13) == nil)
    }

    @Test("supervision pushes per department: claimed on time, late or never, rejected")
    func supervision() {
        func push(_ id: String, _ department: String, claimed: String?, due: String = "2026-10-13", overdue: Bool = false, rejected: Bool = false) -> PushFact {
            var fact = PushFact(id: id)
            fact.department = Department(code: department, name: department == "SCJ" ? "市场监管局" : "卫健委")
            fact.pushedOn = day("2026-10-12")
            fact.claimDueOn = day(due)
            fact.claimedOn = claimed.map(day)
            fact.claimOverdue = overdue
            if rejected { fact.rejectedOn = day("2026-10-12") }
            return fact
        }
        var september = push("p0", "SCJ", claimed: nil)
        september.pushedOn = day("2026-09-30")
        let pushes = [
            push("p1", "SCJ", claimed: "2026-10-13"),  // on the due day
            push("p2", "SCJ", claimed: "2026-10-15", overdue: true),  // late
            push("p3", "WJW", claimed: nil),  // never
            push("p4", "WJW", claimed: nil, rejected: true),
            september,
        ]
        let chart = ReportBuilder.supervisionChart(pushes: pushes, from: day("2026-10-01"), to: day("2026-10-31"), labels: Labels())
        #expect(chart.series.map(\.name) == ["按期认领", "逾期或未认领", "退回"])
        #expect(chart.series[0].points.map(\.label) == ["市场监管局", "卫健委"])
        #expect(chart.series.map { $0.points.map(\.value) } == [[1, 0], [1, 1], [0, 1]])
        #expect(chart.takeaway == "本期推送4件，按期认领1件（25%）。")
    }

    @Test("the HTML is self-contained, draws SVG charts and escapes a hostile comment")
    func html() {
        let hostile = "<script>alert('x')</script>\"><img src=x onerror=alert(1)>&amp;"
        let html = HTMLReport.render(makeReport(comment: hostile))
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.components(separatedBy: "<svg ").count - 1 == 8)
        #expect(html.contains("<polyline"))
        #expect(html.contains("<path d=\"M"))
        #expect(!html.contains("<script"))
        #expect(!html.contains("<img"))
        #expect(!html.contains("src=\"http") && !html.contains("href=") && !html.contains("<link"))
        #expect(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&amp;amp;"))
        #expect(html.contains("兰山区行政审批服务局 2026年10月效能分析报告"))
        #expect(htmlEscape("a\u{1}b") == "a\u{FFFD}b")
    }
}
