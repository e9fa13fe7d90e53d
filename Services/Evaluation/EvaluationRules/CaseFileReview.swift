import Crypto
import Foundation
import OneSealCore

/// 案卷评查 (issue #20 item 10): each month the director draws a sample of the cases closed in that
/// month, reviewers score each case file against a fixed checklist, and the month's scores go
/// into the monthly report. Everything here is a plain value: the draw is reproducible from its
/// recorded seed and population, a score is checked against the case's own facts.
public enum CaseFileReview {
    /// The checklist (E16): four criteria of 25 points each, 100 in all — the four the issue names
    /// and every provincial 行政许可案卷评查标准 we know groups its items under.
    public enum Criterion: String, CaseIterable, Sendable, Hashable, Codable, CodingKeyRepresentable {
        /// 材料完整性: every material the item lists is in the file, and what the correction notice asked for.
        case materials
        /// 程序合法性: accepted, reviewed, signed off and decided in the tier's order, with the notices the law asks for.
        case procedure
        /// 办理时效性: decided within the statutory period (suspensions and the one extension as recorded).
        case timeliness
        /// 文书规范性: receipt, notices and decision numbered, dated, with legal ground, reasons and remedies.
        case documents

        public var title: String {
            switch self {
            case .materials: "材料完整性"
            case .procedure: "程序合法性"
            case .timeliness: "办理时效性"
            case .documents: "文书规范性"
            }
        }

        public static let maximum = 25
    }

    /// The grade a total earns (E16): 优秀 ≥ 90, 良好 ≥ 80, 合格 ≥ 60, 不合格 below.
    public enum Grade: String, CaseIterable, Sendable, Hashable, Codable {
        case excellent, good, pass, fail

        public init(total: Int) {
            switch total {
            case 90...: self = .excellent
            case 80..<90: self = .good
            case 60..<80: self = .pass
            default: self = .fail
            }
        }

        public var title: String {
            switch self {
            case .excellent: "优秀"
            case .good: "良好"
            case .pass: "合格"
            case .fail: "不合格"
            }
        }
    }

    // MARK: The draw

    /// The largest sample a month may draw: a reviewer team's month of work, and a bound on the request.
    public static let maximumSampleSize = 200

    /// A month's draw as recorded: anyone holding the seed and the list of the month's closed cases
    /// can draw again and get the same cases (`draw(population:size:seed:)`), and the digest says
    /// whether the list they hold is the one drawn from.
    public struct Draw: Sendable, Hashable, Codable {
        public var year: Int
        public var month: Int
        public var seed: UInt64
        public var requestedSize: Int
        public var populationCount: Int
        /// SHA-256 (hex) of the population's case ids, sorted, one per line.
        public var populationDigest: String
        /// The drawn case ids, in draw order.
        public var caseIDs: [String]

        public init(year: Int, month: Int, seed: UInt64, requestedSize: Int, populationCount: Int, populationDigest: String, caseIDs: [String]) {
            self.year = year
            self.month = month
            self.seed = seed
            self.requestedSize = requestedSize
            self.populationCount = populationCount
            self.populationDigest = populationDigest
            self.caseIDs = caseIDs
        }
    }

    /// Draws `size` of `population` (or all of it, when smaller) with SplitMix64 seeded by `seed`:
    /// a partial Fisher–Yates shuffle over the ids sorted ascending, so the result depends on the
    /// seed and the set of ids only, never on the order a database returned them in.
    public static func draw(population: [String], size: Int, seed: UInt64) -> [String] {
        var pool = Array(Set(population)).sorted()
        let count = min(max(size, 0), pool.count)
        var generator = SplitMix64(seed: seed)
        for index in 0..<count {
            let remaining = UInt64(pool.count - index)
            let pick = index + Int(generator.next(below: remaining))
            pool.swapAt(index, pick)
        }
        return Array(pool.prefix(count))
    }

    public static func populationDigest(_ population: [String]) -> String {
        let text = Array(Set(population)).sorted().joined(separator: "\n")
        return Hex.lowercase(SHA256.hash(data: Data(text.utf8)))
    }

    /// The month's draw: its population is every case of `node` closed (decided or withdrawn) in
    /// that month. Refuses a size outside 1…`maximumSampleSize` and a month with nothing closed.
    public static func makeDraw(
        year: Int, month: Int, size: Int, seed: UInt64, node: String, cases: some Sequence<CaseFact>
    ) throws(EvaluationRuleError) -> Draw {
        guard (1...maximumSampleSize).contains(size) else {
            throw .invalidArgument([.init(field: "size", description: "a sample of 1 to \(maximumSampleSize) cases, not \(size)", reason: "range")])
        }
        guard (1...12).contains(month), (2000...2100).contains(year),
              let from = CivilDate(year: year, month: month, day: 1),
              let to = CivilDate(year: year, month: month, day: CivilDate.daysInMonth(year: year, month: month))
        else {
            throw .invalidArgument([.init(field: "month", description: "not a month: \(year)-\(month)", reason: "range")])
        }
        let population = cases.filter { fact in
            guard fact.node == node, let closed = fact.completedOn else { return false }
            return from <= closed && closed <= to
        }.map(\.id)
        guard !population.isEmpty else {
            throw .failedPrecondition("no case of node \(node) closed in \(year)年\(month)月: nothing to draw from")
        }
        return Draw(
            year: year, month: month, seed: seed, requestedSize: size, populationCount: Set(population).count,
            populationDigest: populationDigest(population), caseIDs: draw(population: population, size: size, seed: seed))
    }

    // MARK: A score

    /// One reviewer's score of one case file.
    public struct Score: Sendable, Hashable, Codable {
        public var points: [Criterion: Int]
        /// What was found wanting, per criterion that lost points (required there, free elsewhere).
        public var findings: [Criterion: String]
        public var total: Int { Criterion.allCases.reduce(0) { $0 + (points[$1] ?? 0) } }
        public var grade: Grade { Grade(total: total) }
    }

    /// Checks a score against the checklist and the case's facts:
    /// - every criterion scored, each in 0…25;
    /// - a criterion that lost points says why (the finding is what the officer will read);
    /// - a case the record shows decided late cannot keep full timeliness points;
    /// - nobody reviews a case they handled themselves (the officer named on the case).
    public static func score(
        points: [Criterion: Int], findings: [Criterion: String], reviewer: String, case fact: CaseFact
    ) throws(EvaluationRuleError) -> Score {
        var violations: [FieldViolation] = []
        for criterion in Criterion.allCases {
            let field = "score.\(criterion.rawValue)"
            guard let value = points[criterion] else {
                violations.append(.init(field: field, description: "\(criterion.title) is not scored", reason: "required"))
                continue
            }
            if !(0...Criterion.maximum).contains(value) {
                violations.append(.init(field: field, description: "\(criterion.title): \(value) is outside 0…\(Criterion.maximum)", reason: "range"))
            }
            // Its length (1,000, line breaks allowed) is checked at the edge (`FieldLimits.finding`).
            let finding = (findings[criterion] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            if value < Criterion.maximum && finding.isEmpty {
                violations.append(.init(field: "score.\(criterion.rawValue)_finding", description: "\(criterion.title) lost points: say what was found wanting", reason: "required"))
            }
        }
        if fact.onTime == false, points[.timeliness] == Criterion.maximum {
            violations.append(.init(
                field: "score.timeliness",
                description: "the case was decided after its due date\(fact.dueOn.map { " (\($0))" } ?? ""): 办理时效性 cannot keep full points",
                reason: "inconsistent"))
        }
        guard violations.isEmpty else { throw .invalidArgument(violations) }
        if let officer = fact.officer?.subject, !officer.isEmpty, officer == reviewer {
            throw .failedPrecondition("\(reviewer) handled case \(fact.number.isEmpty ? fact.id : fact.number) and may not review its file (回避)")
        }
        return Score(
            points: points,
            findings: findings.mapValues { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.value.isEmpty })
    }

    // MARK: The month's figures

    /// What the monthly report shows of the month's review.
    public struct Summary: Sendable, Hashable {
        public var sampled: Int
        public var reviewed: Int
        /// Mean total of the reviewed files (0 when none).
        public var averageTotal: Double
        public var averageByCriterion: [Criterion: Double]
        public var grades: [Grade: Int]
        /// Files below 合格, with the case number and what was found: the report lists them.
        public var failing: [(caseNumber: String, total: Int, findings: [Criterion: String])]

        public static func == (lhs: Summary, rhs: Summary) -> Bool {
            lhs.sampled == rhs.sampled && lhs.reviewed == rhs.reviewed && lhs.averageTotal == rhs.averageTotal
                && lhs.averageByCriterion == rhs.averageByCriterion && lhs.grades == rhs.grades
                && lhs.failing.map(\.caseNumber) == rhs.failing.map(\.caseNumber)
        }
        public func hash(into hasher: inout Hasher) { hasher.combine(sampled); hasher.combine(reviewed) }
    }

    public static func summary(sampled: Int, scores: [(caseNumber: String, score: Score)]) -> Summary {
        let reviewed = scores.count
        func mean(_ values: [Int]) -> Double { values.isEmpty ? 0 : Double(values.reduce(0, +)) / Double(values.count) }
        var byCriterion: [Criterion: Double] = [:]
        for criterion in Criterion.allCases { byCriterion[criterion] = mean(scores.map { $0.score.points[criterion] ?? 0 }) }
        var grades: [Grade: Int] = [:]
        for entry in scores { grades[entry.score.grade, default: 0] += 1 }
        let failing = scores.filter { $0.score.grade == .fail }.sorted { $0.caseNumber < $1.caseNumber }
            .map { (caseNumber: $0.caseNumber, total: $0.score.total, findings: $0.score.findings) }
        return Summary(
            sampled: sampled, reviewed: reviewed, averageTotal: mean(scores.map(\.score.total)), averageByCriterion: byCriterion,
            grades: grades, failing: failing)
    }
}

extension CaseFileReview {
    /// The monthly report's section: sampled and reviewed, the mean per criterion, the grades, and
    /// every file below 合格 with what was found (escaped: findings are reviewers' free text).
    public static func html(_ summary: Summary) -> String {
        var html = "<h2>案卷评查</h2>\n"
        html += "<p>本月抽取 \(summary.sampled) 件，已评查 \(summary.reviewed) 件，平均 \(ReportBuilder.format(summary.averageTotal)) 分。</p>\n"
        guard summary.reviewed > 0 else { return html }
        html += "<table><tr><th>评查项目</th><th>平均得分（满分\(Criterion.maximum)）</th></tr>\n"
        for criterion in Criterion.allCases {
            html += "<tr><td>\(criterion.title)</td><td>\(ReportBuilder.format(summary.averageByCriterion[criterion] ?? 0))</td></tr>\n"
        }
        html += "</table>\n<p>"
        html += Grade.allCases.map { "\($0.title) \(summary.grades[$0] ?? 0) 件" }.joined(separator: "，")
        html += "</p>\n"
        if !summary.failing.isEmpty {
            html += "<table><tr><th>不合格案卷</th><th>得分</th><th>问题</th></tr>\n"
            for file in summary.failing {
                let findings = Criterion.allCases.compactMap { criterion in file.findings[criterion].map { "\(criterion.title)：\($0)" } }.joined(separator: "；")
                html += "<tr><td>\(htmlEscape(file.caseNumber))</td><td>\(file.total)</td><td class=\"comment\">\(htmlEscape(findings))</td></tr>\n"
            }
            html += "</table>\n"
        }
        return html
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fully specified, the same on every platform — what
/// a recorded seed needs, where `SystemRandomNumberGenerator` cannot be replayed.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A value in 0..<bound without modulo bias (Lemire's rejection on the low product).
    public mutating func next(below bound: UInt64) -> UInt64 {
        precondition(bound > 0)
        let threshold = (0 &- bound) % bound
        while true {
            let value = next()
            let (high, low) = value.multipliedFullWidth(by: bound)
            if low >= threshold { return high }
        }
    }
}
