import EvaluationRules
import Foundation
import GRPCCore
import Hummingbird
import OneSealCore
import OneSealProto
import OneSealServiceKit
import OneSealWire
import WebRules

/// 效能看板 (#19 screen 4, W41): the director's live dashboard and the monthly report one click
/// away. Everything on it comes from the evaluation service with the signed-in person's own token
/// (EfficiencyFigures for today, Report for the month's summary, charts and window flags,
/// EarlyWarnings for the cases near or past their limit) — the front computes no figure itself, so
/// the board, the monthly report and the CLI never disagree.
struct DashboardHandlers: Sendable {
    let staff: StaffHandlers
    /// The node's evaluation service; nil when `evaluation@<node>` is not a peer.
    let evaluation: GRPCClient<OneSealClientTransport>?
    /// "Today" (tests pin it): the figures' day and month are the hall's (Asia/Shanghai).
    let now: @Sendable () -> Date

    /// The board reloads itself every minute: it hangs on the director's screen all day.
    static let refreshSeconds = 60
    /// Warnings listed on the board (the counts are of all of them).
    static let warningRows = 20

    func register(on router: Router<WebContext>) {
        router.get("/staff/dashboard") { request, context in try await dashboard(request, context) }
        router.get("/staff/dashboard/report") { request, context in try await monthlyReport(request, context) }
    }

    /// The signed-in person when their post reads figures; otherwise the answer (sign-in, or 403
    /// before any call — evaluation would refuse the token too).
    func reader(_ request: Request, _ context: WebContext, path: String) async throws -> Result<StaffStore.Staff, ResponseBox> {
        let checked = try await staff.gate(request, at: .signedIn)
        guard case .pass(let id, let session) = checked else { return .failure(ResponseBox(checked.response)) }
        guard session.staff.role.readsFigures else {
            context.logger.notice("staff page refused", metadata: ["request_id": "\(context.id)", "staff": "\(session.staff.staffNumber)", "role": "\(session.staff.role.rawValue)", "path": "\(path)"])
            return .failure(ResponseBox(AccountHandlers.page(.forbidden, DashboardPage.refused(layout: staff.layout(context), csrf: staff.accounts.csrf.token(for: id), staff: session.staff))))
        }
        return .success(session.staff)
    }

    var options: CallOptions {
        var options = CallOptions.defaults
        options.timeout = .seconds(8)
        return options
    }

    func dashboard(_ request: Request, _ context: WebContext) async throws -> Response {
        let person: StaffStore.Staff
        switch try await reader(request, context, path: "/staff/dashboard") {
        case .failure(let box): return box.response
        case .success(let staff): person = staff
        }
        let layout = staff.layout(context)
        let today = CivilDate.today(now: now())
        guard let evaluation else {
            return AccountHandlers.page(.serviceUnavailable, DashboardPage.unavailable(layout: layout, staff: person, notice: "本站工作台未连接效能监督服务。"))
        }
        let client = Evaluation_EvaluationService.Client(wrapping: evaluation)
        let month = ReportMonth(containing: today)
        do {
            let metadata = try staff.staffMetadata(person)
            let day = Common_DateRange.with { $0.from = Common_CivilDate(today); $0.to = Common_CivilDate(today) }
            async let figuresToday = client.efficiencyFigures(.with { $0.period = day }, metadata: metadata, options: options)
            async let report = client.report(.with { $0.kind = .overview; $0.year = Int32(month.year); $0.month = Int32(month.month) }, metadata: metadata, options: options)
            async let warnings = client.earlyWarnings(.with {
                $0.minLevel = .yellow
                $0.page = .with { $0.pageSize = Int32(Self.warningRows) }
            }, metadata: metadata, options: options)
            let board = DashboardPage.Board(
                today: today, month: month, todayFigures: try await figuresToday.total.metrics, report: try await report, warnings: try await warnings)
            return AccountHandlers.page(.ok, DashboardPage.render(layout: layout, staff: person, board: board))
        } catch let error as RPCError {
            context.logger.notice("dashboard failed", metadata: ["request_id": "\(context.id)", "code": "\(error.code)", "message": "\(error.message)"])
            let denied = error.code == .permissionDenied
            return AccountHandlers.page(denied ? .forbidden : .serviceUnavailable, DashboardPage.unavailable(
                layout: layout, staff: person, notice: denied ? "效能监督服务拒绝了你的岗位读取效能数据。" : ErrorPage.unavailable))
        }
    }

    /// The month's analysis report as evaluation renders it (one self-contained page: inline CSS
    /// and SVG, no script, every comment escaped) — served in a sandbox that runs nothing and
    /// fetches nothing, the way the applicant's documents are.
    func monthlyReport(_ request: Request, _ context: WebContext) async throws -> Response {
        let person: StaffStore.Staff
        switch try await reader(request, context, path: "/staff/dashboard/report") {
        case .failure(let box): return box.response
        case .success(let staff): person = staff
        }
        let layout = staff.layout(context)
        let today = CivilDate.today(now: now())
        let month: ReportMonth
        switch ReportMonth.parse(request.uri.queryParameters.get(ReportMonth.field), today: today) {
        case .failure(let error):
            return AccountHandlers.page(.badRequest, DashboardPage.unavailable(layout: layout, staff: person, notice: "月份有误：\(error.message)。"))
        case .success(let chosen): month = chosen
        }
        guard let evaluation else {
            return AccountHandlers.page(.serviceUnavailable, DashboardPage.unavailable(layout: layout, staff: person, notice: "本站工作台未连接效能监督服务。"))
        }
        do {
            let report = try await Evaluation_EvaluationService.Client(wrapping: evaluation).report(
                .with { $0.kind = .monthly; $0.year = Int32(month.year); $0.month = Int32(month.month) },
                metadata: try staff.staffMetadata(person), options: options)
            context.logger.info("monthly report read", metadata: ["request_id": "\(context.id)", "staff": "\(person.staffNumber)", "month": "\(month.text)"])
            return Response(status: .ok, headers: [
                .contentType: "text/html; charset=utf-8",
                .cacheControl: "no-store",
                .contentSecurityPolicy: "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; sandbox",
                .init("X-Content-Type-Options")!: "nosniff",
                .init("Referrer-Policy")!: "no-referrer",
            ], body: .init(byteBuffer: ByteBuffer(string: report.html)))
        } catch let error as RPCError {
            context.logger.notice("monthly report failed", metadata: ["request_id": "\(context.id)", "code": "\(error.code)", "message": "\(error.message)"])
            return AccountHandlers.page(error.code == .permissionDenied ? .forbidden : .serviceUnavailable, DashboardPage.unavailable(layout: layout, staff: person, notice: ErrorPage.unavailable))
        }
    }
}

extension ChartSpec {
    /// A chart as evaluation sent it, drawn by evaluation's own SVG renderer (the monthly report's),
    /// so the board and the report draw the same picture. An unknown chart type is not drawn.
    init?(_ chart: Evaluation_Chart) {
        let kind: ChartSpec.Kind
        switch chart.type {
        case .line: kind = .line
        case .bar: kind = .bar
        case .stackedBar: kind = .stackedBar
        case .pie: kind = .pie
        case .gauge: kind = .gauge
        case .unspecified, .UNRECOGNIZED: return nil
        }
        self.init(
            id: chart.chartID, title: chart.title, kind: kind, xLabel: chart.xLabel, yLabel: chart.yLabel, unit: chart.unit,
            series: chart.series.map { series in ChartSpec.Series(name: series.name, points: series.points.map { (label: $0.label, value: $0.value) }) },
            target: chart.target, takeaway: chart.takeaway)
    }
}
