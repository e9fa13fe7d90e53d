import OneSealCore

/// A rating as the figures count it (the service's `ratings` rows).
public struct RatingFact: Sendable, Hashable, Codable {
    public var id: String
    public var attribution: Attribution
    public var ratedOn: CivilDate
    public var level: Rating
    public var channel: RatingChannel
    /// Removed after an upheld appeal: kept on record, left out of every figure.
    public var removed: Bool

    public init(id: String, attribution: Attribution, ratedOn: CivilDate, level: Rating, channel: RatingChannel, removed: Bool = false) {
        self.id = id
        self.attribution = attribution
        self.ratedOn = ratedOn
        self.level = level
        self.channel = channel
        self.removed = removed
    }
}

/// A rectification ticket as the figures count it.
public struct RectificationFact: Sendable, Hashable, Codable {
    public var id: String
    public var attribution: Attribution
    public var openedOn: CivilDate
    public var dueOn: CivilDate
    public var rectifiedOn: CivilDate?
    public var void: Bool

    public init(id: String, attribution: Attribution, openedOn: CivilDate, dueOn: CivilDate, rectifiedOn: CivilDate?, void: Bool) {
        self.id = id
        self.attribution = attribution
        self.openedOn = openedOn
        self.dueOn = dueOn
        self.rectifiedOn = rectifiedOn
        self.void = void
    }
}

/// Whom a fact is counted for: the five grouping dimensions.
public struct Attribution: Sendable, Hashable, Codable {
    public var node: String
    public var implementationCode: String
    public var windowID: String
    public var officer: String
    public var department: String

    public init(node: String, implementationCode: String = "", windowID: String = "", officer: String = "", department: String = "") {
        self.node = node
        self.implementationCode = implementationCode
        self.windowID = windowID
        self.officer = officer
        self.department = department
    }

    public func key(_ groupBy: GroupBy) -> String {
        switch groupBy {
        case .total: ""
        case .node: node
        case .item: implementationCode
        case .window: windowID
        case .officer: officer
        case .department: department
        }
    }
}

/// What rows are grouped by; names match `oneseal.evaluation.v1.GroupBy` (total = unspecified).
public enum GroupBy: String, Sendable, Hashable, Codable, CaseIterable {
    case total, node, item, window, officer, department
}

/// The efficiency metrics of one group over a period (E9 defines each).
public struct Metrics: Sendable, Hashable, Codable {
    public var received = 0
    public var accepted = 0
    public var corrections = 0
    public var notAccepted = 0
    public var withdrawn = 0
    public var delivered = 0
    public var oneVisitCompleted = 0
    public var decided = 0
    public var granted = 0
    public var denied = 0
    public var decidedOnTime = 0
    public var decidedLate = 0
    public var runningOverdue = 0
    public var running = 0
    public var redone = 0
    /// Working days taken by each decided case (suspensions excluded, as approval counts them).
    public var workingDays: [Int] = []
    public var ratings = 0
    public var badReviews = 0
    public var levelSum = 0
    public var rectifications = 0
    /// Rectifications whose outcome is known: rectified, or past due.
    public var rectificationsSettled = 0
    public var rectifiedOnTime = 0
    public var rectificationsOverdue = 0
    public var consultations = 0
    public var licencesIssued = 0
    public var licencesLate = 0

    public init() {}

    public var overdue: Int { decidedLate + runningOverdue }
    public var oneVisitRate: Double { ratio(oneVisitCompleted, delivered) }
    public var onTimeRate: Double { ratio(decidedOnTime, decided) }
    public var redoRate: Double { ratio(redone, decided) }
    public var badReviewRatio: Double { ratio(badReviews, ratings) }
    public var rectificationOnTimeRate: Double { ratio(rectifiedOnTime, rectificationsSettled) }
    public var satisfactionMean: Double { ratio(levelSum, ratings) }
    public var workingDaysMean: Double { workingDays.isEmpty ? 0 : Double(workingDays.reduce(0, +)) / Double(workingDays.count) }
    public var workingDaysMedian: Double { Statistics.median(workingDays) }
    public var workingDaysP90: Double { Statistics.percentile(workingDays, 0.9) }

    private func ratio(_ part: Int, _ whole: Int) -> Double { whole == 0 ? 0 : Double(part) / Double(whole) }
}

public enum Statistics {
    /// The middle value; the mean of the two middle values for an even count; 0 when empty.
    public static func median(_ values: [Int]) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? Double(sorted[middle]) : Double(sorted[middle - 1] + sorted[middle]) / 2
    }

    /// Nearest-rank percentile (E9): the smallest value with at least `p` of the values at or
    /// below it, i.e. the ⌈p·n⌉-th smallest. 0 when empty.
    public static func percentile(_ values: [Int], _ p: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let rank = Int((p * Double(sorted.count)).rounded(.up))
        return Double(sorted[min(max(rank, 1), sorted.count) - 1])
    }
}

/// One row of a figures table.
public struct FiguresRow: Sendable, Hashable {
    public var key: String
    public var label: String
    public var metrics: Metrics
}

public struct FiguresTable: Sendable, Hashable {
    public var groupBy: GroupBy
    public var rows: [FiguresRow]
    public var total: Metrics
}

/// What to count: the inclusive period, the day figures are taken on (running and overdue cases
/// are judged on `min(period end, asOf)`), and filters.
public struct FiguresQuery: Sendable, Hashable {
    public var from: CivilDate
    public var to: CivilDate
    public var asOf: CivilDate
    public var groupBy: GroupBy
    /// Nodes to count (empty = every node in the data).
    public var nodes: Set<String>
    public var implementationCode: String
    public var department: String

    public init(from: CivilDate, to: CivilDate, asOf: CivilDate, groupBy: GroupBy = .total, nodes: Set<String> = [], implementationCode: String = "", department: String = "") {
        self.from = from
        self.to = to
        self.asOf = asOf
        self.groupBy = groupBy
        self.nodes = nodes
        self.implementationCode = implementationCode
        self.department = department
    }

    /// The day running cases are judged on.
    public var judgedOn: CivilDate { min(to, asOf) }

    func contains(_ day: CivilDate?) -> Bool {
        guard let day else { return false }
        return from <= day && day <= to
    }

    func admits(_ attribution: Attribution) -> Bool {
        (nodes.isEmpty || nodes.contains(attribution.node))
            && (implementationCode.isEmpty || attribution.implementationCode == implementationCode)
            && (department.isEmpty || attribution.department == department)
    }
}

/// Folds the read model, ratings and tickets into figures (E9):
/// - received: applications submitted in the period; accepted: accepted in it (any kind,
///   deemed included); corrections: correction notices issued in it; not accepted, withdrawn alike.
/// - delivered: results handed out in the period; one-visit: of those, delivered after at most
///   one visit (最多跑一次); one-visit rate = one-visit / delivered.
/// - decided / granted / denied: cases decided in the period; on-time rate = decided on time /
///   decided; working days mean, median, p90 over the decided cases' working days taken.
/// - overdue: decided late in the period + running past the due day on the judging day;
///   running: cases open on the judging day.
/// - redo rate: decided cases returned at least once / decided.
/// - ratings: active ratings given in the period; bad-review ratio = levels 1–2 / ratings;
///   satisfaction mean = mean level.
/// - rectifications: tickets opened in the period and not voided; on-time rate = rectified by the
///   due day / tickets whose outcome is known on the judging day (rectified, or past due).
/// - consultations recorded in the period; licences issued in the period, late when more than
///   10 working days after the decision (Art. 44).
/// Each application counts once in the total and once under each of its items (a bundle of two
/// items shows under both items).
public enum Figures {
    public static func table(
        _ query: FiguresQuery, model: ReadModel, ratings: [RatingFact], rectifications: [RectificationFact], labels: Labels = Labels()
    ) -> FiguresTable {
        tables([query], model: model, ratings: ratings, rectifications: rectifications, labels: labels)[0]
    }

    /// The tables of several queries in one pass over the facts: the monthly report asks for
    /// forty-odd (the month by window, item and department, each day, six months of trend), and a
    /// pass per query over 20,000 cases took seconds. Each fact's attributions are worked out once
    /// and counted into every query whose period holds the date.
    public static func tables(
        _ queries: [FiguresQuery], model: ReadModel, ratings: [RatingFact], rectifications: [RectificationFact], labels: Labels = Labels()
    ) -> [FiguresTable] {
        var tallies = queries.map { Tally(query: $0) }
        // Applications not accepted and consultations name an item but no department: theirs is the
        // item's competent department as the other events of that item name it.
        var departmentOfItem: [String: String] = [:]
        for application in model.applications.values {
            for (code, department) in application.itemDepartments { departmentOfItem[code] = department.code }
        }
        for fact in model.cases.values {
            if let department = fact.department { departmentOfItem[fact.implementationCode] = department.code }
        }

        // The periods as day ordinals, compared as integers in the loops below.
        let periods = queries.map(Period.init)
        for application in model.applications.values {
            let attributions = self.attributions(of: application, departments: departmentOfItem)
            let oneVisit = application.visits <= 1
            let submitted = Period.ordinal(application.submittedOn), accepted = Period.ordinal(application.acceptedOn)
            let correction = Period.ordinal(application.correctionOn), notAccepted = Period.ordinal(application.notAcceptedOn)
            let withdrawn = Period.ordinal(application.withdrawnOn), delivered = Period.ordinal(application.deliveredOn)
            for (index, period) in periods.enumerated() {
                if period.contains(submitted) { tallies[index].add(attributions) { $0.received += 1 } }
                if period.contains(accepted) { tallies[index].add(attributions) { $0.accepted += 1 } }
                if period.contains(correction) { tallies[index].add(attributions) { $0.corrections += 1 } }
                if period.contains(notAccepted) { tallies[index].add(attributions) { $0.notAccepted += 1 } }
                if period.contains(withdrawn) { tallies[index].add(attributions) { $0.withdrawn += 1 } }
                if period.contains(delivered) {
                    tallies[index].add(attributions) {
                        $0.delivered += 1
                        if oneVisit { $0.oneVisitCompleted += 1 }
                    }
                }
            }
        }
        for fact in model.cases.values {
            let attribution = [self.attribution(of: fact, applications: model.applications)]
            let licenceLate = (fact.licenceWorkingDays ?? 0) > StatutoryPeriod.certificateIssue.workingDays
            let decided = Period.ordinal(fact.decidedOn), licence = Period.ordinal(fact.licenceIssuedOn)
            for (index, period) in periods.enumerated() {
                if period.contains(decided) {
                    tallies[index].add(attribution) {
                        $0.decided += 1
                        if fact.granted == true { $0.granted += 1 } else { $0.denied += 1 }
                        if fact.onTime == false { $0.decidedLate += 1 } else { $0.decidedOnTime += 1 }
                        if fact.returns > 0 { $0.redone += 1 }
                        if let days = fact.workingDaysTaken { $0.workingDays.append(days) }
                    }
                }
                let judgedOn = queries[index].judgedOn
                if fact.isRunning(on: judgedOn) {
                    let late = !fact.suspended && (fact.dueOn.map { judgedOn > $0 } ?? false)
                    tallies[index].add(attribution) {
                        $0.running += 1
                        if late { $0.runningOverdue += 1 }
                    }
                }
                if period.contains(licence) {
                    tallies[index].add(attribution) {
                        $0.licencesIssued += 1
                        if licenceLate { $0.licencesLate += 1 }
                    }
                }
            }
        }
        for rating in ratings where !rating.removed {
            let attribution = [rating.attribution]
            let rated = Period.ordinal(rating.ratedOn)
            for (index, period) in periods.enumerated() where period.contains(rated) {
                tallies[index].add(attribution) {
                    $0.ratings += 1
                    $0.levelSum += rating.level.level
                    if rating.level.isBadReview { $0.badReviews += 1 }
                }
            }
        }
        for ticket in rectifications where !ticket.void {
            let attribution = [ticket.attribution]
            let opened = Period.ordinal(ticket.openedOn)
            for (index, period) in periods.enumerated() where period.contains(opened) {
                let judgedOn = queries[index].judgedOn
                let settled = (ticket.rectifiedOn.map { $0 <= judgedOn } ?? false) || judgedOn > ticket.dueOn
                let rectifiedBy = ticket.rectifiedOn.flatMap { $0 <= judgedOn ? $0 : nil }
                let onTime = rectifiedBy.map { $0 <= ticket.dueOn } ?? false
                tallies[index].add(attribution) {
                    $0.rectifications += 1
                    if settled {
                        $0.rectificationsSettled += 1
                        if onTime { $0.rectifiedOnTime += 1 } else { $0.rectificationsOverdue += 1 }
                    }
                }
            }
        }
        for consultation in model.consultations.values {
            let attribution = [Attribution(node: consultation.node, implementationCode: consultation.implementationCode, windowID: consultation.windowID,
                                           department: departmentOfItem[consultation.implementationCode] ?? "")]
            let on = Period.ordinal(consultation.on)
            for (index, period) in periods.enumerated() where period.contains(on) {
                tallies[index].add(attribution) { $0.consultations += 1 }
            }
        }
        return tallies.map { $0.table(labels: labels) }
    }

    /// A query's period as day ordinals: integers ordered like the dates, so the
    /// loops compare integers rather than dates field by field.
    struct Period {
        /// A missing date: outside every period.
        static let none = Int.min
        let from: Int
        let to: Int

        init(_ query: FiguresQuery) {
            from = Self.ordinal(query.from)
            to = Self.ordinal(query.to)
        }

        static func ordinal(_ date: CivilDate?) -> Int {
            guard let date else { return none }
            return date.year << 9 | date.month << 5 | date.day
        }

        func contains(_ ordinal: Int) -> Bool { from <= ordinal && ordinal <= to }
    }

    /// One query's running counts.
    struct Tally {
        let query: FiguresQuery
        /// No node, item or department filter: every attribution counts (the report's case).
        let admitsAll: Bool
        var groups: [String: Metrics] = [:]
        var total = Metrics()

        init(query: FiguresQuery) {
            self.query = query
            admitsAll = query.nodes.isEmpty && query.implementationCode.isEmpty && query.department.isEmpty
        }

        /// Counts a fact once in the total and once under each distinct group key it is attributed to.
        mutating func add(_ attributions: [Attribution], _ change: (inout Metrics) -> Void) {
            let admitted = admitsAll ? attributions : attributions.filter(query.admits)
            guard !admitted.isEmpty else { return }
            change(&total)
            guard query.groupBy != .total else { return }
            if admitted.count == 1 {
                change(&groups[admitted[0].key(query.groupBy), default: Metrics()])
                return
            }
            for key in Set(admitted.map { $0.key(query.groupBy) }) {
                change(&groups[key, default: Metrics()])
            }
        }

        /// The order facts were visited in is the dictionaries' order: sort what keeps order.
        func table(labels: Labels) -> FiguresTable {
            var total = total
            total.workingDays.sort()
            let rows = groups.map { key, metrics in
                var metrics = metrics
                metrics.workingDays.sort()
                return FiguresRow(key: key, label: labels.label(key, query.groupBy), metrics: metrics)
            }.sorted { $0.key < $1.key }
            return FiguresTable(groupBy: query.groupBy, rows: rows, total: total)
        }
    }

    /// An application counts for its node and window, under each of its items and their
    /// competent departments, and for the clerk who accepted it.
    public static func attributions(of application: ApplicationFact, departments: [String: String] = [:]) -> [Attribution] {
        let officer = application.acceptedBy?.subject ?? ""
        guard !application.items.isEmpty else {
            return [Attribution(node: application.node, windowID: application.windowID, officer: officer)]
        }
        return application.items.map { code in
            Attribution(node: application.node, implementationCode: code, windowID: application.windowID, officer: officer,
                        department: application.itemDepartments[code]?.code ?? departments[code] ?? "")
        }
    }

    /// A case counts for its deciding node, its item, department and officer, and for the window
    /// that accepted its application (when this node knows the application).
    public static func attribution(of fact: CaseFact, applications: [String: ApplicationFact]) -> Attribution {
        Attribution(
            node: fact.node, implementationCode: fact.implementationCode,
            windowID: applications[fact.applicationID]?.windowID ?? "",
            officer: fact.officer?.subject ?? "", department: fact.department?.code ?? "")
    }
}

/// Display names for group keys, collected from the events (item names, department names …).
public struct Labels: Sendable, Hashable {
    public var names: [GroupBy: [String: String]] = [:]
    public init() {}

    public init(model: ReadModel) {
        for application in model.applications.values {
            if !application.nodeName.isEmpty { names[.node, default: [:]][application.node] = application.nodeName }
            for (code, name) in application.itemNames { names[.item, default: [:]][code] = name }
            for department in application.itemDepartments.values where !department.name.isEmpty {
                names[.department, default: [:]][department.code] = department.name
            }
            if let actor = application.acceptedBy, !actor.name.isEmpty { names[.officer, default: [:]][actor.subject] = actor.name }
        }
        for fact in model.cases.values {
            if !fact.itemName.isEmpty { names[.item, default: [:]][fact.implementationCode] = fact.itemName }
            if let department = fact.department, !department.name.isEmpty { names[.department, default: [:]][department.code] = department.name }
            if let officer = fact.officer, !officer.name.isEmpty { names[.officer, default: [:]][officer.subject] = officer.name }
            for (code, name) in fact.nodeNames where !name.isEmpty { names[.node, default: [:]][code] = name }
        }
    }

    public func label(_ key: String, _ groupBy: GroupBy) -> String {
        if key.isEmpty {
            return switch groupBy {
            case .total: "合计"
            case .window: "（未记录窗口）"
            case .officer: "（未记录经办人）"
            case .department: "（未记录部门）"
            case .item: "（未记录事项）"
            case .node: "（未记录节点）"
            }
        }
        return names[groupBy]?[key] ?? key
    }
}
