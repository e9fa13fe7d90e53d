import Foundation
import GRPCCore
import Hummingbird
import Logging
import OneSealProto
import OneSealServiceKit
import OneSealWire
import WebRules

/// The bureau's side of a returned push (退回改派, #19 screen 3): `/staff/returned-pushes` lists the
/// pushes departments sent back with their reasons and the department they named; a push's page
/// re-routes it to the right departments (supervision's ReroutePush: new pushes are made, the old
/// one is marked 已改派), optionally fixing the item's boundary list so the next push goes right.
/// Section chiefs, leaders and the operator only — supervision's method table says the same.
struct PushRerouteHandlers: Sendable {
    let staff: StaffHandlers
    let supervision: GRPCClient<OneSealClientTransport>

    static let path = "/staff/returned-pushes"

    func register(on router: Router<WebContext>) {
        router.get(.init(stringLiteral: Self.path)) { request, context in try await list(request, context) }
        router.get(.init(stringLiteral: "\(Self.path)/:id")) { request, context in try await show(request, context) }
        router.post(.init(stringLiteral: "\(Self.path)/:id")) { request, context in try await reroute(request, context) }
    }

    /// The posts that re-route (supervision's `bureau` rule).
    static func allowed(_ role: StaffRole) -> Bool { [.sectionChief, .deputyDirector, .director, .operator].contains(role) }

    var options: CallOptions {
        var options = CallOptions.defaults
        options.timeout = .seconds(15)
        return options
    }

    var client: Supervision_SupervisionService.Client<OneSealClientTransport> { .init(wrapping: supervision) }

    func person(_ request: Request, _ context: WebContext) async throws -> Result<(StaffStore.Staff, String), StaffPushHandlers.Redirect> {
        let checked = try await staff.gate(request, at: .signedIn)
        guard case .pass(let id, let session) = checked else { return .failure(.init(response: checked.response)) }
        let token = staff.accounts.csrf.token(for: id)
        guard Self.allowed(session.staff.role) else {
            context.logger.notice("staff page refused", metadata: ["request_id": "\(context.id)", "staff": "\(session.staff.staffNumber)", "role": "\(session.staff.role.rawValue)", "path": "\(Self.path)"])
            return .failure(.init(response: AccountHandlers.page(.forbidden, PushPages.rerouteRefused(layout: staff.layout(context), staff: session.staff))))
        }
        return .success((session.staff, token))
    }

    func failure(_ error: RPCError, _ context: WebContext) -> Response {
        context.logger.notice("returned push page failed", metadata: ["request_id": "\(context.id)", "code": "\(error.code)", "message": "\(error.message)"])
        switch error.code {
        case .notFound, .invalidArgument:
            return PageHandlers.html(.notFound, ErrorPage.render(layout: staff.layout(context), title: "推送不存在", message: "没有找到这条推送。请从“退回的推送”重新打开。"))
        case .permissionDenied:
            return PageHandlers.html(.forbidden, ErrorPage.render(layout: staff.layout(context), title: "无权办理", message: "监管服务拒绝了你的岗位改派推送。"))
        default:
            return PageHandlers.html(.serviceUnavailable, ErrorPage.render(layout: staff.layout(context), title: "暂时无法办理", message: ErrorPage.unavailable))
        }
    }

    func list(_ request: Request, _ context: WebContext) async throws -> Response {
        let (person, _): (StaffStore.Staff, String)
        switch try await self.person(request, context) {
        case .failure(let redirect): return redirect.response
        case .success(let found): (person, _) = found
        }
        do {
            let returned = try await client.listPushes(.with { $0.statuses = [.rejected]; $0.page = .with { $0.pageSize = 200 } }, metadata: try staff.staffMetadata(person), options: options).pushes
            return AccountHandlers.page(.ok, PushPages.returned(layout: staff.layout(context), staff: person, pushes: returned))
        } catch let error as RPCError {
            return failure(error, context)
        }
    }

    func page(_ status: HTTPResponse.Status, pushID: String, person: StaffStore.Staff, token: String, context: WebContext,
              errors: FormErrors? = nil, formError: String? = nil, key: String? = nil, done: Bool = false) async throws -> Response {
        let metadata = try staff.staffMetadata(person)
        let found = try await client.getPush(.with { $0.pushID = pushID }, metadata: metadata, options: options).push
        let departments = try await client.listDepartments(.with { _ in }, metadata: metadata, options: options).departments
        return AccountHandlers.page(status, PushPages.reroute(
            layout: staff.layout(context), csrf: token, staff: person, push: found, departments: departments,
            errors: errors, formError: formError, key: key ?? SessionID.generate().text, done: done))
    }

    /// The re-routing post and the push of the path, or the answer instead (sign-in, refusal, not found).
    func personAndPush(_ request: Request, _ context: WebContext) async throws -> Result<(person: StaffStore.Staff, token: String, pushID: String), StaffPushHandlers.Redirect> {
        switch try await person(request, context) {
        case .failure(let redirect): return .failure(redirect)
        case .success(let (person, token)):
            let pushID = context.parameters.get("id") ?? ""
            guard UUID(uuidString: pushID) != nil else { return .failure(.init(response: failure(RPCError(code: .notFound, message: "not a push id"), context))) }
            return .success((person, token, pushID))
        }
    }

    func show(_ request: Request, _ context: WebContext) async throws -> Response {
        let found: (person: StaffStore.Staff, token: String, pushID: String)
        switch try await personAndPush(request, context) {
        case .failure(let redirect): return redirect.response
        case .success(let value): found = value
        }
        do {
            return try await page(.ok, pushID: found.pushID, person: found.person, token: found.token, context: context, done: FormBody.parse(request.uri.query ?? "")["done"] != nil)
        } catch let error as RPCError {
            return failure(error, context)
        }
    }

    /// 改派: the departments chosen, the reason; a repeated form (double click, back and resubmit)
    /// finds the push already re-routed to the same departments and is answered like the first.
    func reroute(_ request: Request, _ context: WebContext) async throws -> Response {
        var request = request
        let body = try await request.collectBody(upTo: CaseActLimits.maximumFormBytes)
        let raw = String(buffer: body)
        let fields = FormBody.parse(raw)
        guard staff.accounts.csrf.isValid(fields[CSRFTokens.field], for: staff.binding(request)) else { return staff.accounts.csrfRefused(context) }
        let (person, token, pushID): (StaffStore.Staff, String, String)
        switch try await personAndPush(request, context) {
        case .failure(let redirect): return redirect.response
        case .success(let found): (person, token, pushID) = (found.person, found.token, found.pushID)
        }
        let key = fields[CaseAct.keyField] ?? ""
        guard SessionID(cookie: key) != nil else {
            return PageHandlers.html(.badRequest, ErrorPage.render(layout: staff.layout(context), title: "表单已失效", message: "表单已失效，请重新打开推送页面。"))
        }
        let form: RerouteForm
        switch RerouteForm.validate(raw) {
        case .failure(let errors):
            do { return try await page(.badRequest, pushID: pushID, person: person, token: token, context: context, errors: errors, key: key) } catch let error as RPCError { return failure(error, context) }
        case .success(let valid): form = valid
        }
        do {
            let metadata = try staff.staffMetadata(person)
            let handlers = StaffPushHandlers(staff: staff, supervision: supervision)
            try await handlers.once([pushID], metadata: metadata, done: { $0.status == .rerouted }) {
                _ = try await client.reroutePush(.with {
                    $0.pushID = pushID
                    $0.departments = form.departments.map { code in Common_DepartmentRef.with { $0.code = code } }
                    $0.reason = form.reason
                    $0.updateBoundary = form.updateBoundary
                }, metadata: metadata, options: options)
                context.logger.info("push rerouted", metadata: ["request_id": "\(context.id)", "staff": "\(person.staffNumber)", "push": "\(pushID)", "departments": "\(form.departments.joined(separator: ","))"])
            }
            return AccountHandlers.redirect("\(Self.path)/\(pushID)?done=reroute")
        } catch let error as RPCError where error.code == .invalidArgument || error.code == .failedPrecondition {
            var errors: [String: String] = [:]
            var unplaced: [String] = []
            for violation in error.fieldViolations {
                if violation.field.hasPrefix("departments") { errors[RerouteForm.departmentsField] = violation.description_p }
                else if violation.field == "reason" { errors[RerouteForm.reasonField] = violation.description_p }
                else { unplaced.append(violation.description_p) }
            }
            if errors.isEmpty && unplaced.isEmpty { unplaced.append(error.message) }
            do {
                return try await page(.badRequest, pushID: pushID, person: person, token: token, context: context,
                                      errors: FormErrors(errors: errors, values: fields.filter { $0.key != CSRFTokens.field }),
                                      formError: unplaced.isEmpty ? nil : "监管服务未接受：" + unplaced.joined(separator: "；"), key: key)
            } catch let error as RPCError { return failure(error, context) }
        } catch let error as RPCError {
            return failure(error, context)
        }
    }
}
