import Foundation
import GRPCCore
import Hummingbird
import Logging
import OneSealProto
import OneSealServiceKit
import OneSealWire
import Synchronization
import WebRules

/// The back office's case page (#19 screen 2, W35–W37): `/staff/cases/:id` shows the case as
/// approval has it (GetCase), the application behind it (intake's GetApplication), each material
/// streamed from intake's store, the chain and the audit entries; its forms call approval's acts
/// with the signed-in person's own token. The front decides nothing: approval's rules say who may
/// sign, decide or extend; the page only leaves out the forms a post never uses, and the handler
/// refuses (403) a post that may never call an act, before any call.
struct StaffCaseHandlers: Sendable {
    let staff: StaffHandlers
    let intake: GRPCClient<OneSealClientTransport>
    let approval: GRPCClient<OneSealClientTransport>

    func register(on router: Router<WebContext>) {
        router.get("/staff/cases/:id") { request, context in try await show(request, context) }
        router.get("/staff/cases/:id/materials/:file") { request, context in try await material(request, context) }
        for act in CaseAct.allCases {
            router.post(.init(stringLiteral: "/staff/cases/:id/\(act.path)")) { request, context in try await submit(act, request, context) }
        }
    }

    var options: CallOptions {
        var options = CallOptions.defaults
        options.timeout = .seconds(15)
        return options
    }

    var client: Approval_ApprovalService.Client<OneSealClientTransport> { .init(wrapping: approval) }

    /// Which posts may ever call an act (approval's method table, narrowed to what the post does):
    /// the officer reviews, the leaders sign off, the director alone approves the extension; the
    /// decision, suspension and resumption belong to the chain, and approval decides which of them
    /// holds this case. Anyone else gets 403 from the page before a call is made.
    static func allowed(_ act: CaseAct, _ role: StaffRole) -> Bool {
        switch act {
        case .review: role == .officer
        case .signOff: [.sectionChief, .deputyDirector, .director].contains(role)
        case .extension: role == .director
        case .decision, .suspend, .resume: role.worksCases
        case .returnStep, .reassign, .jointReview: [.sectionChief, .deputyDirector, .director].contains(role)
        }
    }

    func refused(_ context: WebContext, _ token: String, _ person: StaffStore.Staff, path: String) -> Response {
        context.logger.notice("staff page refused", metadata: ["request_id": "\(context.id)", "staff": "\(person.staffNumber)", "role": "\(person.role.rawValue)", "path": "\(path)"])
        return AccountHandlers.page(.forbidden, StaffPages.refused(layout: staff.layout(context), csrf: token, staff: person))
    }

    func missing(_ context: WebContext) -> Response {
        PageHandlers.html(.notFound, ErrorPage.render(layout: staff.layout(context), title: "办件不存在", message: "没有找到这件办件。请从“我的待办”重新打开。"))
    }

    // MARK: Reading

    /// The case, its application (nil when intake does not answer for it, e.g. a forwarded case
    /// whose application is at the county) and its audit entries, all with the person's token.
    func load(_ caseID: String, metadata: Metadata) async throws -> CasePage.View {
        let found = try await client.getCase(.with { $0.caseID = caseID }, metadata: metadata, options: options).case
        let audit = try await client.listAuditEntries(.with { $0.caseID = caseID; $0.page = .with { $0.pageSize = 200 } }, metadata: metadata, options: options).entries
        var application: Intake_Application?
        do {
            application = try await Intake_IntakeService.Client(wrapping: intake).getApplication(
                .with { $0.applicationID = found.applicationID }, metadata: metadata, options: options).application
        } catch let error as RPCError where [.notFound, .permissionDenied, .invalidArgument].contains(error.code) {
            application = nil
        }
        return CasePage.View(theCase: found, application: application, audit: audit)
    }

    /// The case alone (GetCase), for a form that needs its chain or tier: not the page's
    /// application and audit entries.
    func current(_ caseID: String, metadata: Metadata) async throws -> Approval_Case {
        try await client.getCase(.with { $0.caseID = caseID }, metadata: metadata, options: options).case
    }

    func show(_ request: Request, _ context: WebContext) async throws -> Response {
        let checked = try await staff.gate(request, at: .signedIn)
        guard case .pass(let id, let session) = checked else { return checked.response }
        let person = session.staff
        let token = staff.accounts.csrf.token(for: id)
        guard person.role.worksCases else { return refused(context, token, person, path: "/staff/cases/:id") }
        let caseID = context.parameters.get("id") ?? ""
        guard UUID(uuidString: caseID) != nil else { return missing(context) }
        let done = FormBody.parse(request.uri.query ?? "")["done"].flatMap(CaseAct.init(rawValue:))
        do {
            let view = try await load(caseID, metadata: try staff.staffMetadata(person))
            return AccountHandlers.page(.ok, CasePage.render(layout: staff.layout(context), csrf: token, staff: person, view: view, done: done))
        } catch let error as RPCError {
            return failure(error, context, token, person)
        }
    }

    func failure(_ error: RPCError, _ context: WebContext, _ token: String, _ person: StaffStore.Staff) -> Response {
        context.logger.notice("case page failed", metadata: ["request_id": "\(context.id)", "code": "\(error.code)", "message": "\(error.message)"])
        switch error.code {
        case .notFound, .invalidArgument: return missing(context)
        case .permissionDenied:
            return PageHandlers.html(.forbidden, ErrorPage.render(layout: staff.layout(context), title: "无权查看", message: "审批服务拒绝了你的岗位查看这件办件（例如不属于本局的办件）。"))
        default:
            return PageHandlers.html(.serviceUnavailable, ErrorPage.render(layout: staff.layout(context), title: "暂时无法办理", message: ErrorPage.unavailable))
        }
    }

    // MARK: Materials

    /// One material of the case, streamed from intake's store as it arrives (one part of at most
    /// 1 MiB in flight), PDF and images shown inline by the browser's own viewer. Only a file the
    /// case lists: the front is not a general door to the store, even for a token intake would let
    /// read it.
    func material(_ request: Request, _ context: WebContext) async throws -> Response {
        let checked = try await staff.gate(request, at: .signedIn)
        guard case .pass(let id, let session) = checked else { return checked.response }
        let person = session.staff
        guard person.role.worksCases else { return refused(context, staff.accounts.csrf.token(for: id), person, path: "/staff/cases/:id/materials") }
        let caseID = context.parameters.get("id") ?? ""
        let fileID = (context.parameters.get("file") ?? "").lowercased()
        guard UUID(uuidString: caseID) != nil, fileID.utf8.count == 64, fileID.allSatisfy(\.isHexDigit) else { return missing(context) }
        do {
            let metadata = try staff.staffMetadata(person)
            let found = try await client.getCase(.with { $0.caseID = caseID }, metadata: metadata, options: options).case
            guard found.materials.contains(where: { $0.fileID.lowercased() == fileID }) else { return missing(context) }
            let (stored, chunks) = try await Self.download(fileID, intake: intake, metadata: metadata, options: options)
            let inline = ["application/pdf", "image/jpeg", "image/png"].contains(stored.contentType)
            let type = inline ? stored.contentType : "application/octet-stream"
            let suffix = ["application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"][stored.contentType] ?? ".bin"
            context.logger.info("material viewed", metadata: ["request_id": "\(context.id)", "staff": "\(person.staffNumber)", "case": "\(found.caseNumber)", "file": "\(fileID.prefix(12))"])
            return Response(status: .ok, headers: [
                .contentType: type, .cacheControl: "no-store", .init("X-Content-Type-Options")!: "nosniff",
                .contentDisposition: "\(inline ? "inline" : "attachment"); filename=\"\(found.caseNumber)-\(fileID.prefix(8))\(suffix)\"",
                // Not sandboxed: Chromium's PDF viewer refuses to run in a sandboxed document.
                .contentSecurityPolicy: "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'",
                .init("Referrer-Policy")!: "no-referrer",
            ], body: ResponseBody(contentLength: Int(clamping: stored.sizeBytes)) { writer in
                for try await chunk in chunks { try await writer.write(ByteBuffer(bytes: chunk)) }
                try await writer.finish(nil)
            })
        } catch let error as RPCError {
            return failure(error, context, staff.accounts.csrf.token(for: id), person)
        }
    }

    /// Set once, by whichever comes first: the download's header or its failure.
    final class Once: Sendable {
        private let done = Mutex(false)
        func first() -> Bool { done.withLock { if $0 { return false }; $0 = true; return true } }
    }

    /// Starts intake's DownloadMaterial and returns the file's header (its type and size, for the
    /// response head) and its content as it arrives. The call runs in a task of its own, ended when
    /// the response body is done with the stream or drops it.
    static func download(
        _ fileID: String, intake: GRPCClient<OneSealClientTransport>, metadata: Metadata, options: CallOptions
    ) async throws -> (Intake_StoredMaterial, AsyncThrowingStream<Data, any Error>) {
        let (chunks, sink) = AsyncThrowingStream<Data, any Error>.makeStream(bufferingPolicy: .unbounded)
        let client = Intake_IntakeService.Client(wrapping: intake)
        let header: Intake_StoredMaterial = try await withCheckedThrowingContinuation { (first: CheckedContinuation<Intake_StoredMaterial, any Error>) in
            let once = Once()
            let task = Task {
                do {
                    try await client.downloadMaterial(.with { $0.fileID = fileID }, metadata: metadata, options: options) { response in
                        var received: Int64 = 0
                        var size: Int64?
                        for try await message in response.messages {
                            switch message.part {
                            case .material(let stored)?:
                                size = stored.sizeBytes
                                if once.first() { first.resume(returning: stored) }
                            case .chunk(let bytes)?:
                                received += Int64(bytes.count)
                                guard let size, received <= size else {
                                    throw RPCError(code: .internalError, message: "the download sent more bytes than the file holds, or bytes before saying which file")
                                }
                                sink.yield(bytes)
                            case nil:
                                break
                            }
                        }
                        guard let size, received == size else { throw RPCError(code: .internalError, message: "the download ended before the whole file arrived") }
                    }
                    if once.first() { first.resume(throwing: RPCError(code: .internalError, message: "the download ended without its header")) }
                    sink.finish()
                } catch {
                    if once.first() { first.resume(throwing: error) }
                    sink.finish(throwing: error)
                }
            }
            sink.onTermination = { _ in task.cancel() }
        }
        return (header, chunks)
    }

    // MARK: Acts

    func submit(_ act: CaseAct, _ request: Request, _ context: WebContext) async throws -> Response {
        var request = request
        let body = try await request.collectBody(upTo: CaseActLimits.maximumFormBytes)
        let raw = String(buffer: body)
        let fields = FormBody.parse(raw)
        guard staff.accounts.csrf.isValid(fields[CSRFTokens.field], for: staff.binding(request)) else { return staff.accounts.csrfRefused(context) }
        let checked = try await staff.gate(request, at: .signedIn)
        guard case .pass(let id, let session) = checked else { return checked.response }
        let person = session.staff
        let token = staff.accounts.csrf.token(for: id)
        guard Self.allowed(act, person.role) else { return refused(context, token, person, path: "/staff/cases/:id/\(act.path)") }
        let caseID = context.parameters.get("id") ?? ""
        guard UUID(uuidString: caseID) != nil else { return missing(context) }
        // The form's one-time key (the applicant forms' mechanism, W18/W35): a form without it was
        // not drawn by this page.
        let key = fields[CaseAct.keyField] ?? ""
        guard SessionID(cookie: key) != nil else {
            return PageHandlers.html(.badRequest, ErrorPage.render(layout: staff.layout(context), title: "表单已失效", message: "表单已失效，请重新打开办件页面。"))
        }
        let metadata: Metadata
        do {
            var minted = try staff.staffMetadata(person)
            minted.addString("web:\(staff.node):\(key)", forKey: "idempotency-key")
            metadata = minted
        }
        let revision = Int64(fields[CaseAct.revisionField] ?? "") ?? 0
        let stepID = fields[CaseAct.stepField] ?? ""
        let layout = staff.layout(context)

        /// The page again with the problems by their fields, nothing changed.
        func again(_ status: HTTPResponse.Status, errors: FormErrors?, formError: String?) async throws -> Response {
            do {
                let view = try await load(caseID, metadata: try staff.staffMetadata(person))
                return AccountHandlers.page(status, CasePage.render(
                    layout: layout, csrf: token, staff: person, view: view, done: nil, failed: (act, errors, formError), key: key))
            } catch let error as RPCError {
                return failure(error, context, token, person)
            }
        }

        // The edge's checks: every problem at once, by its field.
        let call: @Sendable () async throws -> Void
        var place: (String) -> String? = act.field(forService:)
        switch act {
        case .review, .signOff:
            switch SigningForm.validate(fields) {
            case .failure(let errors): return try await again(.badRequest, errors: errors, formError: nil)
            case .success(let form):
                let conclusion: Approval_StepConclusion = form.conclusion == .grant ? .proposeGrant : .proposeDeny
                let client = self.client, options = self.options
                if act == .review {
                    call = { _ = try await client.reviewStep(.with { $0.caseID = caseID; $0.stepID = stepID; $0.conclusion = conclusion; $0.opinion = form.opinion; $0.expectedRevision = revision }, metadata: metadata, options: options) }
                } else {
                    call = { _ = try await client.signOff(.with { $0.caseID = caseID; $0.stepID = stepID; $0.conclusion = conclusion; $0.opinion = form.opinion; $0.expectedRevision = revision }, metadata: metadata, options: options) }
                }
            }
        case .decision:
            // The form of a sole case with its review open carries the review opinion (独任审批 on the spot).
            let validated = fields[CaseAct.reviewOpinionField] == nil
                ? DecisionForm.validate(fields).map { (form: $0, opinion: "") } : DecisionForm.validateOnTheSpot(fields)
            switch validated {
            case .failure(let errors): return try await again(.badRequest, errors: errors, formError: nil)
            case .success(let (form, opinion)):
                let client = self.client, options = self.options
                let decide = Approval_DecideRequest.with {
                    $0.caseID = caseID
                    $0.expectedRevision = revision
                    $0.opinion = opinion
                    switch form {
                    case .grant(let scope, let place, let conditions, let until):
                        $0.grant = .with {
                            $0.scope = scope
                            $0.place = place
                            $0.conditions = conditions
                            if let until { $0.validUntil = .with { $0.year = Int32(until.year); $0.month = Int32(until.month); $0.day = Int32(until.day) } }
                        }
                    case .deny(let reasons, let basis, let rights):
                        $0.denial = .with { $0.reasons = reasons; $0.legalBasis = basis; $0.appealRights = rights }
                    }
                }
                call = { _ = try await client.decide(decide, metadata: metadata, options: options) }
            }
        case .suspend:
            switch SuspendForm.validate(fields) {
            case .failure(let errors): return try await again(.badRequest, errors: errors, formError: nil)
            case .success(let form):
                let client = self.client, options = self.options
                let procedure = Self.procedure(form.procedure)
                call = { _ = try await client.suspendClock(.with { $0.caseID = caseID; $0.reason = procedure; $0.expectedDays = Int32(form.expectedDays); $0.noticeText = form.noticeText }, metadata: metadata, options: options) }
            }
        case .resume:
            switch ResumeForm.validate(fields) {
            case .failure(let errors): return try await again(.badRequest, errors: errors, formError: nil)
            case .success(let form):
                let client = self.client, options = self.options
                call = { _ = try await client.resumeClock(.with { $0.caseID = caseID; $0.result = form.result }, metadata: metadata, options: options) }
            }
        case .extension:
            switch ExtensionForm.validate(fields) {
            case .failure(let errors): return try await again(.badRequest, errors: errors, formError: nil)
            case .success(let form):
                let client = self.client, options = self.options
                let subject = person.staffNumber
                call = { _ = try await client.requestExtension(.with { $0.caseID = caseID; $0.extensionDays = Int32(form.days); $0.reason = form.reason; $0.approvedBySubject = subject }, metadata: metadata, options: options) }
            }
        case .returnStep:
            let found = try? await current(caseID, metadata: try staff.staffMetadata(person))
            switch ReturnForm.validate(fields, earlier: found.map { CasePage.returnTargets($0).map(\.index) } ?? []) {
            case .failure(let errors): return try await again(.badRequest, errors: errors, formError: nil)
            case .success(let form):
                let client = self.client, options = self.options
                call = { _ = try await client.returnToStep(.with { $0.caseID = caseID; $0.targetStepIndex = Int32(form.targetStep); $0.reason = form.reason; $0.expectedRevision = revision }, metadata: metadata, options: options) }
            }
        case .jointReview:
            let found = try? await current(caseID, metadata: try staff.staffMetadata(person))
            let minimum = found?.item.tier == .collective ? 3 : 2
            switch JointReviewForm.validate(fields, minimumParticipants: minimum, now: Date()) {
            case .failure(let errors): return try await again(.badRequest, errors: errors, formError: nil)
            case .success(let form):
                let client = self.client, options = self.options
                let review = Approval_JointReview.with {
                    $0.kind = CasePage.jointReviewKind(found?.item.tier ?? .unspecified)
                    $0.location = form.location
                    if let held = form.heldAt { $0.heldAt = .init(date: held) }
                    $0.conclusion = form.conclusion
                    $0.outcome = form.outcome == .grant ? .proposeGrant : .proposeDeny
                    $0.opinions = form.participants.map { participant in
                        Approval_ParticipantOpinion.with {
                            $0.participant = .with { $0.subject = participant.subject; $0.name = participant.name }
                            $0.title = participant.title
                            $0.opinion = participant.opinion
                            $0.vote = switch participant.vote {
                            case .agree: .agree
                            case .disagree: .disagree
                            case .abstain: .abstain
                            }
                        }
                    }
                }
                let rows = form.participants.map(\.row)
                place = { JointReviewForm.field(forService: $0, rows: rows) }
                call = { _ = try await client.recordJointReview(.with { $0.caseID = caseID; $0.review = review }, metadata: metadata, options: options) }
            }
        case .reassign:
            switch ReassignForm.validate(fields) {
            case .failure(let errors): return try await again(.badRequest, errors: errors, formError: nil)
            case .success(let form):
                let client = self.client, options = self.options
                call = { _ = try await client.reassign(.with { $0.caseID = caseID; $0.stepID = stepID; $0.newAssigneeSubject = form.assignee; $0.reason = form.reason }, metadata: metadata, options: options) }
            }
        }

        let done = AccountHandlers.redirect("/staff/cases/\(caseID)?done=\(act.rawValue)")
        do {
            try await call()
            context.logger.info("case act", metadata: ["request_id": "\(context.id)", "staff": "\(person.staffNumber)", "role": "\(person.role.rawValue)", "act": "\(act.rawValue)", "case": "\(caseID)"])
            return done
        } catch let error as RPCError {
            context.logger.notice("case act refused", metadata: ["request_id": "\(context.id)", "act": "\(act.rawValue)", "code": "\(error.code)", "message": "\(error.message)"])
            switch error.code {
            case .invalidArgument:
                var errors: [String: String] = [:]
                var unplaced: [String] = []
                for violation in error.fieldViolations {
                    if let field = place(violation.field) { errors[field] = CasePage.violationText(violation) } else { unplaced.append(violation.description_p) }
                }
                if errors.isEmpty && unplaced.isEmpty { unplaced.append(error.message) }
                let kept = FormErrors(errors: errors, values: fields.filter { ![CSRFTokens.field, CaseAct.keyField].contains($0.key) })
                return try await again(.badRequest, errors: kept, formError: unplaced.isEmpty ? nil : "审批服务未接受：" + unplaced.joined(separator: "；"))
            case .failedPrecondition, .aborted, .alreadyExists:
                // A second submission of the same form (double click, back and resubmit): the act
                // is in the case already, by this person, so it is answered like the first.
                if let view = try? await load(caseID, metadata: try staff.staffMetadata(person)), CasePage.alreadyDone(act, view.theCase, by: person.staffNumber, step: stepID) {
                    context.logger.info("case act repeated", metadata: ["request_id": "\(context.id)", "act": "\(act.rawValue)", "case": "\(caseID)"])
                    return done
                }
                return try await again(.conflict, errors: FormErrors(errors: [:], values: fields), formError: "办件状态已变化，未办理：\(error.message)。请核对后重新提交。")
            case .permissionDenied:
                return try await again(.forbidden, errors: FormErrors(errors: [:], values: fields), formError: "审批服务拒绝了你办理这一步：\(error.message)")
            case .notFound:
                return missing(context)
            default:
                return try await again(.serviceUnavailable, errors: FormErrors(errors: [:], values: fields), formError: ErrorPage.unavailable)
            }
        }
    }

    static func procedure(_ value: String) -> Common_SpecialProcedure {
        switch value {
        case "site_inspection": .siteInspection
        case "testing": .testing
        case "inspection": .inspection
        case "expert_review": .expertReview
        case "appraisal": .appraisal
        case "quarantine": .quarantine
        case "tender": .tender
        case "auction": .auction
        default: .unspecified
        }
    }
}
