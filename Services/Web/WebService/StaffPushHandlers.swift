import Foundation
import GRPCCore
import Hummingbird
import Logging
import OneSealProto
import OneSealServiceKit
import OneSealWire
import WebRules

/// The supervising department's inbox (#19 screen 3, W38): `/staff/pushes` lists the pushes of the
/// inspector's own department with their claim deadlines, a push's page claims it and sends a
/// finding back. Which department is the token's (`dept`, minted from the account's department
/// code): supervision answers a department token with its own pushes only, whatever the page asks.
struct StaffPushHandlers: Sendable {
    let staff: StaffHandlers
    let supervision: GRPCClient<OneSealClientTransport>

    func register(on router: Router<WebContext>) {
        router.get("/staff/pushes") { request, context in try await inbox(request, context) }
        router.get("/staff/pushes/:id") { request, context in try await show(request, context) }
        router.post("/staff/pushes/claim") { request, context in try await claimSelected(request, context) }
        router.post("/staff/pushes/:id/claim") { request, context in try await claim(request, context) }
        router.post("/staff/pushes/:id/findings") { request, context in try await finding(request, context) }
        router.post("/staff/pushes/:id/reject") { request, context in try await reject(request, context) }
    }

    var options: CallOptions {
        var options = CallOptions.defaults
        options.timeout = .seconds(15)
        return options
    }

    var client: Supervision_SupervisionService.Client<OneSealClientTransport> { .init(wrapping: supervision) }

    /// Only an inspector of a department (role `department` with a department code) opens the inbox.
    func inspector(_ request: Request, _ context: WebContext, path: String) async throws -> (StaffStore.Staff, String) {
        let checked = try await staff.gate(request, at: .signedIn)
        guard case .pass(let id, let session) = checked else { throw Redirect(response: checked.response) }
        let token = staff.accounts.csrf.token(for: id)
        guard session.staff.role == .department, session.staff.departmentCode != nil else {
            context.logger.notice("staff page refused", metadata: ["request_id": "\(context.id)", "staff": "\(session.staff.staffNumber)", "role": "\(session.staff.role.rawValue)", "path": "\(path)"])
            throw Redirect(response: AccountHandlers.page(.forbidden, PushPages.refused(layout: staff.layout(context), staff: session.staff)))
        }
        return (session.staff, token)
    }

    /// An answer other than the page: the sign-in redirect or the refusal.
    struct Redirect: Error { let response: Response }

    func failure(_ error: RPCError, _ context: WebContext) -> Response {
        context.logger.notice("department page failed", metadata: ["request_id": "\(context.id)", "code": "\(error.code)", "message": "\(error.message)"])
        switch error.code {
        case .notFound, .invalidArgument, .permissionDenied:
            return PageHandlers.html(.notFound, ErrorPage.render(layout: staff.layout(context), title: "推送不存在", message: "没有找到推送给本部门的这条信息。请从“推送信息”重新打开。"))
        default:
            return PageHandlers.html(.serviceUnavailable, ErrorPage.render(layout: staff.layout(context), title: "暂时无法办理", message: ErrorPage.unavailable))
        }
    }

    func inbox(_ request: Request, _ context: WebContext) async throws -> Response {
        do {
            let (person, token) = try await inspector(request, context, path: "/staff/pushes")
            let claimedCount = Int(FormBody.parse(request.uri.query ?? "")["claimed"] ?? "").flatMap { (1...PushForms.maximumSelected).contains($0) ? $0 : nil }
            return try await inboxPage(.ok, context, person: person, csrf: token, claimedCount: claimedCount, selectionError: nil)
        } catch let redirect as Redirect {
            return redirect.response
        } catch let error as RPCError {
            return failure(error, context)
        }
    }

    func inboxPage(_ status: HTTPResponse.Status, _ context: WebContext, person: StaffStore.Staff, csrf token: String, claimedCount: Int?, selectionError: String?) async throws -> Response {
        let metadata = try staff.staffMetadata(person)
        let pending = try await client.listPushes(.with { $0.statuses = [.pending]; $0.page = .with { $0.pageSize = 200 } }, metadata: metadata, options: options).pushes
        let claimed = try await client.listPushes(.with { $0.statuses = [.claimed]; $0.page = .with { $0.pageSize = 50 } }, metadata: metadata, options: options).pushes
        return AccountHandlers.page(status, PushPages.inbox(
            layout: staff.layout(context), csrf: token, staff: person, pending: pending, claimed: claimed, claimedCount: claimedCount, selectionError: selectionError))
    }

    /// 认领所选: the pushes ticked on the inbox, claimed in one call (`ClaimPushes`: all or none).
    /// Sent twice (a double click), the second finds them claimed by this person and is answered
    /// like the first; any other refusal is shown above the list, nothing claimed.
    func claimSelected(_ request: Request, _ context: WebContext) async throws -> Response {
        do {
            guard let submitted = try await formAndInspector(request, context, path: "/staff/pushes/claim") else { return staff.accounts.csrfRefused(context) }
            let (fields, person) = (submitted.fields, submitted.person)
            let token = submitted.token
            let ids: [String]
            switch PushForms.selected(fields) {
            case .failure(let problem): return try await inboxPage(.badRequest, context, person: person, csrf: token, claimedCount: nil, selectionError: problem.message)
            case .success(let chosen): ids = chosen
            }
            let note = String((fields[PushForms.noteField] ?? "").trimmingCharacters(in: .whitespacesAndNewlines).prefix(CaseActLimits.maximumLineCharacters))
            let metadata = try staff.staffMetadata(person)
            do {
                try await once(ids, metadata: metadata, done: Self.claimed(by: person)) {
                    _ = try await client.claimPushes(.with { $0.pushIds = ids; $0.note = note }, metadata: metadata, options: options)
                    context.logger.info("pushes claimed", metadata: ["request_id": "\(context.id)", "staff": "\(person.staffNumber)", "count": "\(ids.count)"])
                }
            } catch let error as RPCError where [.failedPrecondition, .permissionDenied, .notFound].contains(error.code) {
                return try await inboxPage(.conflict, context, person: person, csrf: token, claimedCount: nil, selectionError: "未认领：所选推送中有已被认领、已退回或不属于本部门的，请刷新后重新勾选。")
            }
            return AccountHandlers.redirect("/staff/pushes?claimed=\(ids.count)")
        } catch let redirect as Redirect {
            return redirect.response
        } catch let error as RPCError {
            return failure(error, context)
        }
    }

    func show(_ request: Request, _ context: WebContext) async throws -> Response {
        do {
            let (person, token) = try await inspector(request, context, path: "/staff/pushes/:id")
            let pushID = context.parameters.get("id") ?? ""
            guard UUID(uuidString: pushID) != nil else { return failure(RPCError(code: .notFound, message: "not a push id"), context) }
            let found = try await client.getPush(.with { $0.pushID = pushID }, metadata: try staff.staffMetadata(person), options: options)
            let done = FormBody.parse(request.uri.query ?? "")["done"]
            return AccountHandlers.page(.ok, PushPages.push(layout: staff.layout(context), csrf: token, staff: person, push: found.push, findings: found.findings, done: done, errors: nil, formError: nil, key: nil))
        } catch let redirect as Redirect {
            return redirect.response
        } catch let error as RPCError {
            return failure(error, context)
        }
    }

    /// Reads a staff form (CSRF checked) and the inspector; nil fields: the CSRF token failed.
    func formAndInspector(_ request: Request, _ context: WebContext, path: String) async throws -> (fields: [String: String], person: StaffStore.Staff, token: String)? {
        var request = request
        let body = try await request.collectBody(upTo: CaseActLimits.maximumFormBytes)
        let fields = FormBody.parse(String(buffer: body))
        guard staff.accounts.csrf.isValid(fields[CSRFTokens.field], for: staff.binding(request)) else { return nil }
        let (person, token) = try await inspector(request, context, path: path)
        return (fields, person, token)
    }

    /// Runs one act on the pushes. When supervision refuses it because they moved on (a double
    /// click, back and resubmit) and every one shows the act `done` by this person, the act is
    /// answered like the first; any other refusal is thrown.
    func once(_ pushIDs: [String], metadata: Metadata, done: (Supervision_Push) -> Bool, _ act: () async throws -> Void) async throws {
        do {
            try await act()
        } catch let error as RPCError where [.failedPrecondition, .alreadyExists, .aborted].contains(error.code) {
            for pushID in pushIDs {
                let now = try await client.getPush(.with { $0.pushID = pushID }, metadata: metadata, options: options).push
                guard done(now) else { throw error }
            }
        }
    }

    /// Whether a push shows the claim `person` made (a repeated claim is answered like the first).
    static func claimed(by person: StaffStore.Staff) -> (Supervision_Push) -> Bool {
        { $0.status == .claimed && $0.claimedBy.subject == person.staffNumber }
    }

    /// 认领: the push is the department's from now; a repeated claim by the same person is answered
    /// like the first.
    func claim(_ request: Request, _ context: WebContext) async throws -> Response {
        do {
            guard let submitted = try await formAndInspector(request, context, path: "/staff/pushes/:id/claim") else { return staff.accounts.csrfRefused(context) }
            let (fields, person) = (submitted.fields, submitted.person)
            let pushID = context.parameters.get("id") ?? ""
            guard UUID(uuidString: pushID) != nil else { return failure(RPCError(code: .notFound, message: "not a push id"), context) }
            let note = String((fields[PushForms.noteField] ?? "").trimmingCharacters(in: .whitespacesAndNewlines).prefix(CaseActLimits.maximumLineCharacters))
            let metadata = try staff.staffMetadata(person)
            try await once([pushID], metadata: metadata, done: Self.claimed(by: person)) {
                _ = try await client.claimPush(.with { $0.pushID = pushID; $0.note = note }, metadata: metadata, options: options)
                context.logger.info("push claimed", metadata: ["request_id": "\(context.id)", "staff": "\(person.staffNumber)", "push": "\(pushID)"])
            }
            return AccountHandlers.redirect("/staff/pushes/\(pushID)?done=claim")
        } catch let redirect as Redirect {
            return redirect.response
        } catch let error as RPCError {
            return failure(error, context)
        }
    }

    /// 退回: not this department's business — the reason required, a department to send it to
    /// when known; the bureau re-routes it. A repeated rejection by the same person is answered
    /// like the first.
    func reject(_ request: Request, _ context: WebContext) async throws -> Response {
        do {
            guard let submitted = try await formAndInspector(request, context, path: "/staff/pushes/:id/reject") else { return staff.accounts.csrfRefused(context) }
            let (fields, person, token) = (submitted.fields, submitted.person, submitted.token)
            let pushID = context.parameters.get("id") ?? ""
            guard UUID(uuidString: pushID) != nil else { return failure(RPCError(code: .notFound, message: "not a push id"), context) }
            let metadata = try staff.staffMetadata(person)
            let form: PushForms.Rejection
            switch PushForms.Rejection.validate(fields) {
            case .failure(let errors):
                let found = try await client.getPush(.with { $0.pushID = pushID }, metadata: metadata, options: options)
                return AccountHandlers.page(.badRequest, PushPages.push(layout: staff.layout(context), csrf: token, staff: person, push: found.push, findings: found.findings, done: nil, errors: errors, formError: nil, key: nil))
            case .success(let valid): form = valid
            }
            try await once([pushID], metadata: metadata, done: { $0.status == .rejected && $0.rejectedBy.subject == person.staffNumber }) {
                _ = try await client.rejectPush(.with {
                    $0.pushID = pushID
                    $0.reason = form.reason
                    if !form.suggested.isEmpty { $0.suggestedDepartment = .with { $0.code = form.suggested } }
                }, metadata: metadata, options: options)
                context.logger.info("push rejected", metadata: ["request_id": "\(context.id)", "staff": "\(person.staffNumber)", "push": "\(pushID)"])
            }
            return AccountHandlers.redirect("/staff/pushes/\(pushID)?done=reject")
        } catch let redirect as Redirect {
            return redirect.response
        } catch let error as RPCError {
            return failure(error, context)
        }
    }

    /// 反馈: a finding on the push (inspection result, penalty, withdrawal …), idempotent on the
    /// form's key (supervision keeps it).
    func finding(_ request: Request, _ context: WebContext) async throws -> Response {
        do {
            guard let submitted = try await formAndInspector(request, context, path: "/staff/pushes/:id/findings") else { return staff.accounts.csrfRefused(context) }
            let (fields, person, token) = (submitted.fields, submitted.person, submitted.token)
            let pushID = context.parameters.get("id") ?? ""
            guard UUID(uuidString: pushID) != nil else { return failure(RPCError(code: .notFound, message: "not a push id"), context) }
            let key = fields[CaseAct.keyField] ?? ""
            guard SessionID(cookie: key) != nil else {
                return PageHandlers.html(.badRequest, ErrorPage.render(layout: staff.layout(context), title: "表单已失效", message: "表单已失效，请重新打开推送页面。"))
            }
            let metadata = try staff.staffMetadata(person)
            func again(_ status: HTTPResponse.Status, _ errors: FormErrors?, _ formError: String?) async throws -> Response {
                let found = try await client.getPush(.with { $0.pushID = pushID }, metadata: metadata, options: options)
                return AccountHandlers.page(status, PushPages.push(layout: staff.layout(context), csrf: token, staff: person, push: found.push, findings: found.findings, done: nil, errors: errors, formError: formError, key: key))
            }
            let form: PushForms.Finding
            switch PushForms.Finding.validate(fields) {
            case .failure(let errors): return try await again(.badRequest, errors, nil)
            case .success(let valid): form = valid
            }
            do {
                _ = try await client.submitFinding(.with {
                    $0.idempotencyKey = "web:\(staff.node):\(key)"
                    $0.finding = .with {
                        $0.pushID = pushID
                        $0.kind = PushForms.kind(form.kind)
                        $0.inspectionResult = PushForms.result(form.result)
                        $0.facts = form.facts
                        $0.occurredOn = .with { $0.year = Int32(form.occurredOn.year); $0.month = Int32(form.occurredOn.month); $0.day = Int32(form.occurredOn.day) }
                    }
                }, metadata: metadata, options: options)
            } catch let error as RPCError where error.code == .invalidArgument {
                var errors: [String: String] = [:]
                var unplaced: [String] = []
                for violation in error.fieldViolations {
                    if let field = PushForms.field(forService: violation.field) { errors[field] = violation.description_p } else { unplaced.append(violation.description_p) }
                }
                return try await again(.badRequest, FormErrors(errors: errors, values: fields), unplaced.isEmpty && !errors.isEmpty ? nil : "监管服务未接受：" + (unplaced.isEmpty ? error.message : unplaced.joined(separator: "；")))
            } catch let error as RPCError where [.failedPrecondition, .permissionDenied].contains(error.code) {
                return try await again(.conflict, FormErrors(errors: [:], values: fields), "未提交：\(error.message)")
            }
            context.logger.info("finding submitted", metadata: ["request_id": "\(context.id)", "staff": "\(person.staffNumber)", "push": "\(pushID)"])
            return AccountHandlers.redirect("/staff/pushes/\(pushID)?done=finding")
        } catch let redirect as Redirect {
            return redirect.response
        } catch let error as RPCError {
            return failure(error, context)
        }
    }
}

/// The department's forms.
enum PushForms {
    static let reasonField = "reason"
    static let suggestedField = "suggested_department"

    /// 退回: a specific reason (4–500 characters) and, optionally, the department code it belongs to.
    struct Rejection {
        var reason: String
        var suggested: String

        static func validate(_ fields: [String: String]) -> Result<Rejection, FormErrors> {
            var errors: [String: String] = [:]
            let reason = (fields[reasonField] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            let suggested = (fields[suggestedField] ?? "").trimmingCharacters(in: .whitespaces)
            if reason.count < 4 { errors[reasonField] = "请具体写明退回理由" } else if reason.count > 500 { errors[reasonField] = "最多500字" }
            if !suggested.isEmpty && !WorkbenchCode.isValid(suggested, maximum: WorkbenchCode.maximumDepartmentCharacters) {
                errors[suggestedField] = "部门代码为字母、数字和 - _ .，最多\(WorkbenchCode.maximumDepartmentCharacters)个字符"
            }
            guard errors.isEmpty else { return .failure(FormErrors(errors: errors, values: fields)) }
            return .success(Rejection(reason: reason, suggested: suggested))
        }
    }

    static let noteField = "note"
    /// A push ticked on the inbox: a box named `select_<push id>`.
    static let selectPrefix = "select_"
    /// `ClaimPushes` takes at most 100 at once.
    static let maximumSelected = 100

    struct SelectionProblem: Error {
        var message: String
    }

    /// 认领所选: the push ids ticked, sorted; each must be an id.
    static func selected(_ fields: [String: String]) -> Result<[String], SelectionProblem> {
        let ids = fields.keys.filter { $0.hasPrefix(selectPrefix) }.map { String($0.dropFirst(selectPrefix.count)) }.sorted()
        guard !ids.isEmpty else { return .failure(SelectionProblem(message: "请先勾选要认领的推送。")) }
        guard ids.count <= maximumSelected else { return .failure(SelectionProblem(message: "一次最多认领\(maximumSelected)条，请分批认领。")) }
        guard ids.allSatisfy({ UUID(uuidString: $0) != nil }) else { return .failure(SelectionProblem(message: "所选推送无效，请刷新后重新勾选。")) }
        return .success(ids)
    }

    static let kindField = "kind"
    static let resultField = "inspection_result"
    static let factsField = "facts"
    static let occurredField = "occurred_on"

    static let kinds: [(String, String)] = [
        ("inspection_result", "检查结果"), ("penalty", "行政处罚"), ("licence_withdrawn", "吊销许可证件"),
        ("revocation_recommended", "建议撤销许可"), ("other", "其他"),
    ]
    static let results: [(String, String)] = [
        ("compliant", "符合"), ("compliant_after_fix", "整改后符合"), ("non_compliant", "不符合"), ("not_found_at_place", "查无下落"),
    ]

    static func kind(_ value: String) -> Supervision_FindingKind {
        switch value {
        case "inspection_result": .inspectionResult
        case "penalty": .penalty
        case "licence_withdrawn": .licenceWithdrawn
        case "revocation_recommended": .revocationRecommended
        case "other": .other
        default: .unspecified
        }
    }

    static func result(_ value: String) -> Supervision_InspectionResult {
        switch value {
        case "compliant": .compliant
        case "compliant_after_fix": .compliantAfterFix
        case "non_compliant": .nonCompliant
        case "not_found_at_place": .notFoundAtPlace
        default: .unspecified
        }
    }

    static func field(forService path: String) -> String? {
        let last = path.split(separator: ".").last.map(String.init) ?? path
        switch last {
        case "kind": return kindField
        case "inspection_result": return resultField
        case "facts": return factsField
        case "occurred_on": return occurredField
        default: return nil
        }
    }

    struct Finding: Sendable {
        var kind: String
        var result: String
        var facts: String
        var occurredOn: (year: Int, month: Int, day: Int)

        static func validate(_ fields: [String: String]) -> Result<Finding, FormErrors> {
            var errors: [String: String] = [:]
            let kind = fields[kindField] ?? ""
            if !kinds.contains(where: { $0.0 == kind }) { errors[kindField] = "请选择反馈类型" }
            let result = fields[resultField] ?? ""
            if kind == "inspection_result" && !results.contains(where: { $0.0 == result }) { errors[resultField] = "检查结果须选择：符合、整改后符合、不符合或查无下落" }
            let facts = (fields[factsField] ?? "").replacingOccurrences(of: "\r\n", with: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
            if facts.isEmpty { errors[factsField] = "请填写查明的事实" } else if facts.count > CaseActLimits.maximumTextCharacters { errors[factsField] = "最多\(CaseActLimits.maximumTextCharacters)个字" }
            let dateText = (fields[occurredField] ?? "").trimmingCharacters(in: .whitespaces)
            let date = PushForms.date(dateText)
            if date == nil { errors[occurredField] = "日期格式为 年-月-日，如 2026-12-04" }
            guard errors.isEmpty, let date else { return .failure(FormErrors(errors: errors, values: fields.filter { $0.key != CSRFTokens.field })) }
            return .success(Finding(kind: kind, result: result, facts: facts, occurredOn: date))
        }
    }

    static func date(_ text: String) -> (year: Int, month: Int, day: Int)? {
        let parts = text.split(separator: "-").map { Int($0) }
        guard parts.count == 3, let year = parts[0], let month = parts[1], let day = parts[2], (2000...2199).contains(year), (1...12).contains(month), (1...31).contains(day) else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Asia/Shanghai")!
        guard let date = calendar.date(from: DateComponents(year: year, month: month, day: day)), calendar.component(.day, from: date) == day else { return nil }
        return (year, month, day)
    }
}
