import Foundation
import GRPCCore
import Hummingbird
import Logging
import OneSealProto
import OneSealServiceKit
import OneSealWire
import WebRules

/// The routes and what each asks of which service. Pages are rendered by `Pages/*`; this file maps
/// service answers and errors onto them: INVALID_ARGUMENT → the field's error inline, NOT_FOUND →
/// a plain sentence, UNAVAILABLE / a timeout → “请稍后再试”, anything else → the same, logged.
struct PageHandlers: Sendable {
    let configuration: WebConfiguration
    let intake: GRPCClient<OneSealClientTransport>
    let certificate: GRPCClient<OneSealClientTransport>
    let boundPort: BoundPort
    let logger: Logger
    let progressLimiter: SharedAttemptLimiter
    let verifyLimiter: SharedAttemptLimiter

    init(configuration: WebConfiguration, intake: GRPCClient<OneSealClientTransport>, certificate: GRPCClient<OneSealClientTransport>, boundPort: BoundPort, logger: Logger) {
        self.configuration = configuration
        self.intake = intake
        self.certificate = certificate
        self.boundPort = boundPort
        self.logger = logger
        self.progressLimiter = SharedAttemptLimiter(AttemptLimiter(limit: configuration.progressLookupsPerMinute, window: 60))
        self.verifyLimiter = SharedAttemptLimiter(AttemptLimiter(limit: configuration.verificationsPerMinute, window: 60))
    }

    func register(on router: Router<WebContext>) {
        router.get("/") { _, context in Self.html(.ok, HomePage.render(layout: layout(context), accounts: configuration.accounts != nil)) }
        router.get("/verify") { request, context in try await verify(request, context) }
        router.get("/verify/link") { request, context in verifyLink(request, context) }
        router.get("/items") { request, context in try await items(request, context) }
        router.get("/items/:code") { request, context in try await item(request, context) }
        router.get("/progress") { _, context in Self.html(.ok, ProgressPage.formPage(layout: layout(context), errors: nil)) }
        router.post("/progress") { request, context in try await progress(request, context) }
        router.get("/healthz") { _, _ in Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: "ok\n"))) }
        router.get(.init(stringLiteral: Assets.stylePath)) { _, _ in Self.asset(Assets.style, type: "text/css; charset=utf-8") }
        router.get(.init(stringLiteral: Assets.scriptPath)) { _, _ in Self.asset(Assets.script, type: "text/javascript; charset=utf-8") }
    }

    /// The client's address for the per-address limits: the TCP peer, or X-Forwarded-For's when the
    /// peer is a trusted proxy (`ClientAddress`, ONESEAL_WEB_TRUSTED_PROXIES).
    func client(_ request: Request, _ context: WebContext) -> String {
        ClientAddress.resolve(peer: context.remoteHost, forwardedFor: request.headers[values: .init("X-Forwarded-For")!], trustedProxies: configuration.trustedProxies)
    }

    func layout(_ context: WebContext) -> Layout { Layout(siteName: configuration.siteName, requestID: context.id) }

    var callOptions: CallOptions {
        var options = CallOptions.defaults
        options.timeout = .seconds(8)
        return options
    }

    // MARK: /verify

    func verify(_ request: Request, _ context: WebContext) async throws -> Response {
        let layout = layout(context)
        guard verifyLimiter.attempt(client(request, context)) else {
            return Self.html(.tooManyRequests, ErrorPage.render(layout: layout, title: "请稍后再试", message: ErrorPage.tooMany))
        }
        let link: VerifyLink
        do { link = try VerifyLink(query: request.uri.query ?? "") } catch {
            context.logger.info("verification link refused", metadata: ["request_id": "\(context.id)", "problem": "\(error)"])
            return Self.html(.badRequest, VerifyPage.render(layout: layout, outcome: .badLink(error)))
        }
        let call = Certificate_VerifyLicenceRequest.with { $0.qrPayload = link.qrText(verifyURL: configuration.verifyURL(boundPort: boundPort.port)) }
        do {
            let response = try await Certificate_CertificateService.Client(wrapping: certificate).verifyLicence(call, options: callOptions)
            context.logger.info("licence verified", metadata: [
                "request_id": "\(context.id)", "identifier": "\(link.payload.identifier)", "authenticity": "\(response.authenticity)", "status": "\(response.status)",
            ])
            return Self.html(.ok, VerifyPage.render(layout: layout, outcome: .answered(response, link: link)))
        } catch let error as RPCError {
            context.logger.notice("verification failed", metadata: ["request_id": "\(context.id)", "code": "\(error.code)", "message": "\(error.message)"])
            switch error.code {
            case .notFound:
                return Self.html(.notFound, VerifyPage.render(layout: layout, outcome: .unknown(identifier: link.payload.identifier.description)))
            case .invalidArgument:
                return Self.html(.badRequest, VerifyPage.render(layout: layout, outcome: .badLink(.malformed(.notAURL))))
            default:
                return Self.html(.serviceUnavailable, VerifyPage.render(layout: layout, outcome: .unavailable))
            }
        }
    }

    /// The home page's paste field: a whole QR link → its query on this node's /verify.
    func verifyLink(_ request: Request, _ context: WebContext) -> Response {
        let fields = FormBody.parse(request.uri.query ?? "")
        let pasted = (fields["qr"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let query = URLComponents(string: pasted)?.percentEncodedQuery ?? ""
        return Response(status: .seeOther, headers: [.location: "/verify" + (query.isEmpty ? "" : "?" + query)])
    }

    // MARK: /items (办事指南)

    /// The search form and its results (intake's public ListItems; an empty search lists the first page).
    func items(_ request: Request, _ context: WebContext) async throws -> Response {
        let layout = layout(context)
        let raw = FormBody.parse(request.uri.query ?? "")[CatalogueSearch.queryField] ?? ""
        let query = CatalogueSearch.query(raw)
        if let error = query.error {
            return Self.html(.badRequest, CataloguePage.list(layout: layout, query: query.text, error: error, items: nil))
        }
        let call = Intake_ListItemsRequest.with {
            $0.query = query.text
            $0.page = .with { $0.pageSize = Int32(CatalogueSearch.pageSize) }
        }
        do {
            let response = try await Intake_IntakeService.Client(wrapping: intake).listItems(call, options: callOptions)
            return Self.html(.ok, CataloguePage.list(layout: layout, query: query.text, error: nil, items: response.items))
        } catch let error as RPCError {
            context.logger.notice("catalogue search failed", metadata: ["request_id": "\(context.id)", "code": "\(error.code)", "message": "\(error.message)"])
            if error.code == .invalidArgument {
                return Self.html(.badRequest, CataloguePage.list(layout: layout, query: query.text, error: "请换个名称或编码再试", items: nil))
            }
            return Self.html(.serviceUnavailable, CataloguePage.list(layout: layout, query: query.text, error: nil, items: nil, notice: ErrorPage.unavailable))
        }
    }

    /// One item's guide (intake's public GetItem, the current version).
    func item(_ request: Request, _ context: WebContext) async throws -> Response {
        let layout = layout(context)
        let code = context.parameters.get("code") ?? ""
        let missing = Self.html(.notFound, ErrorPage.render(layout: layout, title: "事项不存在", message: "没有这个事项，请从办事指南重新查找。"))
        guard CatalogueSearch.isItemCode(code) else { return missing }
        do {
            let response = try await Intake_IntakeService.Client(wrapping: intake).getItem(.with { $0.implementationCode = code }, options: callOptions)
            return Self.html(.ok, CataloguePage.item(layout: layout, item: response.item))
        } catch let error as RPCError {
            context.logger.notice("catalogue item failed", metadata: ["request_id": "\(context.id)", "code": "\(error.code)", "message": "\(error.message)"])
            if error.code == .notFound || error.code == .invalidArgument { return missing }
            return Self.html(.serviceUnavailable, ErrorPage.render(layout: layout, title: "请稍后再试", message: ErrorPage.unavailable))
        }
    }

    // MARK: /progress

    func progress(_ request: Request, _ context: WebContext) async throws -> Response {
        let layout = layout(context)
        var request = request
        let body = try await request.collectBody(upTo: WebLimits.maximumFormBytes)
        let form: ProgressForm
        switch ProgressForm.validate(FormBody.parse(String(buffer: body))) {
        case .failure(let errors):
            return Self.html(.badRequest, ProgressPage.formPage(layout: layout, errors: errors))
        case .success(let valid):
            form = valid
        }
        guard progressLimiter.attempt(client(request, context)) else {
            return Self.html(.tooManyRequests, ProgressPage.formPage(layout: layout, errors: nil, notice: ErrorPage.tooMany))
        }
        let call = Intake_TrackProgressRequest.with {
            $0.applicationNumber = form.applicationNumber
            $0.queryCode = form.queryCode
        }
        do {
            let response = try await Intake_IntakeService.Client(wrapping: intake).trackProgress(call, options: callOptions)
            return Self.html(.ok, ProgressPage.render(layout: layout, response: response))
        } catch let error as RPCError {
            context.logger.notice("progress look-up failed", metadata: ["request_id": "\(context.id)", "code": "\(error.code)", "message": "\(error.message)"])
            let kept = FormErrors(errors: [:], values: [ProgressForm.numberField: form.applicationNumber])
            switch error.code {
            case .notFound:
                return Self.html(.notFound, ProgressPage.formPage(layout: layout, errors: kept,
                    notice: "未查到该办件：受理编号或查询码不正确。请对照受理通知书重新填写；多次填错将暂时锁定查询。"))
            case .invalidArgument:
                var errors: ProgressForm.Errors = [:]
                for violation in error.fieldViolations {
                    errors[violation.field == ProgressForm.codeField ? ProgressForm.codeField : ProgressForm.numberField] = "格式不正确，请对照受理通知书填写"
                }
                if errors.isEmpty { errors[ProgressForm.numberField] = "格式不正确，请对照受理通知书填写" }
                return Self.html(.badRequest, ProgressPage.formPage(layout: layout, errors: FormErrors(errors: errors, values: kept.values)))
            case .resourceExhausted:
                return Self.html(.tooManyRequests, ProgressPage.formPage(layout: layout, errors: kept,
                    notice: "查询过于频繁或查询码错误次数过多，请稍后再试，或到办事窗口查询。"))
            default:
                return Self.html(.serviceUnavailable, ProgressPage.formPage(layout: layout, errors: kept, notice: ErrorPage.unavailable))
            }
        }
    }

    // MARK: Responses

    /// Pages are never cached (a status can change), framed by nothing, and may load only this
    /// node's own stylesheet and script.
    static func html(_ status: HTTPResponse.Status, _ page: String) -> Response {
        Response(status: status, headers: [
            .contentType: "text/html; charset=utf-8",
            .cacheControl: "no-store",
            .contentSecurityPolicy: "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            .init("X-Content-Type-Options")!: "nosniff",
            .init("Referrer-Policy")!: "no-referrer",
        ], body: .init(byteBuffer: ByteBuffer(string: page)))
    }

    static func asset(_ text: String, type: String) -> Response {
        Response(status: .ok, headers: [
            .contentType: type, .cacheControl: "public, max-age=31536000, immutable", .init("X-Content-Type-Options")!: "nosniff",
        ], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

/// A page answered instead of going on (sign-in, 403, a malformed form): `Response` is not an
/// `Error`, and the failure side of a `Result` needs one.
struct ResponseBox: Error {
    let response: Response
    init(_ response: Response) { self.response = response }
}
