import OneSealCore

public enum FlagColour: String, Sendable, Hashable, Codable, CaseIterable {
    case none, yellow, red
}

/// A metric a flag rule looks at.
public enum FlagMetric: String, Sendable, Hashable, Codable, CaseIterable {
    case received, decided, overdue
    case onTimeRate = "on_time_rate"
    case badReviewRatio = "bad_review_ratio"
    case badReviews = "bad_reviews"
    case satisfactionMean = "satisfaction_mean"
    case oneVisitRate = "one_visit_rate"
    case redoRate = "redo_rate"
    case rectificationOnTimeRate = "rectification_on_time_rate"
    case rectificationsOverdue = "rectifications_overdue"
    case ratings

    public func value(_ metrics: Metrics) -> Double {
        switch self {
        case .received: Double(metrics.received)
        case .decided: Double(metrics.decided)
        case .overdue: Double(metrics.overdue)
        case .onTimeRate: metrics.onTimeRate
        case .badReviewRatio: metrics.badReviewRatio
        case .badReviews: Double(metrics.badReviews)
        case .satisfactionMean: metrics.satisfactionMean
        case .oneVisitRate: metrics.oneVisitRate
        case .redoRate: metrics.redoRate
        case .rectificationOnTimeRate: metrics.rectificationOnTimeRate
        case .rectificationsOverdue: Double(metrics.rectificationsOverdue)
        case .ratings: Double(metrics.ratings)
        }
    }

    /// Whether the rate has a denominator this month (a rule on an empty rate does not fire).
    func isDefined(_ metrics: Metrics) -> Bool {
        switch self {
        case .onTimeRate, .redoRate: metrics.decided > 0
        case .badReviewRatio, .satisfactionMean: metrics.ratings > 0
        case .oneVisitRate: metrics.delivered > 0
        case .rectificationOnTimeRate: metrics.rectificationsSettled > 0
        default: true
        }
    }
}

public enum Comparison: String, Sendable, Hashable, Codable, CaseIterable {
    case less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">=", equal = "=="

    func holds(_ value: Double, _ threshold: Double) -> Bool {
        switch self {
        case .less: value < threshold
        case .lessOrEqual: value <= threshold + 1e-12
        case .greater: value > threshold
        case .greaterOrEqual: value >= threshold - 1e-12
        case .equal: abs(value - threshold) < 1e-12
        }
    }
}

/// One configurable flag rule (E11). A yellow rule fires on a shortfall; a red (excellent) rule
/// is a condition every red-flag window must meet.
public struct FlagRule: Sendable, Hashable, Codable {
    public var id: String
    public var colour: FlagColour
    public var metric: FlagMetric
    public var comparison: Comparison
    public var threshold: Double
    public var description: String

    public init(id: String, colour: FlagColour, metric: FlagMetric, comparison: Comparison, threshold: Double, description: String) {
        self.id = id
        self.colour = colour
        self.metric = metric
        self.comparison = comparison
        self.threshold = threshold
        self.description = description
    }

    public func holds(_ metrics: Metrics) -> Bool {
        metric.isDefined(metrics) && comparison.holds(metric.value(metrics), threshold)
    }

    /// The defaults (a node replaces them with `evaluation.flag_rules`): yellow for an on-time
    /// rate under 95 %, any overdue case, a bad-review ratio over 1 %, any late rectification;
    /// red for a window with at least 20 applications, an on-time rate of 100 %, no bad review and a
    /// mean rating of at least 4.8.
    public static let defaults: [FlagRule] = try! FlagRule.parse("""
        yellow on_time_rate < 0.95 按期办结率低于95%
        yellow overdue >= 1 有超期办件
        yellow bad_review_ratio > 0.01 差评率高于1%
        yellow rectifications_overdue >= 1 差评整改超期
        red received >= 20 月受理量不少于20件
        red on_time_rate >= 1 按期办结率100%
        red bad_reviews == 0 无差评
        red satisfaction_mean >= 4.8 满意度均值不低于4.8
        """)

    /// Parses rules, one per line: `<yellow|red> <metric> <op> <number> <description>`; blank lines
    /// and lines starting with # are skipped. Every bad line is reported.
    public static func parse(_ text: String) throws(EvaluationRuleError) -> [FlagRule] {
        var rules: [FlagRule] = []
        var violations: [FieldViolation] = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let parts = line.split(separator: " ", maxSplits: 4, omittingEmptySubsequences: true).map(String.init)
            let field = "flag_rules[line \(index + 1)]"
            guard parts.count == 5 else {
                violations.append(FieldViolation(field: field, description: "expected `<yellow|red> <metric> <op> <number> <description>`, got “\(line)”", reason: "format"))
                continue
            }
            guard let colour = FlagColour(rawValue: parts[0]), colour != .none else {
                violations.append(FieldViolation(field: field, description: "colour must be yellow or red, got “\(parts[0])”", reason: "colour"))
                continue
            }
            guard let metric = FlagMetric(rawValue: parts[1]) else {
                violations.append(FieldViolation(field: field, description: "unknown metric “\(parts[1])”; one of \(FlagMetric.allCases.map(\.rawValue).joined(separator: ", "))", reason: "metric"))
                continue
            }
            guard let comparison = Comparison(rawValue: parts[2]) else {
                violations.append(FieldViolation(field: field, description: "operator must be one of < <= > >= ==, got “\(parts[2])”", reason: "operator"))
                continue
            }
            guard let threshold = Double(parts[3]), threshold.isFinite else {
                violations.append(FieldViolation(field: field, description: "“\(parts[3])” is not a number", reason: "threshold"))
                continue
            }
            rules.append(FlagRule(id: "\(colour.rawValue)-\(rules.count + 1)-\(metric.rawValue)", colour: colour, metric: metric, comparison: comparison, threshold: threshold, description: parts[4]))
        }
        guard violations.isEmpty else { throw .invalidArgument(violations) }
        guard !rules.isEmpty else { throw .invalidArgument([FieldViolation(field: "flag_rules", description: "no rules", reason: "required")]) }
        return rules
    }
}

/// A window's flag for a month, with the rules that decided it.
public struct WindowFlagResult: Sendable, Hashable {
    public struct Hit: Sendable, Hashable {
        public var rule: FlagRule
        public var value: Double
    }
    public var windowID: String
    public var label: String
    public var node: String
    public var colour: FlagColour
    /// Yellow: the yellow rules that fired. Red: every red rule (all met). None: empty.
    public var hits: [Hit]
    public var metrics: Metrics
}

public enum Flags {
    /// Judges each window (E11): yellow when any yellow rule fires; otherwise red when there are red
    /// rules and every one holds; otherwise none. Red first, then yellow, then the rest, by window.
    public static func judge(windows: [(id: String, label: String, node: String, metrics: Metrics)], rules: [FlagRule]) -> [WindowFlagResult] {
        let yellowRules = rules.filter { $0.colour == .yellow }
        let redRules = rules.filter { $0.colour == .red }
        let results = windows.map { window -> WindowFlagResult in
            let fired = yellowRules.filter { $0.holds(window.metrics) }
            if !fired.isEmpty {
                return WindowFlagResult(windowID: window.id, label: window.label, node: window.node, colour: .yellow,
                                        hits: fired.map { .init(rule: $0, value: $0.metric.value(window.metrics)) }, metrics: window.metrics)
            }
            if !redRules.isEmpty, redRules.allSatisfy({ $0.holds(window.metrics) }) {
                return WindowFlagResult(windowID: window.id, label: window.label, node: window.node, colour: .red,
                                        hits: redRules.map { .init(rule: $0, value: $0.metric.value(window.metrics)) }, metrics: window.metrics)
            }
            return WindowFlagResult(windowID: window.id, label: window.label, node: window.node, colour: .none, hits: [], metrics: window.metrics)
        }
        let order: [FlagColour: Int] = [.red: 0, .yellow: 1, .none: 2]
        return results.sorted { (order[$0.colour]!, $0.windowID) < (order[$1.colour]!, $1.windowID) }
    }
}
