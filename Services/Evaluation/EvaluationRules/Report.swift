import Foundation
import OneSealCore

/// One chart, ready to draw (mirrors `oneseal.evaluation.v1.Chart`). Rates are in percent when
/// `unit` is "%".
public struct ChartSpec: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable { case line, bar, stackedBar = "stacked_bar", pie, gauge }
    public struct Series: Sendable, Hashable {
        public var name: String
        public var points: [(label: String, value: Double)]
        public init(name: String, points: [(label: String, value: Double)]) {
            self.name = name
            self.points = points
        }
        public static func == (lhs: Series, rhs: Series) -> Bool {
            lhs.name == rhs.name && lhs.points.map(\.label) == rhs.points.map(\.label) && lhs.points.map(\.value) == rhs.points.map(\.value)
        }
        public func hash(into hasher: inout Hasher) {
            hasher.combine(name)
            hasher.combine(points.map(\.label))
        }
    }
    public var id: String
    public var title: String
    public var kind: Kind
    public var xLabel: String
    public var yLabel: String
    public var unit: String
    public var series: [Series]
    public var target: Double
    public var takeaway: String

    /// Public for the web front's dashboard, which draws the charts evaluation sends with
    /// `SVGChart` (the monthly report's renderer).
    public init(id: String, title: String, kind: Kind, xLabel: String, yLabel: String, unit: String, series: [Series], target: Double, takeaway: String) {
        self.id = id
        self.title = title
        self.kind = kind
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.unit = unit
        self.series = series
        self.target = target
        self.takeaway = takeaway
    }
}

/// A bad review as the report lists it. The comment is the rater's text as written (E12): it is
/// escaped when rendered, never altered when stored.
public struct BadReviewLine: Sendable, Hashable {
    public var ratedOn: CivilDate
    public var window: String
    public var item: String
    public var level: Rating
    public var comment: String
    public var tags: [String]
    public var status: String
    public init(ratedOn: CivilDate, window: String, item: String, level: Rating, comment: String, tags: [String], status: String) {
        self.ratedOn = ratedOn
        self.window = window
        self.item = item
        self.level = level
        self.comment = comment
        self.tags = tags
        self.status = status
    }
}

/// The monthly analysis report (月度效能分析报告): headline figures, charts, flags, bad reviews.
public struct MonthlyReport: Sendable, Hashable {
    public var title: String
    public var from: CivilDate
    public var to: CivilDate
    public var asOf: CivilDate
    public var nodes: [String]
    public var summary: Metrics
    public var previous: Metrics
    public var charts: [ChartSpec]
    public var flags: [WindowFlagResult]
    public var badReviews: [BadReviewLine]
    public var warnings: (yellow: Int, red: Int)
    /// The month's 案卷评查, when a sample was drawn (set by the caller, who holds the scores).
    public var caseFileReview: CaseFileReview.Summary? = nil

    public static func == (lhs: MonthlyReport, rhs: MonthlyReport) -> Bool {
        lhs.title == rhs.title && lhs.from == rhs.from && lhs.summary == rhs.summary && lhs.charts == rhs.charts && lhs.flags == rhs.flags
            && lhs.badReviews == rhs.badReviews && lhs.warnings == rhs.warnings && lhs.caseFileReview == rhs.caseFileReview
    }
    public func hash(into hasher: inout Hasher) { hasher.combine(title) }
}

public enum ReportBuilder {
    /// The first and last day of a month.
    public static func monthRange(year: Int, month: Int) -> (from: CivilDate, to: CivilDate)? {
        guard (1...12).contains(month), let from = CivilDate(year: year, month: month, day: 1),
              let to = CivilDate(year: year, month: month, day: CivilDate.daysInMonth(year: year, month: month)) else { return nil }
        return (from, to)
    }

    static func previousMonth(year: Int, month: Int) -> (year: Int, month: Int) {
        month == 1 ? (year - 1, 12) : (year, month - 1)
    }

    /// Builds the month's report for `nodes` (empty = all in the data) from the read model, ratings
    /// and tickets; `asOf` is today (a month still running is judged today).
    public static func monthly(
        year: Int, month: Int, asOf: CivilDate, title: String, nodes: Set<String>,
        model: ReadModel, ratings: [RatingFact], rectifications: [RectificationFact], badReviews: [BadReviewLine],
        rules: [FlagRule], onTimeTarget: Double, warnings: (yellow: Int, red: Int)
    ) -> MonthlyReport? {
        guard let range = monthRange(year: year, month: month) else { return nil }
        let labels = Labels(model: model)
        let last = previousMonth(year: year, month: month)
        let lastRange = monthRange(year: last.year, month: last.month)!
        var days: [CivilDate] = []
        var day = range.from
        while day <= range.to {
            days.append(day)
            day = day.next
        }
        var months: [(year: Int, month: Int)] = [(year, month)]
        while months.count < 6 { months.insert(previousMonth(year: months[0].year, month: months[0].month), at: 0) }
        func query(_ groupBy: GroupBy, from: CivilDate = range.from, to: CivilDate = range.to) -> FiguresQuery {
            FiguresQuery(from: from, to: to, asOf: asOf, groupBy: groupBy, nodes: nodes)
        }
        // Every table the report draws, counted in one pass over the facts.
        let queries = [query(.total), query(.total, from: lastRange.from, to: lastRange.to), query(.window), query(.item), query(.department)]
            + days.map { query(.total, from: $0, to: $0) }
            + months.map { m in let r = monthRange(year: m.year, month: m.month)!; return query(.total, from: r.from, to: r.to) }
        let tables = Figures.tables(queries, model: model, ratings: ratings, rectifications: rectifications, labels: labels)
        let summary = tables[0].total
        let previous = tables[1].total
        let windows = tables[2]
        let items = tables[3]
        let departments = tables[4]
        let dailyTables = tables[5..<(5 + days.count)]
        let monthlyTables = tables[(5 + days.count)...]
        var charts: [ChartSpec] = []

        // 1. On-time rate against the target.
        let delta = (summary.onTimeRate - previous.onTimeRate) * 100
        charts.append(ChartSpec(
            id: "on_time_gauge", title: "按期办结率", kind: .gauge, xLabel: "", yLabel: "", unit: "%",
            series: [.init(name: "按期办结率", points: [("本月", percent(summary.onTimeRate))])], target: onTimeTarget * 100,
            takeaway: summary.decided == 0 ? "本月无办结件。"
                : "本月办结\(summary.decided)件，按期办结率\(format(percent(summary.onTimeRate)))%，较上月\(delta >= 0 ? "提高" : "下降")\(format(abs(delta)))个百分点。"))

        // 2. Daily trend of received and decided.
        var received: [(label: String, value: Double)] = []
        var decided: [(label: String, value: Double)] = []
        for (day, daily) in zip(days, dailyTables.map(\.total)) {
            received.append(("\(day.day)日", Double(daily.received)))
            decided.append(("\(day.day)日", Double(daily.decided)))
        }
        let busiest = received.max { $0.1 < $1.1 }
        charts.append(ChartSpec(
            id: "daily_volume", title: "每日收件与办结", kind: .line, xLabel: "日期", yLabel: "件数", unit: "件",
            series: [.init(name: "收件", points: received), .init(name: "办结", points: decided)], target: 0,
            takeaway: summary.received == 0 ? "本月无收件。" : "本月收件\(summary.received)件、办结\(summary.decided)件；收件最多的一天是\(busiest?.0 ?? "")（\(Int(busiest?.1 ?? 0))件）。"))

        // 3. Per-window volume.
        charts.append(ChartSpec(
            id: "window_volume", title: "各窗口收件与办结", kind: .bar, xLabel: "窗口", yLabel: "件数", unit: "件",
            series: [
                .init(name: "收件", points: windows.rows.map { ($0.label, Double($0.metrics.received)) }),
                .init(name: "办结", points: windows.rows.map { ($0.label, Double($0.metrics.decided)) }),
            ], target: 0,
            takeaway: windows.rows.max { $0.metrics.received < $1.metrics.received }.map { "收件最多的窗口：\($0.label)（\($0.metrics.received)件）。" } ?? "本月无窗口数据。"))

        // 4. Per-window on-time rate.
        let decidedWindows = windows.rows.filter { $0.metrics.decided > 0 }
        charts.append(ChartSpec(
            id: "window_on_time", title: "各窗口按期办结率", kind: .bar, xLabel: "窗口", yLabel: "按期办结率", unit: "%",
            series: [.init(name: "按期办结率", points: decidedWindows.map { ($0.label, percent($0.metrics.onTimeRate)) })], target: onTimeTarget * 100,
            takeaway: decidedWindows.min { $0.metrics.onTimeRate < $1.metrics.onTimeRate }.map { "按期办结率最低：\($0.label)（\(format(percent($0.metrics.onTimeRate)))%）。" } ?? "本月无办结件。"))

        // 5. Working days per item.
        let decidedItems = items.rows.filter { $0.metrics.decided > 0 }
        charts.append(ChartSpec(
            id: "item_working_days", title: "各事项办理用时（工作日）", kind: .bar, xLabel: "事项", yLabel: "工作日", unit: "工作日",
            series: [
                .init(name: "平均", points: decidedItems.map { ($0.label, $0.metrics.workingDaysMean) }),
                .init(name: "中位数", points: decidedItems.map { ($0.label, $0.metrics.workingDaysMedian) }),
                .init(name: "P90", points: decidedItems.map { ($0.label, $0.metrics.workingDaysP90) }),
            ], target: 0,
            takeaway: summary.decided == 0 ? "本月无办结件。" : "全部办结件平均用时\(format(summary.workingDaysMean))个工作日，中位数\(format(summary.workingDaysMedian))，P90 \(format(summary.workingDaysP90))。"))

        // 6. Rating levels.
        var levels: [Int: Int] = [:]
        for rating in ratings where !rating.removed && range.from <= rating.ratedOn && rating.ratedOn <= range.to
            && (nodes.isEmpty || nodes.contains(rating.attribution.node)) {
            levels[rating.level.level, default: 0] += 1
        }
        charts.append(ChartSpec(
            id: "rating_levels", title: "评价等级分布", kind: .pie, xLabel: "", yLabel: "", unit: "件",
            series: [.init(name: "评价", points: Rating.allCases.reversed().map { ($0.chineseName, Double(levels[$0.level] ?? 0)) })], target: 0,
            takeaway: summary.ratings == 0 ? "本月无评价。" : "本月评价\(summary.ratings)件，差评\(summary.badReviews)件（差评率\(format(percent(summary.badReviewRatio)))%），满意度均值\(format(summary.satisfactionMean))。"))

        // 7. Department outcomes.
        charts.append(ChartSpec(
            id: "department_outcomes", title: "各部门办结情况", kind: .stackedBar, xLabel: "部门", yLabel: "件数", unit: "件",
            series: [
                .init(name: "准予", points: departments.rows.map { ($0.label, Double($0.metrics.granted)) }),
                .init(name: "不予", points: departments.rows.map { ($0.label, Double($0.metrics.denied)) }),
                .init(name: "在办", points: departments.rows.map { ($0.label, Double($0.metrics.running)) }),
            ], target: 0,
            takeaway: "月末在办\(summary.running)件，其中超期\(summary.runningOverdue)件。"))

        // 8. Six-month trend.
        var onTime: [(label: String, value: Double)] = []
        var bad: [(label: String, value: Double)] = []
        for (m, metrics) in zip(months, monthlyTables.map(\.total)) {
            let label = String(format: "%04d-%02d", m.year, m.month)
            onTime.append((label, percent(metrics.onTimeRate)))
            bad.append((label, percent(metrics.badReviewRatio)))
        }
        charts.append(ChartSpec(
            id: "trend", title: "近六个月按期办结率与差评率", kind: .line, xLabel: "月份", yLabel: "%", unit: "%",
            series: [.init(name: "按期办结率", points: onTime), .init(name: "差评率", points: bad)], target: onTimeTarget * 100,
            takeaway: "差评整改按期率\(format(percent(summary.rectificationOnTimeRate)))%（\(summary.rectifiedOnTime)/\(summary.rectificationsSettled)）。"))

        let flags = Flags.judge(windows: windows.rows.map { ($0.key, $0.label, nodes.count == 1 ? nodes.first! : "", $0.metrics) }, rules: rules)
        return MonthlyReport(
            title: title, from: range.from, to: range.to, asOf: asOf, nodes: nodes.sorted(), summary: summary, previous: previous,
            charts: charts, flags: flags, badReviews: badReviews.sorted { ($0.ratedOn, $0.window) < ($1.ratedOn, $1.window) }, warnings: warnings)
    }

    /// Supervision pushes of the period per department: pushed, claimed by the claim deadline,
    /// claimed late or not at all, rejected (审管联动 claim timeliness).
    public static func supervisionChart(pushes: [PushFact], from: CivilDate, to: CivilDate, labels: Labels) -> ChartSpec {
        var rows: [String: (name: String, pushed: Int, onTime: Int, late: Int, rejected: Int)] = [:]
        for push in pushes {
            guard let pushed = push.pushedOn, from <= pushed, pushed <= to else { continue }
            let code = push.department?.code ?? ""
            var row = rows[code] ?? (push.department?.name ?? code, 0, 0, 0, 0)
            row.pushed += 1
            if push.rejectedOn != nil {
                row.rejected += 1
            } else if let claimed = push.claimedOn, !push.claimOverdue, push.claimDueOn.map({ claimed <= $0 }) ?? true {
                row.onTime += 1
            } else {
                row.late += 1
            }
            rows[code] = row
        }
        let sorted = rows.sorted { $0.key < $1.key }
        let total = sorted.reduce(0) { $0 + $1.value.pushed }
        let onTime = sorted.reduce(0) { $0 + $1.value.onTime }
        return ChartSpec(
            id: "supervision_claims", title: "各部门推送认领情况", kind: .stackedBar, xLabel: "部门", yLabel: "件数", unit: "件",
            series: [
                .init(name: "按期认领", points: sorted.map { ($0.value.name, Double($0.value.onTime)) }),
                .init(name: "逾期或未认领", points: sorted.map { ($0.value.name, Double($0.value.late)) }),
                .init(name: "退回", points: sorted.map { ($0.value.name, Double($0.value.rejected)) }),
            ], target: 0,
            takeaway: total == 0 ? "本期无推送。" : "本期推送\(total)件，按期认领\(onTime)件（\(format(percent(Double(onTime) / Double(total))))%）。")
    }

    static func percent(_ rate: Double) -> Double { (rate * 1000).rounded() / 10 }

    /// One decimal, without a trailing ".0".
    public static func format(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(format: "%.1f", rounded)
    }
}
