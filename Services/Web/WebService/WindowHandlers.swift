import Foundation
import GRPCCore
import Hummingbird
import OneSealCore
import OneSealProto
import OneSealServiceKit
import OneSealWire
import WebRules

/// 综合受理 (#19 screen 1, W43): the window clerk's queue (`/staff/window`: the applications
/// waiting for an intake decision, by the deemed-acceptance due date, and the results waiting to be
/// handed out) and an application's page (`/staff/window/:id`) with the intake decisions — accept,
/// the one-time correction notice ticking exactly the materials at fault, not accepted with its
/// ground, reason and provision — and 出件 with the collector's checked identity. Every call is
/// intake's, with the clerk's own token; intake's rules decide.
struct WindowHandlers: Sendable {
    let staff: StaffHandlers
    let intake: GRPCClient<OneSealClientTransport>
    /// "Today" for the collector's ID check (tests pin it).
    let now: @Sendable () -> Date

    func register(on router: Router<WebContext>) {
        router.get("/staff/window") { request, context in try await queue(request, context) }
        router.get("/staff/window/new") { request, context in try await newForm(request, context) }
        router.post("/staff/window/new") { request, context in try await newSubmit(request, context) }
        router.get("/staff/window/:id") { request, context in try await show(request, context) }
        router.get("/staff/window/:id/documents/:document") { request, context in try await document(request, context) }
        for act in WindowAct.allCases {
            router.post(.init(stringLiteral: "/staff/window/:id/\(act.path)")) { request, context in try await submit(act, request, context) }
        }
    }

    var options: CallOptions {
        var options = CallOptions.defaults
        options.timeout = .seconds(15)
        return options
    }

    var client: Intake_IntakeService.Client<OneSealClientTransport> { .init(wrapping: intake) }

    /// The clerk signed in (a window clerk), or the answer: sign-in, or 403 before any call.
    func clerk(_ request: Request, _ context: WebContext) async throws -> Result<(SessionID, StaffStore.Staff), ResponseBox> {
        let checked = try await staff.gate(request, at: .signedIn)
        guard case .pass(let id, let session) = checked else { return .failure(.init(checked.response)) }
        guard session.staff.role == .windowClerk else {
            context.logger.notice("staff page refused", metadata: ["request_id": "\(context.id)", "staff": "\(session.staff.staffNumber)", "role": "\(session.staff.role.rawValue)", "path": "/staff/window"])
            return .failure(.init(AccountHandlers.page(.forbidden, WindowPage.refused(layout: staff.layout(context), staff: session.staff))))
        }
        return .success((id, session.staff))
    }

    func failure(_ error: RPCError, _ context: WebContext) -> Response {
        context.logger.notice("window page failed", metadata: ["request_id": "\(context.id)", "code": "\(error.code)", "message": "\(error.message)"])
        switch error.code {
        case .notFound, .invalidArgument:
            return PageHandlers.html(.notFound, ErrorPage.render(layout: staff.layout(context), title: "申请不存在", message: "没有找到这件申请。请从窗口待办重新打开。"))
        case .permissionDenied:
            return PageHandlers.html(.forbidden, ErrorPage.render(layout: staff.layout(context), title: "无权查看", message: "受理服务拒绝了你查看这件申请（例如不是本窗口所在节点的申请）。"))
        default:
            return PageHandlers.html(.serviceUnavailable, ErrorPage.render(layout: staff.layout(context), title: "暂时无法办理", message: ErrorPage.unavailable))
        }
    }

    func queue(_ request: Request, _ context: WebContext) async throws -> Response {
        let (_, person): (SessionID, StaffStore.Staff)
        switch try await clerk(request, context) {
        case .failure(let box): return box.response
        case .success(let found): (_, person) = found
        }
        let today = CivilDate.today(now: now())
        do {
            let metadata = try staff.staffMetadata(person)
            async let waiting = client.listApplications(.with {
                $0.statuses = [.submitted]
                $0.page = .with { $0.pageSize = 100 }
            }, metadata: metadata, options: options)
            async let ready = client.listApplications(.with {
                $0.statuses = [.readyForDelivery]
                $0.page = .with { $0.pageSize = 100 }
            }, metadata: metadata, options: options)
            async let receivedToday = client.listApplications(.with {
                $0.submitted = .with { $0.from = Common_CivilDate(today); $0.to = Common_CivilDate(today) }
                $0.page = .with { $0.pageSize = 1 }
            }, metadata: metadata, options: options)
            // This window's own day: what it received today and where those stand now.
            let window = person.windowNumber ?? ""
            func mine(_ statuses: [Intake_ApplicationStatus]) async throws -> Int64 {
                try await client.listApplications(.with {
                    $0.windowID = window
                    $0.statuses = statuses
                    $0.submitted = .with { $0.from = Common_CivilDate(today); $0.to = Common_CivilDate(today) }
                    $0.page = .with { $0.pageSize = 1 }
                }, metadata: metadata, options: options).page.totalSize
            }
            var own: WindowPage.OwnDay?
            if !window.isEmpty {
                // Four counts at once, beside the queue's own calls.
                async let received = mine([])
                async let accepted = mine([.accepted, .forwarded, .readyForDelivery, .delivered])
                async let correction = mine([.correctionRequested])
                async let notAccepted = mine([.notAccepted])
                own = WindowPage.OwnDay(received: try await received, accepted: try await accepted, correction: try await correction, notAccepted: try await notAccepted)
            }
            let board = WindowPage.Queue(
                waiting: try await waiting.applications.sorted(by: WindowPage.byIntakeDue), waitingTotal: try await waiting.page.totalSize,
                ready: try await ready.applications, readyTotal: try await ready.page.totalSize, receivedToday: try await receivedToday.page.totalSize,
                own: own)
            return AccountHandlers.page(.ok, WindowPage.queue(layout: staff.layout(context), staff: person, queue: board))
        } catch let error as RPCError {
            return failure(error, context)
        }
    }

    /// The item chosen for a new application, or nil (not an item code, not in the catalogue).
    func item(_ code: String?) async throws -> Intake_Item? {
        guard let code, CatalogueSearch.isItemCode(code) else { return nil }
        do {
            return try await client.getItem(.with { $0.implementationCode = code }, options: options).item
        } catch let error as RPCError where error.code == .notFound || error.code == .invalidArgument {
            return nil
        }
    }

    /// 收件: the item (chosen from the catalogue), then who applies and each material's scan.
    func newForm(_ request: Request, _ context: WebContext) async throws -> Response {
        let (id, person): (SessionID, StaffStore.Staff)
        switch try await clerk(request, context) {
        case .failure(let box): return box.response
        case .success(let found): (id, person) = found
        }
        let token = staff.accounts.csrf.token(for: id)
        do {
            let code = FormBody.parse(request.uri.query ?? "")["item"]
            if let item = try await item(code) {
                return AccountHandlers.page(.ok, WindowPage.newApplication(layout: staff.layout(context), csrf: token, staff: person, item: item, errors: nil, fileErrors: [:], notice: nil))
            }
            let items = try await client.listItems(.with { $0.page = .with { $0.pageSize = 500 } }, options: options).items
            return AccountHandlers.page(code == nil ? .ok : .notFound, WindowPage.chooseItem(layout: staff.layout(context), staff: person, items: items, unknown: code != nil))
        } catch let error as RPCError {
            return failure(error, context)
        }
    }

    /// The clerk's new application: the applicant checked as typed (GB 11643 / GB 32100, mobile
    /// number), every scan checked by content, all before anything is stored; then the scans into
    /// intake's store as the clerk and SubmitApplication (channel WINDOW, this clerk's window) with
    /// the form's key, so a double click makes one application.
    func newSubmit(_ request: Request, _ context: WebContext) async throws -> Response {
        let layout = staff.layout(context)
        var request = request
        let form: MultipartForm
        switch try await ApplyHandlers.multipart(&request, layout: layout, page: "收件页面") {
        case .failure(let refusal): return refusal.response
        case .success(let parsed): form = parsed
        }
        let fields = form.fields
        guard staff.accounts.csrf.isValid(fields[CSRFTokens.field], for: staff.binding(request)) else { return staff.accounts.csrfRefused(context) }
        let (id, person): (SessionID, StaffStore.Staff)
        switch try await clerk(request, context) {
        case .failure(let box): return box.response
        case .success(let found): (id, person) = found
        }
        let token = staff.accounts.csrf.token(for: id)
        guard let item = try await item(fields["item"]) else {
            return PageHandlers.html(.notFound, ErrorPage.render(layout: layout, title: "事项不存在", message: "没有这个事项，请重新选择。"))
        }
        let key = fields[WindowAct.keyField] ?? ""
        guard SessionID(cookie: key) != nil else {
            return PageHandlers.html(.badRequest, ErrorPage.render(layout: layout, title: "表单已失效", message: "表单已失效，请重新打开收件页面。"))
        }
        var errors: [String: String] = [:]
        let applicant = Registration.applicantFields(fields, today: CivilDate.today(now: now()), errors: &errors)
        let accepted: [ApplyHandlers.CheckedMaterial]
        var fileErrors: [String: String] = [:]
        switch ApplyHandlers.check(files: form.files, of: item) {
        case .failure(.unlisted):
            return PageHandlers.html(.badRequest, ErrorPage.render(layout: layout, title: "提交内容不正确", message: "提交了本事项材料清单以外的文件，未做任何处理。"))
        case .failure(.fields(let problems)):
            fileErrors = problems
            accepted = []
        case .success(let checked): accepted = checked
        }
        guard errors.isEmpty, fileErrors.isEmpty else {
            return AccountHandlers.page(.badRequest, WindowPage.newApplication(
                layout: layout, csrf: token, staff: person, item: item, errors: FormErrors(errors: errors, values: applicant.values), fileErrors: fileErrors, notice: nil, key: key))
        }
        do {
            let metadata = try staff.staffMetadata(person)
            let materials = try await ApplyHandlers.upload(accepted, of: item, to: client, metadata: metadata)
            let call = Intake_SubmitApplicationRequest.with {
                $0.applicant = ApplyHandlers.applicant(
                    kind: applicant.kind, name: applicant.name, identityCode: applicant.code, legalRepresentative: applicant.representative, phone: applicant.phone)
                $0.items = [.with { $0.implementationCode = item.implementationCode }]
                $0.materials = materials
                $0.channel = .window
                $0.windowID = person.windowNumber ?? ""
                $0.idempotencyKey = "web:\(staff.node):\(key)"
            }
            let submitted: Intake_SubmitApplicationResponse
            do {
                submitted = try await client.submitApplication(call, metadata: metadata, options: options)
            } catch let error as RPCError where error.code == .alreadyExists {
                // Two clicks raced into intake: the retry finds the winner's application.
                submitted = try await client.submitApplication(call, metadata: metadata, options: options)
            }
            context.logger.info("window application entered", metadata: ["request_id": "\(context.id)", "staff": "\(person.staffNumber)", "application": "\(submitted.application.applicationNumber)", "materials": "\(materials.count)"])
            return AccountHandlers.redirect("/staff/window/\(submitted.application.applicationID)")
        } catch let error as RPCError {
            context.logger.notice("window application refused", metadata: ["request_id": "\(context.id)", "code": "\(error.code)", "message": "\(error.message)"])
            let text = error.fieldViolations.map { "\($0.field)：\($0.description_p)" }
            let status: HTTPResponse.Status = [.invalidArgument, .failedPrecondition, .permissionDenied].contains(error.code) ? .badRequest : .serviceUnavailable
            let notice = status == .badRequest ? "受理服务未接收：" + (text.isEmpty ? error.message : text.joined(separator: "；")) : ErrorPage.unavailable
            return AccountHandlers.page(status, WindowPage.newApplication(
                layout: layout, csrf: token, staff: person, item: item, errors: FormErrors(errors: [:], values: applicant.values), fileErrors: [:], notice: notice, key: key))
        }
    }

    /// The application (GetApplication: in full for this node's clerk, the read logged by intake)
    /// and the material list of each of its items at the version it was submitted under.
    func load(_ applicationID: String, metadata: Metadata) async throws -> WindowPage.View {
        let application = try await client.getApplication(.with { $0.applicationID = applicationID }, metadata: metadata, options: options).application
        var requirements: [(item: String, requirement: Intake_MaterialRequirement)] = []
        var deficiency = false, commitment = false
        for item in application.items {
            let found = try await client.getItem(.with { $0.implementationCode = item.implementationCode; $0.version = item.itemVersion }, options: options).item
            deficiency = deficiency || found.deficiencyAllowed
            commitment = commitment || found.commitmentAllowed
            for requirement in found.materials where !requirements.contains(where: { $0.requirement.code == requirement.code }) {
                requirements.append((item.implementationCode, requirement))
            }
        }
        return WindowPage.View(application: application, requirements: requirements, deficiencyAllowed: deficiency, commitmentAllowed: commitment, node: staff.node)
    }

    func show(_ request: Request, _ context: WebContext) async throws -> Response {
        let (id, person): (SessionID, StaffStore.Staff)
        switch try await clerk(request, context) {
        case .failure(let box): return box.response
        case .success(let found): (id, person) = found
        }
        let applicationID = context.parameters.get("id") ?? ""
        guard UUID(uuidString: applicationID) != nil else { return failure(RPCError(code: .notFound, message: "not an id"), context) }
        let done = FormBody.parse(request.uri.query ?? "")["done"].flatMap(WindowAct.init(rawValue:))
        do {
            let view = try await load(applicationID, metadata: try staff.staffMetadata(person))
            return AccountHandlers.page(.ok, WindowPage.application(layout: staff.layout(context), csrf: staff.accounts.csrf.token(for: id), staff: person, view: view, done: done))
        } catch let error as RPCError {
            return failure(error, context)
        }
    }

    /// A document the window issued on the application (receipt, correction notice, not-accepted
    /// notice, the items' decision documents), opened inline for printing with its number. Only a
    /// document the application lists.
    func document(_ request: Request, _ context: WebContext) async throws -> Response {
        let person: StaffStore.Staff
        switch try await clerk(request, context) {
        case .failure(let box): return box.response
        case .success(let found): person = found.1
        }
        let applicationID = context.parameters.get("id") ?? ""
        let wanted = context.parameters.get("document") ?? ""
        guard UUID(uuidString: applicationID) != nil, !wanted.isEmpty, wanted.utf8.count <= 128 else { return failure(RPCError(code: .notFound, message: "not an id"), context) }
        do {
            let application = try await client.getApplication(.with { $0.applicationID = applicationID }, metadata: try staff.staffMetadata(person), options: options).application
            guard let document = ApplicationPage.documents(application).first(where: { $0.documentID == wanted }), !document.content.isEmpty else {
                return failure(RPCError(code: .notFound, message: "no such document"), context)
            }
            context.logger.info("window document printed", metadata: ["request_id": "\(context.id)", "staff": "\(person.staffNumber)", "document": "\(document.number)"])
            // As intake rendered it (today plain text, the numbered document's full wording).
            let type = document.contentType.isEmpty ? "application/pdf" : document.contentType
            let suffix = type.hasPrefix("text/plain") ? "txt" : "pdf"
            return Response(status: .ok, headers: [
                .contentType: type, .cacheControl: "no-store", .init("X-Content-Type-Options")!: "nosniff",
                .contentDisposition: "inline; filename=\"\(document.documentID).\(suffix)\"",
                // Not sandboxed: Chromium's PDF viewer (and its print button) refuses a sandboxed document.
                .contentSecurityPolicy: "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'",
                .init("Referrer-Policy")!: "no-referrer",
            ], body: .init(byteBuffer: ByteBuffer(bytes: document.content)))
        } catch let error as RPCError {
            return failure(error, context)
        }
    }

    /// Whether the act is already in the application, by this clerk: a second submission of the
    /// same form (double click, back and resubmit) is answered like the first.
    static func alreadyDone(_ act: WindowAct, _ application: Intake_Application, by clerk: String) -> Bool {
        switch act {
        case .accept: [.accepted, .forwarded, .readyForDelivery, .delivered].contains(application.status) && application.decidedBy.subject == clerk
        case .correction: application.status == .correctionRequested && application.decidedBy.subject == clerk
        case .reject: application.status == .notAccepted && application.decidedBy.subject == clerk
        case .deliver: application.status == .delivered && application.delivery.clerk.subject == clerk
        case .deficiency: application.outcome == .acceptedWithDeficiency && application.decidedBy.subject == clerk
        case .commitment: application.outcome == .acceptedByCommitment && application.decidedBy.subject == clerk
        case .forward: application.status != .accepted && application.forwarding.forwardedBy.subject == clerk
        }
    }

    static func problemKind(_ value: String) -> Intake_MaterialProblemKind {
        switch value {
        case "missing": .missing
        case "wrong_form": .wrongForm
        case "incomplete": .incomplete
        case "inconsistent": .inconsistent
        case "expired": .expired
        default: .other
        }
    }

    static func ground(_ value: String) -> Intake_NotAcceptedGround {
        switch value {
        case "not_a_licensing_matter": .notALicensingMatter
        case "outside_powers": .outsidePowers
        case "correction_not_made": .correctionNotMade
        default: .other
        }
    }

    func submit(_ act: WindowAct, _ request: Request, _ context: WebContext) async throws -> Response {
        var request = request
        let body = try await request.collectBody(upTo: WindowAct.maximumFormBytes)
        let fields = FormBody.parse(String(buffer: body))
        guard staff.accounts.csrf.isValid(fields[CSRFTokens.field], for: staff.binding(request)) else { return staff.accounts.csrfRefused(context) }
        let (id, person): (SessionID, StaffStore.Staff)
        switch try await clerk(request, context) {
        case .failure(let box): return box.response
        case .success(let found): (id, person) = found
        }
        let applicationID = context.parameters.get("id") ?? ""
        guard UUID(uuidString: applicationID) != nil else { return failure(RPCError(code: .notFound, message: "not an id"), context) }
        guard SessionID(cookie: fields[WindowAct.keyField] ?? "") != nil else {
            return PageHandlers.html(.badRequest, ErrorPage.render(layout: staff.layout(context), title: "表单已失效", message: "表单已失效，请重新打开申请页面。"))
        }
        let token = staff.accounts.csrf.token(for: id)
        let metadata = try staff.staffMetadata(person)
        let revision = Int64(fields[WindowAct.revisionField] ?? "") ?? 0
        let view: WindowPage.View
        do { view = try await load(applicationID, metadata: metadata) } catch let error as RPCError { return failure(error, context) }

        func again(_ status: HTTPResponse.Status, _ errors: FormErrors?, _ formError: String?) async throws -> Response {
            let fresh = (try? await load(applicationID, metadata: metadata)) ?? view
            return AccountHandlers.page(status, WindowPage.application(
                layout: staff.layout(context), csrf: token, staff: person, view: fresh, done: nil, failed: (act, errors, formError)))
        }

        let client = self.client, options = self.options
        let call: @Sendable () async throws -> Void
        switch act {
        case .accept:
            switch AcceptForm.validate(fields) {
            case .failure(let errors): return try await again(.badRequest, errors, nil)
            case .success(let form):
                call = { _ = try await client.accept(.with { $0.applicationID = applicationID; $0.expectedRevision = revision; $0.note = form.note }, metadata: metadata, options: options) }
            }
        case .correction:
            switch CorrectionForm.validate(fields, requirements: view.requirements.map(\.requirement.code)) {
            case .failure(let errors): return try await again(.badRequest, errors, nil)
            case .success(let form):
                let problems = form.problems.map { problem in
                    Intake_MaterialProblem.with {
                        $0.requirementCode = problem.requirementCode
                        $0.materialName = view.requirements.first { $0.requirement.code == problem.requirementCode }?.requirement.name ?? ""
                        $0.kind = Self.problemKind(problem.kind)
                        $0.howToFix = problem.howToFix
                    }
                }
                call = { _ = try await client.issueCorrectionNotice(.with { $0.applicationID = applicationID; $0.expectedRevision = revision; $0.problems = problems; $0.onTheSpot = true }, metadata: metadata, options: options) }
            }
        case .reject:
            switch RejectForm.validate(fields) {
            case .failure(let errors): return try await again(.badRequest, errors, nil)
            case .success(let form):
                call = {
                    _ = try await client.rejectApplication(.with {
                        $0.applicationID = applicationID
                        $0.expectedRevision = revision
                        $0.ground = Self.ground(form.ground)
                        $0.reason = form.reason
                        $0.legalBasis = form.legalBasis
                        $0.competentAgency = form.competentAgency
                    }, metadata: metadata, options: options)
                }
            }
        case .deficiency:
            switch DeficiencyForm.validate(fields, requirements: view.requirements.map(\.requirement.code)) {
            case .failure(let errors): return try await again(.badRequest, errors, nil)
            case .success(let form):
                let missing = form.missing.map { code in
                    Intake_MaterialProblem.with {
                        $0.requirementCode = code
                        $0.materialName = view.requirements.first { $0.requirement.code == code }?.requirement.name ?? ""
                        $0.kind = .missing
                        $0.howToFix = "容缺受理后补齐"
                    }
                }
                call = {
                    _ = try await client.acceptWithDeficiency(.with {
                        $0.applicationID = applicationID
                        $0.expectedRevision = revision
                        $0.missing = missing
                        $0.supplyWithinDays = Int32(form.days)
                        $0.undertaking = form.undertaking
                    }, metadata: metadata, options: options)
                }
            }
        case .commitment:
            switch CommitmentForm.validate(fields, requirements: view.requirements.map(\.requirement.code)) {
            case .failure(let errors): return try await again(.badRequest, errors, nil)
            case .success(let form):
                call = {
                    _ = try await client.acceptByCommitment(.with {
                        $0.applicationID = applicationID
                        $0.expectedRevision = revision
                        $0.commitmentText = form.text
                        $0.replacedRequirementCodes = form.replaced
                    }, metadata: metadata, options: options)
                }
            }
        case .forward:
            switch ForwardForm.validate(fields) {
            case .failure(let errors): return try await again(.badRequest, errors, nil)
            case .success(let form):
                call = { _ = try await client.forwardToCity(.with { $0.applicationID = applicationID; $0.firstReviewOpinion = form.opinion }, metadata: metadata, options: options) }
            }
        case .deliver:
            switch CollectionForm.validate(fields, today: CivilDate.today(now: now())) {
            case .failure(let errors): return try await again(.badRequest, errors, nil)
            case .success(let form):
                call = {
                    _ = try await client.recordDelivery(.with {
                        $0.applicationID = applicationID
                        $0.delivery = .with {
                            $0.method = .window
                            $0.recipient = .with { $0.kind = .naturalPerson; $0.name = form.name; $0.idType = .residentID; $0.idNumber = form.idNumber }
                        }
                    }, metadata: metadata, options: options)
                }
            }
        }

        let done = AccountHandlers.redirect("/staff/window/\(applicationID)?done=\(act.rawValue)")
        do {
            try await call()
            context.logger.info("window act", metadata: ["request_id": "\(context.id)", "staff": "\(person.staffNumber)", "act": "\(act.rawValue)", "application": "\(view.application.applicationNumber)"])
            return done
        } catch let error as RPCError {
            context.logger.notice("window act refused", metadata: ["request_id": "\(context.id)", "act": "\(act.rawValue)", "code": "\(error.code)", "message": "\(error.message)"])
            switch error.code {
            case .invalidArgument:
                let text = error.fieldViolations.map { "\($0.field)：\($0.description_p)" }
                return try await again(.badRequest, FormErrors(errors: [:], values: fields), "受理服务未接受：" + (text.isEmpty ? error.message : text.joined(separator: "；")))
            case .failedPrecondition, .aborted, .alreadyExists:
                if let fresh = try? await load(applicationID, metadata: metadata), Self.alreadyDone(act, fresh.application, by: person.staffNumber) {
                    context.logger.info("window act repeated", metadata: ["request_id": "\(context.id)", "act": "\(act.rawValue)"])
                    return done
                }
                return try await again(.conflict, FormErrors(errors: [:], values: fields), "申请状态已变化，未办理：\(error.message)。请核对后重新提交。")
            case .permissionDenied:
                return try await again(.forbidden, FormErrors(errors: [:], values: fields), "受理服务拒绝了这一操作：\(error.message)")
            case .notFound:
                return failure(error, context)
            default:
                return try await again(.serviceUnavailable, FormErrors(errors: [:], values: fields), ErrorPage.unavailable)
            }
        }
    }
}
