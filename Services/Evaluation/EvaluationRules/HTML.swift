import Foundation
import OneSealCore

/// Escapes text for HTML and SVG (XML) content and attribute values: every comment, label and
/// name that reaches the page goes through here (E12).
public func htmlEscape(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for scalar in text.unicodeScalars {
        switch scalar {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default:
            // Control characters other than tab/newline are not allowed in XML 1.0.
            if scalar.value < 0x20, scalar != "\n", scalar != "\t" { out += "\u{FFFD}" } else { out.unicodeScalars.append(scalar) }
        }
    }
    return out
}

/// Renders charts as inline SVG: no scripts, no fonts or images from elsewhere, so the report
/// reads the same offline and in a mail attachment.
public enum SVGChart {
    static let palette = ["#2f6db5", "#e0803a", "#3a9d5d", "#c23b3b", "#8a5cb8", "#7f7f7f"]
    static let width = 720.0
    static let height = 320.0
    static let left = 56.0, right = 16.0, top = 28.0, bottom = 64.0

    public static func render(_ chart: ChartSpec) -> String {
        switch chart.kind {
        case .bar: bars(chart, stacked: false)
        case .stackedBar: bars(chart, stacked: true)
        case .line: line(chart)
        case .pie: pie(chart)
        case .gauge: gauge(chart)
        }
    }

    static func n(_ value: Double) -> String { String(format: "%.1f", value) }

    static func open(_ chart: ChartSpec, height: Double = SVGChart.height) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" viewBox=\"0 0 \(n(width)) \(n(height))\" width=\"100%\" aria-label=\"\(htmlEscape(chart.title))\"><title>\(htmlEscape(chart.title))</title>"
    }

    static func short(_ label: String, _ limit: Int = 8) -> String {
        label.count <= limit ? label : String(label.prefix(limit - 1)) + "…"
    }

    static func legend(_ series: [ChartSpec.Series], y: Double) -> String {
        var out = ""
        var x = left
        for (index, series) in series.enumerated() {
            out += "<rect x=\"\(n(x))\" y=\"\(n(y - 9))\" width=\"10\" height=\"10\" fill=\"\(palette[index % palette.count])\"/>"
            out += "<text x=\"\(n(x + 14))\" y=\"\(n(y))\" font-size=\"12\">\(htmlEscape(series.name))</text>"
            x += 28 + Double(series.name.count) * 13
        }
        return out
    }

    static func axes(maximum: Double, unit: String) -> String {
        let plotHeight = height - top - bottom
        var out = "<line x1=\"\(n(left))\" y1=\"\(n(top))\" x2=\"\(n(left))\" y2=\"\(n(height - bottom))\" stroke=\"#444\"/>"
        out += "<line x1=\"\(n(left))\" y1=\"\(n(height - bottom))\" x2=\"\(n(width - right))\" y2=\"\(n(height - bottom))\" stroke=\"#444\"/>"
        for step in 0...4 {
            let value = maximum * Double(step) / 4
            let y = height - bottom - plotHeight * Double(step) / 4
            out += "<line x1=\"\(n(left - 4))\" y1=\"\(n(y))\" x2=\"\(n(width - right))\" y2=\"\(n(y))\" stroke=\"#ddd\"/>"
            out += "<text x=\"\(n(left - 6))\" y=\"\(n(y + 4))\" font-size=\"11\" text-anchor=\"end\">\(htmlEscape(ReportBuilder.format(value)))</text>"
        }
        out += "<text x=\"4\" y=\"\(n(top - 10))\" font-size=\"11\">\(htmlEscape(unit))</text>"
        return out
    }

    /// A round scale maximum at or above `value` (1, 2, 5 × 10ⁿ), at least 1.
    static func niceMaximum(_ value: Double) -> Double {
        guard value > 0 else { return 1 }
        let magnitude = pow(10, floor(log10(value)))
        for factor in [1.0, 2.0, 5.0, 10.0] where factor * magnitude >= value { return factor * magnitude }
        return 10 * magnitude
    }

    static func targetLine(_ chart: ChartSpec, maximum: Double) -> String {
        guard chart.target > 0, chart.target <= maximum else { return "" }
        let y = height - bottom - (height - top - bottom) * chart.target / maximum
        return "<line x1=\"\(n(left))\" y1=\"\(n(y))\" x2=\"\(n(width - right))\" y2=\"\(n(y))\" stroke=\"#c23b3b\" stroke-dasharray=\"6 4\"/>"
            + "<text x=\"\(n(width - right))\" y=\"\(n(y - 4))\" font-size=\"11\" text-anchor=\"end\" fill=\"#c23b3b\">目标 \(htmlEscape(ReportBuilder.format(chart.target)))\(htmlEscape(chart.unit))</text>"
    }

    static func empty(_ chart: ChartSpec) -> String {
        open(chart, height: 80) + "<text x=\"\(n(width / 2))\" y=\"44\" font-size=\"14\" text-anchor=\"middle\" fill=\"#777\">无数据</text></svg>"
    }

    static func bars(_ chart: ChartSpec, stacked: Bool) -> String {
        let labels = chart.series.first?.points.map(\.label) ?? []
        guard !labels.isEmpty else { return empty(chart) }
        var top = 0.0
        for index in labels.indices {
            let values = chart.series.map { $0.points.indices.contains(index) ? $0.points[index].value : 0 }
            top = max(top, stacked ? values.reduce(0, +) : (values.max() ?? 0))
        }
        let maximum = niceMaximum(max(top, chart.unit == "%" ? min(chart.target, 100) : 0))
        let plotWidth = width - left - right
        let plotHeight = height - self.top - bottom
        let groupWidth = plotWidth / Double(labels.count)
        let barWidth = stacked ? groupWidth * 0.6 : groupWidth * 0.8 / Double(max(chart.series.count, 1))
        var out = open(chart) + axes(maximum: maximum, unit: chart.unit)
        for (index, label) in labels.enumerated() {
            let groupX = left + groupWidth * Double(index)
            var base = height - bottom
            for (s, series) in chart.series.enumerated() {
                let value = series.points.indices.contains(index) ? series.points[index].value : 0
                let barHeight = plotHeight * value / maximum
                let x = stacked ? groupX + groupWidth * 0.2 : groupX + groupWidth * 0.1 + barWidth * Double(s)
                let y = stacked ? base - barHeight : height - bottom - barHeight
                out += "<rect x=\"\(n(x))\" y=\"\(n(y))\" width=\"\(n(barWidth))\" height=\"\(n(barHeight))\" fill=\"\(palette[s % palette.count])\"><title>\(htmlEscape(series.name)) · \(htmlEscape(label))：\(htmlEscape(ReportBuilder.format(value)))\(htmlEscape(chart.unit))</title></rect>"
                if stacked { base -= barHeight }
            }
            out += "<text x=\"\(n(groupX + groupWidth / 2))\" y=\"\(n(height - bottom + 16))\" font-size=\"11\" text-anchor=\"middle\">\(htmlEscape(short(label)))</text>"
        }
        out += targetLine(chart, maximum: maximum)
        out += legend(chart.series, y: height - 12)
        return out + "</svg>"
    }

    static func line(_ chart: ChartSpec) -> String {
        let labels = chart.series.first?.points.map(\.label) ?? []
        guard !labels.isEmpty else { return empty(chart) }
        let top = chart.series.flatMap { $0.points.map(\.value) }.max() ?? 0
        let maximum = niceMaximum(max(top, chart.unit == "%" ? min(chart.target, 100) : 0))
        let plotWidth = width - left - right
        let plotHeight = height - self.top - bottom
        let stepX = labels.count > 1 ? plotWidth / Double(labels.count - 1) : 0
        var out = open(chart) + axes(maximum: maximum, unit: chart.unit)
        let every = max(1, Int((Double(labels.count) / 12).rounded(.up)))
        for (index, label) in labels.enumerated() where index % every == 0 {
            out += "<text x=\"\(n(left + stepX * Double(index)))\" y=\"\(n(height - bottom + 16))\" font-size=\"11\" text-anchor=\"middle\">\(htmlEscape(short(label)))</text>"
        }
        for (s, series) in chart.series.enumerated() {
            let points = series.points.enumerated().map { index, point in
                "\(n(left + stepX * Double(index))),\(n(height - bottom - plotHeight * point.value / maximum))"
            }
            out += "<polyline fill=\"none\" stroke=\"\(palette[s % palette.count])\" stroke-width=\"2\" points=\"\(points.joined(separator: " "))\"/>"
            for (index, point) in series.points.enumerated() {
                out += "<circle cx=\"\(n(left + stepX * Double(index)))\" cy=\"\(n(height - bottom - plotHeight * point.value / maximum))\" r=\"2.5\" fill=\"\(palette[s % palette.count])\"><title>\(htmlEscape(series.name)) · \(htmlEscape(point.label))：\(htmlEscape(ReportBuilder.format(point.value)))\(htmlEscape(chart.unit))</title></circle>"
            }
        }
        out += targetLine(chart, maximum: maximum)
        out += legend(chart.series, y: height - 12)
        return out + "</svg>"
    }

    static func pie(_ chart: ChartSpec) -> String {
        let points = chart.series.first?.points ?? []
        let total = points.map(\.value).reduce(0, +)
        guard total > 0 else { return empty(chart) }
        let cx = 160.0, cy = height / 2, r = 110.0
        var out = open(chart)
        var angle = -Double.pi / 2
        for (index, point) in points.enumerated() where point.value > 0 {
            let colour = palette[index % palette.count]
            let tooltip = "<title>\(htmlEscape(point.label))：\(htmlEscape(ReportBuilder.format(point.value)))\(htmlEscape(chart.unit))</title>"
            if point.value >= total {
                out += "<circle cx=\"\(n(cx))\" cy=\"\(n(cy))\" r=\"\(n(r))\" fill=\"\(colour)\">\(tooltip)</circle>"
                continue
            }
            let sweep = 2 * Double.pi * point.value / total
            let x1 = cx + r * cos(angle), y1 = cy + r * sin(angle)
            let x2 = cx + r * cos(angle + sweep), y2 = cy + r * sin(angle + sweep)
            out += "<path d=\"M\(n(cx)),\(n(cy)) L\(n(x1)),\(n(y1)) A\(n(r)),\(n(r)) 0 \(sweep > Double.pi ? 1 : 0) 1 \(n(x2)),\(n(y2)) Z\" fill=\"\(colour)\" stroke=\"#fff\">\(tooltip)</path>"
            angle += sweep
        }
        for (index, point) in points.enumerated() {
            let y = 60.0 + Double(index) * 24
            let share = ReportBuilder.format(point.value / total * 100)
            out += "<rect x=\"320\" y=\"\(n(y - 11))\" width=\"12\" height=\"12\" fill=\"\(palette[index % palette.count])\"/>"
            out += "<text x=\"338\" y=\"\(n(y))\" font-size=\"13\">\(htmlEscape(point.label))：\(htmlEscape(ReportBuilder.format(point.value)))\(htmlEscape(chart.unit))（\(share)%）</text>"
        }
        return out + "</svg>"
    }

    static func gauge(_ chart: ChartSpec) -> String {
        let value = min(max(chart.series.first?.points.first?.value ?? 0, 0), 100)
        let cx = width / 2, cy = 200.0, r = 140.0
        func point(_ percent: Double) -> (Double, Double) {
            let a = Double.pi * (1 - percent / 100)
            return (cx + r * cos(a), cy - r * sin(a))
        }
        let start = point(0), end = point(100), at = point(value)
        var out = open(chart, height: 250)
        out += "<path d=\"M\(n(start.0)),\(n(start.1)) A\(n(r)),\(n(r)) 0 0 1 \(n(end.0)),\(n(end.1))\" fill=\"none\" stroke=\"#e6e6e6\" stroke-width=\"26\"/>"
        if value > 0 {
            let colour = chart.target > 0 && value < chart.target ? "#e0803a" : "#3a9d5d"
            out += "<path d=\"M\(n(start.0)),\(n(start.1)) A\(n(r)),\(n(r)) 0 0 1 \(n(at.0)),\(n(at.1))\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"26\"/>"
        }
        if chart.target > 0 {
            let inner = (cx + (r - 20) * cos(Double.pi * (1 - chart.target / 100)), cy - (r - 20) * sin(Double.pi * (1 - chart.target / 100)))
            let outer = (cx + (r + 20) * cos(Double.pi * (1 - chart.target / 100)), cy - (r + 20) * sin(Double.pi * (1 - chart.target / 100)))
            out += "<line x1=\"\(n(inner.0))\" y1=\"\(n(inner.1))\" x2=\"\(n(outer.0))\" y2=\"\(n(outer.1))\" stroke=\"#c23b3b\" stroke-width=\"3\"><title>目标 \(htmlEscape(ReportBuilder.format(chart.target)))%</title></line>"
        }
        out += "<text x=\"\(n(cx))\" y=\"\(n(cy - 20))\" font-size=\"36\" text-anchor=\"middle\" font-weight=\"bold\">\(htmlEscape(ReportBuilder.format(value)))\(htmlEscape(chart.unit))</text>"
        out += "<text x=\"\(n(cx))\" y=\"\(n(cy + 24))\" font-size=\"13\" text-anchor=\"middle\">\(htmlEscape(chart.series.first?.name ?? ""))</text>"
        return out + "</svg>"
    }
}

public enum HTMLReport {
    /// The report as one self-contained HTML page: inline CSS and SVG, no script, no external
    /// resource (a Content-Security-Policy forbids loading any), every text escaped.
    public static func render(_ report: MonthlyReport) -> String {
        let s = report.summary
        func pct(_ rate: Double) -> String { ReportBuilder.format(rate * 100) + "%" }
        var html = """
        <!DOCTYPE html>
        <html lang="zh-CN">
        <head>
        <meta charset="utf-8">
        <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(htmlEscape(report.title))</title>
        <style>
        body{font-family:"Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Microsoft YaHei",sans-serif;margin:24px auto;max-width:980px;color:#222;line-height:1.5}
        h1{font-size:24px;margin-bottom:4px}h2{font-size:18px;margin-top:32px;border-bottom:2px solid #2f6db5;padding-bottom:4px}
        .meta{color:#666;font-size:13px}.cards{display:flex;flex-wrap:wrap;gap:12px;margin-top:16px}
        .card{flex:1 1 150px;border:1px solid #ddd;border-radius:6px;padding:10px 14px}.card b{display:block;font-size:22px}
        .card span{color:#666;font-size:13px}.chart{margin-top:24px}.takeaway{font-size:14px;color:#333;margin:4px 0 0}
        table{border-collapse:collapse;width:100%;font-size:13px;margin-top:8px}th,td{border:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}
        th{background:#f3f6fa}.red{color:#c23b3b;font-weight:bold}.yellow{color:#b7791f;font-weight:bold}.comment{white-space:pre-wrap;word-break:break-all}
        </style>
        </head>
        <body>
        <h1>\(htmlEscape(report.title))</h1>
        <p class="meta">统计期间：\(report.from.iso8601) 至 \(report.to.iso8601)；数据截至 \(report.asOf.iso8601)\(report.nodes.isEmpty ? "" : "；节点：" + htmlEscape(report.nodes.joined(separator: "、")))</p>
        <div class="cards">
        """
        let cards: [(String, String)] = [
            ("收件", "\(s.received)"), ("受理", "\(s.accepted)"), ("办结", "\(s.decided)"), ("按期办结率", pct(s.onTimeRate)),
            ("超期", "\(s.overdue)"), ("一次办结率", pct(s.oneVisitRate)), ("评价", "\(s.ratings)"), ("差评率", pct(s.badReviewRatio)),
            ("整改按期率", pct(s.rectificationOnTimeRate)), ("在办预警", "黄\(report.warnings.yellow) / 红\(report.warnings.red)"),
        ]
        for (name, value) in cards {
            html += "<div class=\"card\"><b>\(htmlEscape(value))</b><span>\(htmlEscape(name))</span></div>\n"
        }
        html += "</div>\n"
        for chart in report.charts {
            html += "<section class=\"chart\" id=\"\(htmlEscape(chart.id))\"><h2>\(htmlEscape(chart.title))</h2>\n\(SVGChart.render(chart))\n<p class=\"takeaway\">\(htmlEscape(chart.takeaway))</p></section>\n"
        }
        html += "<h2>红黄旗窗口</h2>\n"
        let flagged = report.flags.filter { $0.colour != .none }
        if flagged.isEmpty {
            html += "<p>本月无红旗、黄旗窗口。</p>\n"
        } else {
            html += "<table><tr><th>窗口</th><th>旗帜</th><th>依据</th></tr>\n"
            for flag in flagged {
                let name = flag.colour == .red ? "红旗" : "黄旗"
                let reasons = flag.hits.map { "\($0.rule.description)（\(ReportBuilder.format($0.value))）" }.joined(separator: "；")
                html += "<tr><td>\(htmlEscape(flag.label))</td><td class=\"\(flag.colour.rawValue)\">\(name)</td><td>\(htmlEscape(reasons))</td></tr>\n"
            }
            html += "</table>\n"
        }
        html += "<h2>差评及整改</h2>\n"
        if report.badReviews.isEmpty {
            html += "<p>本月无差评。</p>\n"
        } else {
            html += "<table><tr><th>日期</th><th>窗口</th><th>事项</th><th>等级</th><th>评价内容</th><th>整改</th></tr>\n"
            for line in report.badReviews {
                let tags = line.tags.isEmpty ? "" : "〔" + line.tags.joined(separator: "、") + "〕"
                html += "<tr><td>\(line.ratedOn.iso8601)</td><td>\(htmlEscape(line.window))</td><td>\(htmlEscape(line.item))</td><td>\(htmlEscape(line.level.chineseName))</td><td class=\"comment\">\(htmlEscape(tags + line.comment))</td><td>\(htmlEscape(line.status))</td></tr>\n"
            }
            html += "</table>\n"
        }
        if let review = report.caseFileReview {
            html += CaseFileReview.html(review)
        }
        html += "<p class=\"meta\">本报告由 OneSeal 效能评价服务生成，可离线阅读。</p>\n</body>\n</html>\n"
        return html
    }
}
