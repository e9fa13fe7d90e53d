import EvaluationContracts
import EvaluationRules
import Foundation
import GRPCCore
import OneSealAuth
import OneSealCore
import OneSealProto
import OneSealServiceKit
import OneSealStore
import SwiftProtobuf

extension EvaluationAPI {
    /// A reporting period: both ends required, real dates, in order, at most 400 days.
    static func period(_ range: Common_DateRange, field: String = "period") throws -> (CivilDate, CivilDate) {
        var violations: [Common_FieldViolation] = []
        func violation(_ path: String, _ text: String, _ reason: String) {
            violations.append(Common_FieldViolation.with { $0.field = path; $0.description_p = text; $0.reason = reason })
        }
        let from = range.hasFrom ? range.from.civilDate : nil
        let to = range.hasTo ? range.to.civilDate : nil
        if !range.hasFrom { violation("\(field).from", "required", "required") } else if from == nil { violation("\(field).from", "not a real calendar date", "date") }
        if !range.hasTo { violation("\(field).to", "required", "required") } else if to == nil { violation("\(field).to", "not a real calendar date", "date") }
        if let from, let to {
            if to < from { violation("\(field).to", "ends before it starts (\(from.iso8601))", "range") }
            else if from.days(until: to) > 400 { violation(field, "at most 400 days", "range") }
        }
        guard violations.isEmpty, let from, let to else { throw RPCError.invalidArgument(violations) }
        return (from, to)
    }

    static func groupBy(_ value: Evaluation_GroupBy) -> GroupBy {
        switch value {
        case .node: .node
        case .item: .item
        case .window: .window
        case .officer: .officer
        case .department: .department
        default: .total
        }
    }

    /// Everything figures are computed from, for `nodes`, with ratings from `ratingsFrom` on.
    func inputs(nodes: Set<String>, ratingsFrom: CivilDate, to: CivilDate, on connection: PostgresConnection) async throws
        -> (model: ReadModel, version: Int, ratings: [StoredRating], tickets: [(StoredTicket, StoredRating)]) {
        let model = try await models.versioned(nodes: nodes, on: connection)
        let ratings = try await RatingStore.facts(nodes: nodes, from: ratingsFrom, to: to, on: connection)
        let tickets = try await RatingStore.tickets(nodes: nodes, .openedIn(from: ratingsFrom, to: to), on: connection)
        return (model.model, model.version, ratings, tickets)
    }

    /// The memo key of a call over these inputs (see `FigureMemo`).
    func memoKey(
        _ call: String, _ request: some SwiftProtobuf.Message, nodes: Set<String>, today: CivilDate, modelVersion: Int,
        ratings: [RatingFact], rectifications: [RectificationFact], badReviews: [BadReviewLine] = []
    ) throws -> FigureMemo.Key {
        FigureMemo.Key(
            call: call, request: try request.serializedBytes(), nodes: nodes.sorted(), today: today, modelVersion: modelVersion,
            ratings: ratings, rectifications: rectifications, badReviews: badReviews)
    }

    public func efficiencyFigures(request: Evaluation_EfficiencyFiguresRequest, context: ServerContext) async throws -> Evaluation_EfficiencyFiguresResponse {
        let (from, to) = try Self.period(request.period)
        let today = self.today
        return try await database.withConnection { connection in
            let nodes = try await scope(request.nodes, includeSubordinates: request.includeSubordinateNodes, on: connection)
            let data = try await inputs(nodes: nodes, ratingsFrom: from, to: to, on: connection)
            let query = FiguresQuery(
                from: from, to: to, asOf: today, groupBy: Self.groupBy(request.groupBy), nodes: nodes,
                implementationCode: request.implementationCode, department: request.departmentCode)
            let model = data.model, ratings = data.ratings.map(\.fact), rectifications = data.tickets.map(RatingStore.rectificationFact)
            let key = try memoKey(
                "EfficiencyFigures", request, nodes: nodes, today: today, modelVersion: data.version, ratings: ratings, rectifications: rectifications)
            let table = try await figureMemo.value(key) {
                Figures.table(query, model: model, ratings: ratings, rectifications: rectifications, labels: Labels(model: model))
            }
            var response = Evaluation_EfficiencyFiguresResponse()
            response.period = request.period
            response.groupBy = request.groupBy
            response.rows = table.rows.map { row in
                Evaluation_EfficiencyRow.with { $0.key = row.key; $0.label = row.label; $0.metrics = row.metrics.proto }
            }
            response.total = Evaluation_EfficiencyRow.with { $0.label = "合计"; $0.metrics = table.total.proto }
            return response
        }
    }

    public func earlyWarnings(request: Evaluation_EarlyWarningsRequest, context: ServerContext) async throws -> Evaluation_EarlyWarningsResponse {
        let minimum: WarningLevel = switch request.minLevel {
        case .normal: .normal
        case .red: .red
        default: .yellow
        }
        let (size, offset) = try Self.page(request.page)
        let today = self.today
        return try await database.withConnection { connection in
            let nodes = try await scope(request.nodes, includeSubordinates: request.includeSubordinateNodes, on: connection)
            let loaded = try await models.versioned(nodes: nodes, on: connection)
            let model = loaded.model
            let rectifications = try await RatingStore.tickets(nodes: nodes, .unsettled, on: connection).map(RatingStore.rectificationFact)
            // Every page of one listing is one computation: the key leaves the page out.
            let listing = { var listing = request; listing.clearPage(); return listing }()
            let key = try memoKey("EarlyWarnings", listing, nodes: nodes, today: today, modelVersion: loaded.version, ratings: [], rectifications: rectifications)
            let policy = settings.warning, calendar = self.calendar
            let warnings = try await figureMemo.value(key) {
                try EarlyWarnings.list(
                    model: model, rectifications: rectifications, today: today, policy: policy, calendar: calendar, minimum: minimum
                ) { attribution in
                    nodes.contains(attribution.node)
                        && (listing.departmentCode.isEmpty || attribution.department == listing.departmentCode)
                        && (listing.officerSubject.isEmpty || attribution.officer == listing.officerSubject)
                        && (listing.windowID.isEmpty || attribution.windowID == listing.windowID)
                }
            }
            let labels = Labels(model: model)
            var response = Evaluation_EarlyWarningsResponse()
            response.warnings = warnings.dropFirst(offset).prefix(size).map { warning(for: $0, model: model) }
            response.yellow = Int64(warnings.filter { $0.level == .yellow }.count)
            response.red = Int64(warnings.filter { $0.level == .red }.count)
            response.page.totalSize = Int64(warnings.count)
            if offset + size < warnings.count { response.page.nextPageToken = String(offset + size) }
            func counts(_ groupBy: GroupBy) -> [Evaluation_WarningCount] {
                EarlyWarnings.counts(warnings, by: groupBy).sorted { $0.key < $1.key }.map { key, value in
                    Evaluation_WarningCount.with {
                        $0.key = key
                        $0.label = labels.label(key, groupBy)
                        $0.yellow = Int64(value.yellow)
                        $0.red = Int64(value.red)
                    }
                }
            }
            response.byWindow = counts(.window)
            response.byOfficer = counts(.officer)
            return response
        }
    }

    func warning(for warning: Warning, model: ReadModel) -> Evaluation_EarlyWarning {
        var out = Evaluation_EarlyWarning()
        out.node = warning.attribution.node
        out.implementationCode = warning.attribution.implementationCode
        out.windowID = warning.attribution.windowID
        out.level = switch warning.level {
        case .normal: .normal
        case .yellow: .yellow
        case .red: .red
        }
        out.clock = warning.clock.rawValue
        var deadline = Common_Deadline()
        deadline.dueOn = Common_CivilDate(warning.dueOn)
        deadline.workingDaysLeft = Int32(warning.workingDaysLeft)
        deadline.overdue = warning.level == .red
        deadline.overdueWorkingDays = Int32(warning.overdueWorkingDays)
        deadline.suspended = warning.suspended
        deadline.warning = out.level
        if warning.clock == .approval, let fact = model.cases[warning.id] {
            out.caseID = fact.id
            out.caseNumber = fact.number
            out.itemName = fact.itemName
            if let officer = fact.officer { out.officer = Common_ActorRef.with { $0.subject = officer.subject; $0.name = officer.name } }
            if let department = fact.department {
                out.department = Common_DepartmentRef.with { $0.code = department.code; $0.name = department.name; $0.node = fact.node }
            }
            if let started = fact.clockStartedOn { deadline.startedOn = Common_CivilDate(started) }
            deadline.workingDaysTotal = Int32(fact.workingDaysTotal)
        } else {
            // A rectification ticket: case_id carries the ticket id so the board can open it.
            out.caseID = warning.id
            if !warning.attribution.officer.isEmpty { out.officer = Common_ActorRef.with { $0.subject = warning.attribution.officer } }
            if !warning.attribution.department.isEmpty { out.department = Common_DepartmentRef.with { $0.code = warning.attribution.department } }
            deadline.workingDaysTotal = Int32(settings.rectificationWorkingDays)
        }
        out.deadline = deadline
        return out
    }

    static func month(year: Int32, month: Int32, yearField: String = "year", monthField: String = "month") throws -> (year: Int, month: Int) {
        var violations: [Common_FieldViolation] = []
        if !(2000...2999).contains(year) {
            violations.append(Common_FieldViolation.with { $0.field = yearField; $0.description_p = "required: a year such as 2026, got \(year)"; $0.reason = "range" })
        }
        if !(1...12).contains(month) {
            violations.append(Common_FieldViolation.with { $0.field = monthField; $0.description_p = "must be 1–12, got \(month)"; $0.reason = "range" })
        }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        return (Int(year), Int(month))
    }

    public func flagWindows(request: Evaluation_FlagWindowsRequest, context: ServerContext) async throws -> Evaluation_FlagWindowsResponse {
        let (year, month) = try Self.month(year: request.year, month: request.month)
        let range = ReportBuilder.monthRange(year: year, month: month)!
        return try await database.withConnection { connection in
            let nodes = try await scope(request.nodes, includeSubordinates: request.includeSubordinateNodes, on: connection)
            let data = try await inputs(nodes: nodes, ratingsFrom: range.from, to: range.to, on: connection)
            var flags: [WindowFlagResult] = []
            // Windows are judged per node (window ids are a node's own).
            for code in nodes.sorted() {
                let table = Figures.table(
                    FiguresQuery(from: range.from, to: range.to, asOf: today, groupBy: .window, nodes: [code]), model: data.model,
                    ratings: data.ratings.map(\.fact), rectifications: data.tickets.map(RatingStore.rectificationFact), labels: Labels(model: data.model))
                flags += Flags.judge(windows: table.rows.map { ($0.key, $0.label, code, $0.metrics) }, rules: settings.flagRules)
            }
            let order: [FlagColour: Int] = [.red: 0, .yellow: 1, .none: 2]
            var response = Evaluation_FlagWindowsResponse()
            response.year = Int32(year)
            response.month = Int32(month)
            response.windows = flags.sorted { (order[$0.colour]!, $0.node, $0.windowID) < (order[$1.colour]!, $1.node, $1.windowID) }.map(\.proto)
            return response
        }
    }

    static let reportCharts: [Evaluation_ReportKind: [String]] = [
        .overview: ["on_time_gauge", "daily_volume", "rating_levels", "trend"],
        .timeliness: ["on_time_gauge", "window_on_time", "item_working_days", "department_outcomes", "trend"],
        .satisfaction: ["rating_levels", "trend"],
        .windows: ["window_volume", "window_on_time"],
    ]

    static func ticketStatusText(_ status: RectificationTicket.Status?) -> String {
        switch status {
        case .open?: "待核实回访"
        case .calledBack?: "已回访，整改中"
        case .rectified?: "已整改，待评价"
        case .closed?: "已办结"
        case .void?: "申诉成立，已撤销"
        case nil: "—"
        }
    }

    public func report(request: Evaluation_ReportRequest, context: ServerContext) async throws -> Evaluation_ReportResponse {
        let chosen: (year: Int, month: Int)
        if request.year != 0 || request.month != 0 || !request.hasPeriod {
            chosen = try Self.month(year: request.year, month: request.month)
        } else {
            let (from, _) = try Self.period(request.period)
            chosen = (from.year, from.month)
        }
        let year = chosen.year, month = chosen.month
        let range = ReportBuilder.monthRange(year: year, month: month)!
        let trendStart = ReportBuilder.monthRange(year: month > 5 ? year : year - 1, month: month > 5 ? month - 5 : month + 7)!.from
        let today = self.today
        return try await database.withConnection { connection in
            let nodes = try await scope(request.nodes, includeSubordinates: request.includeSubordinateNodes, on: connection)
            let data = try await inputs(nodes: nodes, ratingsFrom: trendStart, to: range.to, on: connection)
            let ticketsByRating = Dictionary(data.tickets.map { ($0.1.id, $0.0) }, uniquingKeysWith: { first, _ in first })
            let labels = Labels(model: data.model)
            let bad = data.ratings.filter { $0.checked.isBad && !$0.removed && range.from <= $0.ratedOn && $0.ratedOn <= range.to }.map { rating in
                BadReviewLine(
                    ratedOn: rating.ratedOn, window: labels.label(rating.attribution.windowID, .window),
                    item: rating.itemName.isEmpty ? labels.label(rating.attribution.implementationCode, .item) : rating.itemName,
                    level: rating.checked.level, comment: rating.checked.comment, tags: rating.checked.tags,
                    status: Self.ticketStatusText(ticketsByRating[rating.id]?.ticket.status))
            }
            let model = data.model, ratings = data.ratings.map(\.fact), rectifications = data.tickets.map(RatingStore.rectificationFact)
            let settings = self.settings, calendar = self.calendar
            // The month's report of any kind is one computation: the key names the month, not the kind.
            let theMonth = Evaluation_ReportRequest.with { $0.year = Int32(year); $0.month = Int32(month) }
            let key = try memoKey(
                "Report", theMonth, nodes: nodes, today: today, modelVersion: data.version, ratings: ratings, rectifications: rectifications, badReviews: bad)
            let built: MonthlyReport? = try await figureMemo.value(key) {
                let warnings = try EarlyWarnings.list(
                    model: model, rectifications: rectifications, today: today, policy: settings.warning, calendar: calendar) { nodes.contains($0.node) }
                return ReportBuilder.monthly(
                    year: year, month: month, asOf: today, title: "\(settings.agencyName) \(year)年\(month)月效能分析报告", nodes: nodes,
                    model: model, ratings: ratings, rectifications: rectifications,
                    badReviews: bad, rules: settings.flagRules, onTimeTarget: settings.onTimeTarget,
                    warnings: (warnings.filter { $0.level == .yellow }.count, warnings.filter { $0.level == .red }.count))
            }
            guard var report = built else { throw RPCError.invalidArgument(field: "month", "not a month", reason: "range") }
            report.caseFileReview = try await CaseFileStore.summary(nodes: nodes, year: year, month: month, on: connection)
            var response = Evaluation_ReportResponse()
            if let review = report.caseFileReview { response.caseFileReview = Self.summaryProto(review) }
            response.title = report.title
            response.period = Common_DateRange.with { $0.from = Common_CivilDate(range.from); $0.to = Common_CivilDate(range.to) }
            response.summary = report.summary.proto
            var charts = report.charts
            if request.kind == .supervision {
                charts = [ReportBuilder.supervisionChart(pushes: Array(data.model.pushes.values), from: range.from, to: range.to, labels: labels)]
            } else if let wanted = Self.reportCharts[request.kind] {
                charts = charts.filter { wanted.contains($0.id) }
            }
            response.charts = charts.map(\.proto)
            response.flags = report.flags.map(\.proto)
            if request.kind == .monthly || request.kind == .unspecified {
                response.html = HTMLReport.render(report)
            }
            return response
        }
    }

    public func rebuildReadModel(request: Evaluation_RebuildReadModelRequest, context: ServerContext) async throws -> Evaluation_RebuildReadModelResponse {
        let caller = try ServerContext.requireCaller()
        let result = try await database.withTransaction { try await EventLog.rebuild(index: applicantIndex, on: $0) }
        logger.notice("read model rebuilt", metadata: ["events": "\(result.events)", "by": "\(caller.logSubject)"])
        var response = Evaluation_RebuildReadModelResponse()
        response.eventsReplayed = Int64(result.events)
        response.applications = Int64(result.applications)
        response.cases = Int64(result.cases)
        response.unfiledEvents = Int64(result.unfiled)
        return response
    }
}
