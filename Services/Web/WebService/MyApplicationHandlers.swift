import Foundation
import GRPCCore
import Hummingbird
import Logging
import OneSealProto
import OneSealServiceKit
import OneSealWire
import WebRules

/// One application of the signed-in person (#18 items 5 and 6): its status, items and materials,
/// the one-time correction notice with an upload for exactly what it lists (W18), the documents
/// the hall issued (downloads), and each e-licence as PDF. Every read is the services' with the
/// person's applicant token: another person's application or licence answers NOT_FOUND there, and
/// the page says only that there is no such application of theirs.
struct MyApplicationHandlers: Sendable {
    let accounts: AccountHandlers
    let intake: GRPCClient<OneSealClientTransport>
    let certificate: GRPCClient<OneSealClientTransport>
    /// The rating page's service; nil: no rating offered.
    let evaluation: GRPCClient<OneSealClientTransport>?
    let node: String

    func register(on router: Router<WebContext>) {
        router.get("/account/applications/:id") { request, context in try await show(request, context) }
        router.post("/account/applications/:id/correction") { request, context in try await correct(request, context) }
        router.get("/account/applications/:id/documents/:document") { request, context in try await document(request, context) }
        router.get("/account/licences/:identifier") { request, context in try await licence(request, context) }
        router.post("/account/applications/:id/rating") { request, context in try await rate(request, context) }
        router.post("/account/applications/:id/delivery") { request, context in try await chooseDelivery(request, context) }
        router.get("/account/ratings/:id") { request, context in try await showRating(request, context) }
        router.post("/account/ratings/:id/verdict") { request, context in try await rateFix(request, context) }
    }

    var options: CallOptions {
        var options = CallOptions.defaults
        options.timeout = .seconds(30)
        return options
    }

    func missing(_ context: WebContext) -> Response {
        PageHandlers.html(.notFound, ErrorPage.render(
            layout: accounts.layout(context), title: "办件不存在", message: "没有找到你的这件办件。请从“我的办件”重新打开。"))
    }

    /// The application, or nil when the service says there is none for this person (NOT_FOUND,
    /// PERMISSION_DENIED, a malformed id: all the same to the page).
    func application(_ id: String, account: AccountStore.Account) async throws -> Intake_Application? {
        guard UUID(uuidString: id) != nil else { return nil }
        do {
            return try await Intake_IntakeService.Client(wrapping: intake).getApplication(
                .with { $0.applicationID = id }, metadata: try accounts.applicantMetadata(account), options: options).application
        } catch let error as RPCError where [.notFound, .permissionDenied, .invalidArgument].contains(error.code) {
            return nil
        }
    }

    func show(_ request: Request, _ context: WebContext) async throws -> Response {
        guard let account = try await accounts.signedIn(request) else { return AccountHandlers.redirect("/account/signin") }
        guard let application = try await application(context.parameters.get("id") ?? "", account: account) else { return missing(context) }
        let token = accounts.csrf.token(for: accounts.binding(request)!)
        let query = FormBody.parse(request.uri.query ?? "")
        let notice = query["corrected"] != nil ? "补正材料已提交，窗口将重新审查。" : query["delivery"] != nil ? "送达方式已保存。" : nil
        return PageHandlers.html(.ok, ApplicationPage.render(
            layout: accounts.layout(context), application: application, csrf: token, idempotencyKey: SessionID.generate().text, errors: [:], notice: notice,
            rating: evaluation == nil ? .unavailable : .form(nil)))
    }

    /// 好差评 online (一事一评): the evaluation service's SubmitRating with the applicant token, by
    /// application number; a bad rating opens a rectification, shown at once with its due date.
    func rate(_ request: Request, _ context: WebContext) async throws -> Response {
        let layout = accounts.layout(context)
        guard let account = try await accounts.signedIn(request) else { return AccountHandlers.redirect("/account/signin") }
        var request = request
        let body = String(buffer: try await request.collectBody(upTo: WebLimits.maximumFormBytes))
        let fields = FormBody.parse(body)
        guard accounts.csrf.isValid(fields[CSRFTokens.field], for: accounts.binding(request)) else { return accounts.csrfRefused(context) }
        guard let evaluation, let application = try await application(context.parameters.get("id") ?? "", account: account) else { return missing(context) }
        let token = accounts.csrf.token(for: accounts.binding(request)!)
        let key = fields[ApplyHandlers.keyField] ?? ""
        guard SessionID(cookie: key) != nil else {
            return PageHandlers.html(.badRequest, ErrorPage.render(layout: layout, title: "表单已失效", message: "表单已失效，请重新打开办件页面。"))
        }
        func page(_ status: HTTPResponse.Status, _ rating: ApplicationPage.RatingState, notice: String? = nil) -> Response {
            PageHandlers.html(status, ApplicationPage.render(
                layout: layout, application: application, csrf: token, idempotencyKey: key, errors: [:], notice: notice, noticeIsBad: status != .ok, rating: rating))
        }
        let form: RatingForm
        switch RatingForm.validate(fields, reasons: FormBody.values(body, name: RatingForm.reasonField)) {
        case .failure(let errors): return page(.badRequest, .form(errors))
        case .success(let valid): form = valid
        }
        do {
            let response = try await Evaluation_EvaluationService.Client(wrapping: evaluation).submitRating(.with {
                $0.applicationNumber = application.applicationNumber
                $0.channel = .online
                $0.level = Evaluation_RatingLevel(rawValue: form.level) ?? .unspecified
                $0.comment = form.comment
                $0.tags = form.reasons
                // A named rating: a bad one is called back (回访) on the account's phone.
                $0.raterName = account.person.name
                $0.raterPhone = account.person.phone
                $0.idempotencyKey = "web:\(node):\(key)"
            }, metadata: try accounts.applicantMetadata(account), options: options)
            context.logger.info("rated online", metadata: ["request_id": "\(context.id)", "level": "\(form.level)", "bad": "\(form.isBad)"])
            return page(.ok, .submitted(response))
        } catch let error as RPCError {
            context.logger.notice("online rating refused", metadata: ["request_id": "\(context.id)", "code": "\(error.code)", "message": "\(error.message)"])
            switch error.code {
            case .invalidArgument, .permissionDenied, .failedPrecondition, .alreadyExists:
                return page(.badRequest, .form(nil), notice: "评价未被接收：这件办件现在不能评价，或已评价过。")
            default:
                return page(.serviceUnavailable, .form(nil), notice: ErrorPage.unavailable)
            }
        }
    }

    /// 送达方式 (#18 item 6): intake's ChooseDelivery with the applicant token. Intake holds the
    /// rule (only the applicant, until delivered, the same choice again changes nothing) and seals
    /// the address; the page checks the form first and shows intake's refusals next to the fields.
    /// The address is never logged here either.
    func chooseDelivery(_ request: Request, _ context: WebContext) async throws -> Response {
        let layout = accounts.layout(context)
        guard let account = try await accounts.signedIn(request) else { return AccountHandlers.redirect("/account/signin") }
        var request = request
        let fields = FormBody.parse(String(buffer: try await request.collectBody(upTo: DeliveryForm.maximumBodyBytes)))
        guard accounts.csrf.isValid(fields[CSRFTokens.field], for: accounts.binding(request)) else { return accounts.csrfRefused(context) }
        guard let application = try await application(context.parameters.get("id") ?? "", account: account) else { return missing(context) }
        let token = accounts.csrf.token(for: accounts.binding(request)!)
        let key = fields[ApplyHandlers.keyField] ?? ""
        guard SessionID(cookie: key) != nil else {
            return PageHandlers.html(.badRequest, ErrorPage.render(layout: layout, title: "表单已失效", message: "表单已失效，请重新打开办件页面。"))
        }
        func page(_ status: HTTPResponse.Status, errors: FormErrors?, notice: String? = nil) -> Response {
            PageHandlers.html(status, ApplicationPage.render(
                layout: layout, application: application, csrf: token, idempotencyKey: key, errors: [:], notice: notice, noticeIsBad: true,
                rating: evaluation == nil ? .unavailable : .form(nil), deliveryErrors: errors))
        }
        let form: DeliveryForm
        switch DeliveryForm.validate(fields) {
        case .failure(let errors): return page(.badRequest, errors: errors)
        case .success(let valid): form = valid
        }
        var metadata = try accounts.applicantMetadata(account)
        metadata.addString("web:\(node):\(key)", forKey: "idempotency-key")
        do {
            let response = try await Intake_IntakeService.Client(wrapping: intake).chooseDelivery(.with {
                $0.applicationID = application.applicationID
                $0.method = form.method == .mail ? .mail : .window
                if form.method == .mail {
                    $0.address = .with {
                        $0.recipientName = form.recipientName
                        $0.phone = form.phone
                        $0.postalAddress = form.postalAddress
                        $0.postalCode = form.postalCode
                    }
                }
            }, metadata: metadata, options: options)
            context.logger.info("delivery chosen online", metadata: [
                "request_id": "\(context.id)", "application": "\(application.applicationID)", "method": "\(form.method.rawValue)", "changed": "\(response.changed)",
            ])
            return AccountHandlers.redirect("/account/applications/\(application.applicationID)?delivery=1")
        } catch let error as RPCError {
            context.logger.notice("delivery choice refused", metadata: ["request_id": "\(context.id)", "code": "\(error.code)"])
            switch error.code {
            case .invalidArgument:
                var values = fields.filter { [DeliveryForm.methodField, DeliveryForm.nameField, DeliveryForm.phoneField, DeliveryForm.addressField, DeliveryForm.codeField].contains($0.key) }
                values = values.mapValues { String($0.prefix(DeliveryForm.maximumAddressCharacters)) }
                return page(.badRequest, errors: FormErrors(errors: DeliveryForm.errors(forServiceFields: error.fieldViolations.map(\.field)), values: values))
            case .failedPrecondition:
                return page(.conflict, errors: nil, notice: "送达方式未能保存：结果已经送达，或这件办件没有需要送达的结果。")
            case .notFound, .permissionDenied:
                return missing(context)
            default:
                return page(.serviceUnavailable, errors: nil, notice: ErrorPage.unavailable)
            }
        }
    }

    /// What the last correction notice lists, by form field (`material_<requirement code>`).
    static func listed(_ application: Intake_Application) -> [String: Intake_MaterialProblem] {
        guard application.status == .correctionRequested, let notice = application.correctionNotices.last else { return [:] }
        var out: [String: Intake_MaterialProblem] = [:]
        for problem in notice.problems where !problem.requirementCode.isEmpty {
            out[ApplyHandlers.field(problem.requirementCode)] = problem
        }
        return out
    }

    func correct(_ request: Request, _ context: WebContext) async throws -> Response {
        let layout = accounts.layout(context)
        guard let account = try await accounts.signedIn(request) else { return AccountHandlers.redirect("/account/signin") }
        guard let boundary = request.headers[.contentType].flatMap(MultipartForm.boundary(contentType:)) else {
            return PageHandlers.html(.badRequest, ErrorPage.render(layout: layout, title: "提交方式不正确", message: "请从办件页面提交。"))
        }
        var request = request
        let body = try await request.collectBody(upTo: ApplyHandlers.maximumBodyBytes)
        guard let form = try? MultipartForm.parse(Array(buffer: body), boundary: boundary) else {
            return PageHandlers.html(.badRequest, ErrorPage.render(layout: layout, title: "提交内容不完整", message: "提交的内容不完整，请返回重新提交。"))
        }
        let fields = form.fields
        guard accounts.csrf.isValid(fields[CSRFTokens.field], for: accounts.binding(request)) else { return accounts.csrfRefused(context) }
        guard let application = try await application(context.parameters.get("id") ?? "", account: account) else { return missing(context) }
        let token = accounts.csrf.token(for: accounts.binding(request)!)
        let key = fields[ApplyHandlers.keyField] ?? ""
        guard SessionID(cookie: key) != nil else {
            return PageHandlers.html(.badRequest, ErrorPage.render(layout: layout, title: "表单已失效", message: "表单已失效，请重新打开办件页面。"))
        }
        let listed = Self.listed(application)
        guard !listed.isEmpty else {
            return PageHandlers.html(.conflict, ErrorPage.render(layout: layout, title: "无需补正", message: "这件办件现在不需要补正材料。"))
        }
        // Only what the notice lists (W18): a file for anything else changes nothing and is refused.
        let files = form.files
        if files.keys.contains(where: { listed[$0] == nil }) {
            return PageHandlers.html(.badRequest, ErrorPage.render(layout: layout, title: "提交内容不正确", message: "只能上传补正告知书列出的材料，未做任何处理。"))
        }
        var errors: [String: String] = [:]
        var accepted: [(problem: Intake_MaterialProblem, part: MultipartForm.Part, kind: MaterialFile.Kind)] = []
        for (field, problem) in listed.sorted(by: { $0.key < $1.key }) {
            guard let part = files[field] else {
                errors[field] = "请上传“\(problem.materialName)”"
                continue
            }
            switch MaterialFile.check(fileName: part.fileName ?? "", bytes: part.body, label: problem.materialName) {
            case .success(let kind): accepted.append((problem, part, kind))
            case .failure(let failure): errors[field] = failure.message
            }
        }
        guard errors.isEmpty else {
            return PageHandlers.html(.badRequest, ApplicationPage.render(layout: layout, application: application, csrf: token, idempotencyKey: key, errors: errors))
        }
        let metadata = try accounts.applicantMetadata(account)
        let client = Intake_IntakeService.Client(wrapping: intake)
        do {
            var materials: [Intake_ProvidedMaterial] = []
            for (problem, part, kind) in accepted {
                let stored = try await client.uploadMaterial(part.body, fileName: part.fileName ?? "", contentType: kind.rawValue, sha256: MaterialFile.sha256(part.body), metadata: metadata)
                let code = problem.implementationCode.isEmpty ? (application.items.first?.implementationCode ?? "") : problem.implementationCode
                let requirement = try await Self.requirement(problem.requirementCode, of: code, client: client)
                    ?? .with { $0.code = problem.requirementCode; $0.name = problem.materialName }
                materials.append(ApplyHandlers.provided(requirement, item: code, fileID: stored.material.fileID))
            }
            _ = try await client.submitCorrection(.with {
                $0.applicationID = application.applicationID
                $0.materials = materials
                $0.idempotencyKey = "web:\(node):\(key)"
            }, metadata: metadata, options: options)
            context.logger.info("correction submitted online", metadata: ["request_id": "\(context.id)", "application": "\(application.applicationID)"])
            return AccountHandlers.redirect("/account/applications/\(application.applicationID)?corrected=1")
        } catch let error as RPCError {
            context.logger.notice("online correction failed", metadata: ["request_id": "\(context.id)", "code": "\(error.code)", "message": "\(error.message)"])
            let status: HTTPResponse.Status = [.invalidArgument, .failedPrecondition].contains(error.code) ? .badRequest : .serviceUnavailable
            return PageHandlers.html(status, ApplicationPage.render(
                layout: layout, application: application, csrf: token, idempotencyKey: key, errors: [:],
                notice: status == .badRequest ? "补正未被接收：" + ApplyHandlers.plain(error) : ErrorPage.unavailable, noticeIsBad: true))
        }
    }

    /// The catalogue's requirement a notice names (its forms and copies), from the public guide.
    static func requirement(_ code: String, of item: String, client: Intake_IntakeService.Client<OneSealClientTransport>) async throws -> Intake_MaterialRequirement? {
        guard !item.isEmpty else { return nil }
        return try await client.getItem(.with { $0.implementationCode = item }).item.materials.first { $0.code == code }
    }

    /// The rating the person made, with its rectification as it stands (evaluation's GetRating with
    /// the applicant token: another person's rating answers NOT_FOUND), and — once rectified — the
    /// form for their verdict on the fix (RateRectification).
    func showRating(_ request: Request, _ context: WebContext, notice: String? = nil) async throws -> Response {
        guard let account = try await accounts.signedIn(request) else { return AccountHandlers.redirect("/account/signin") }
        let id = context.parameters.get("id") ?? ""
        guard let evaluation, UUID(uuidString: id) != nil else { return missing(context) }
        do {
            let answer = try await Evaluation_EvaluationService.Client(wrapping: evaluation).getRating(
                .with { $0.ratingID = id }, metadata: try accounts.applicantMetadata(account), options: options)
            let token = accounts.csrf.token(for: accounts.binding(request)!)
            return PageHandlers.html(.ok, ApplicationPage.ratingPage(layout: accounts.layout(context), answer: answer, csrf: token, notice: notice))
        } catch let error as RPCError where [.notFound, .permissionDenied, .invalidArgument].contains(error.code) {
            return PageHandlers.html(.notFound, ErrorPage.render(layout: accounts.layout(context), title: "评价不存在", message: "没有找到你的这条评价。"))
        }
    }

    func rateFix(_ request: Request, _ context: WebContext) async throws -> Response {
        guard let account = try await accounts.signedIn(request) else { return AccountHandlers.redirect("/account/signin") }
        var request = request
        let fields = FormBody.parse(String(buffer: try await request.collectBody(upTo: WebLimits.maximumFormBytes)))
        guard accounts.csrf.isValid(fields[CSRFTokens.field], for: accounts.binding(request)) else { return accounts.csrfRefused(context) }
        let id = context.parameters.get("id") ?? ""
        guard let evaluation, UUID(uuidString: id) != nil else { return missing(context) }
        guard case .success(let form) = RatingForm.validate(fields, reasons: []) else {
            return try await showRating(request, context, notice: "请选择对整改结果的满意程度")
        }
        let client = Evaluation_EvaluationService.Client(wrapping: evaluation)
        let metadata = try accounts.applicantMetadata(account)
        do {
            let answer = try await client.getRating(.with { $0.ratingID = id }, metadata: metadata, options: options)
            _ = try await client.rateRectification(.with {
                $0.rectificationID = answer.rectification.rectificationID
                $0.level = Evaluation_RatingLevel(rawValue: form.level) ?? .unspecified
                $0.comment = form.comment
            }, metadata: metadata, options: options)
            return AccountHandlers.redirect("/account/ratings/\(id)")
        } catch let error as RPCError {
            context.logger.notice("verdict on a rectification refused", metadata: ["request_id": "\(context.id)", "code": "\(error.code)", "message": "\(error.message)"])
            return try await showRating(request, context, notice: "未能提交：整改尚未完成，或已评价过。")
        }
    }

    /// A document the hall issued on this application (receipt, correction notice, decision).
    func document(_ request: Request, _ context: WebContext) async throws -> Response {
        guard let account = try await accounts.signedIn(request) else { return AccountHandlers.redirect("/account/signin") }
        guard let application = try await application(context.parameters.get("id") ?? "", account: account) else { return missing(context) }
        let wanted = context.parameters.get("document") ?? ""
        guard let document = ApplicationPage.documents(application).first(where: { $0.documentID == wanted }), !document.content.isEmpty else {
            return missing(context)
        }
        return Self.download(Array(document.content), type: document.contentType.isEmpty ? "application/pdf" : document.contentType, name: "\(document.number.isEmpty ? document.documentID : document.number)")
    }

    /// The holder's e-licence as PDF (certificate's RenderLicence with the applicant token, W19).
    func licence(_ request: Request, _ context: WebContext) async throws -> Response {
        guard let account = try await accounts.signedIn(request) else { return AccountHandlers.redirect("/account/signin") }
        let identifier = context.parameters.get("identifier") ?? ""
        guard !identifier.isEmpty, identifier.utf8.count <= 128 else { return missing(context) }
        do {
            let rendered = try await Certificate_CertificateService.Client(wrapping: certificate).renderLicence(
                .with { $0.licenceID = identifier; $0.format = .pdf }, metadata: try accounts.applicantMetadata(account), options: options)
            return Self.download(Array(rendered.document), type: rendered.contentType.isEmpty ? "application/pdf" : rendered.contentType, name: rendered.fileName.isEmpty ? "licence.pdf" : rendered.fileName)
        } catch let error as RPCError where [.notFound, .permissionDenied, .invalidArgument].contains(error.code) {
            return PageHandlers.html(.notFound, ErrorPage.render(layout: accounts.layout(context), title: "证照不存在", message: "没有找到你持有的这份证照。"))
        }
    }

    /// A file for the browser to save: never sniffed, never cached, never framed.
    static func download(_ bytes: [UInt8], type: String, name: String) -> Response {
        let ascii = name.unicodeScalars.filter { $0.isASCII && ($0.properties.isAlphabetic || "0123456789.-_".unicodeScalars.contains($0)) }
        let fallback = ascii.isEmpty ? "document" : String(String.UnicodeScalarView(ascii))
        let encoded = name.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? fallback
        return Response(status: .ok, headers: [
            .contentType: type, .cacheControl: "no-store", .init("X-Content-Type-Options")!: "nosniff",
            .contentDisposition: "attachment; filename=\"\(fallback)\"; filename*=UTF-8''\(encoded)",
            .contentSecurityPolicy: "default-src 'none'; sandbox",
        ], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
