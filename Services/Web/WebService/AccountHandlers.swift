import Foundation
import GRPCCore
import Hummingbird
import Logging
import OneSealAuth
import OneSealCore
import OneSealProto
import OneSealWire
import Synchronization
import WebRules

/// Applicant accounts (#18 item 3): registration, sign-in and -out, sessions, CSRF, the password
/// throttle, and "my applications" through intake with a 5-minute applicant token minted for the
/// signed-in person (W16, W17). The object-level rules stay the services': the front only says who
/// the person is.
struct AccountHandlers: Sendable {
    let store: AccountStore
    let signer: TokenSigningKey
    let node: String
    let policy: SessionPolicy
    let csrf: CSRFTokens
    let throttle: SharedThrottle
    let intake: GRPCClient<OneSealClientTransport>
    let trustedProxies: Set<String>
    let siteName: String
    let logger: Logger

    init(
        store: AccountStore, signer: TokenSigningKey, node: String, policy: SessionPolicy, csrf: CSRFTokens, intake: GRPCClient<OneSealClientTransport>,
        trustedProxies: Set<String>, siteName: String, logger: Logger, limits: SignInThrottle.Limits = .standard
    ) {
        self.store = store
        self.signer = signer
        self.node = node
        self.policy = policy
        self.csrf = csrf
        self.throttle = SharedThrottle(SignInThrottle(limits: limits))
        self.intake = intake
        self.trustedProxies = trustedProxies
        self.siteName = siteName
        self.logger = logger
    }

    func register(on router: Router<WebContext>) {
        router.get("/account/register") { request, context in registerForm(request, context) }
        router.post("/account/register") { request, context in try await registerSubmit(request, context) }
        router.get("/account/signin") { request, context in signInForm(request, context) }
        router.post("/account/signin") { request, context in try await signInSubmit(request, context) }
        router.post("/account/signout") { request, context in try await signOut(request, context) }
        router.get("/account") { request, context in try await myApplications(request, context) }
    }

    func layout(_ context: WebContext) -> Layout { Layout(siteName: siteName, requestID: context.id) }

    /// Without accounts configured the account paths say so plainly rather than 404.
    static func registerUnavailable(on router: Router<WebContext>, siteName: String) {
        let answer: @Sendable (Request, WebContext) -> Response = { _, context in
            PageHandlers.html(.notFound, ErrorPage.render(
                layout: Layout(siteName: siteName, requestID: context.id), title: "网上办事未开通",
                message: "本站暂未开通网上办事账户。证照核验、办件查询和办事指南无需登录。"))
        }
        for path in ["/account", "/account/register", "/account/signin"] { router.get(.init(stringLiteral: path), use: answer) }
        for path in ["/account/register", "/account/signin", "/account/signout", "/apply/:code"] { router.post(.init(stringLiteral: path), use: answer) }
        router.get("/apply/:code", use: answer)
        router.get("/account/applications/:id", use: answer)
    }

    // MARK: Who is asking

    func cookies(_ request: Request) -> [String: String] {
        SessionPolicy.parseCookies(request.headers[values: .cookie])
    }

    /// The session cookie's id (its shape only; whether it is a session is the database's answer).
    func sessionID(_ request: Request) -> SessionID? {
        cookies(request)[SessionPolicy.cookieName].flatMap(SessionID.init(cookie:))
    }

    /// What a form's CSRF token is bound to: the session id when there is a session cookie, else
    /// the visitor cookie. A GET of a form without either gets a new visitor cookie.
    func binding(_ request: Request) -> SessionID? {
        let jar = cookies(request)
        return jar[SessionPolicy.cookieName].flatMap(SessionID.init(cookie:)) ?? jar[SessionPolicy.visitorCookieName].flatMap(SessionID.init(cookie:))
    }

    /// The CSRF token for a form page, and the visitor cookie to set when the browser had no binding.
    func formToken(_ request: Request) -> (token: String, setCookie: String?) {
        if let binding = binding(request) { return (csrf.token(for: binding), nil) }
        let visitor = SessionID.generate()
        return (csrf.token(for: visitor), policy.visitorCookie(visitor))
    }

    func client(_ request: Request, _ context: WebContext) -> String {
        ClientAddress.resolve(peer: context.remoteHost, forwardedFor: request.headers[values: .init("X-Forwarded-For")!], trustedProxies: trustedProxies)
    }

    /// Reads a form body (≤ 4 KiB, W8) and checks its CSRF token; nil when the token is missing or
    /// not this browser's — the caller answers with a plain page and does nothing.
    func form(_ request: inout Request) async throws -> [String: String]? {
        let body = try await request.collectBody(upTo: WebLimits.maximumFormBytes)
        let fields = FormBody.parse(String(buffer: body))
        guard csrf.isValid(fields[CSRFTokens.field], for: binding(request)) else { return nil }
        return fields
    }

    func csrfRefused(_ context: WebContext) -> Response {
        context.logger.notice("form refused: CSRF token missing or not this browser's", metadata: ["request_id": "\(context.id)"])
        return PageHandlers.html(.forbidden, ErrorPage.render(
            layout: layout(context), title: "表单已失效",
            message: "表单已失效或不是从本站提交的，未做任何处理。请返回重新打开页面后再提交。"))
    }

    static func page(_ status: HTTPResponse.Status, _ html: String, setCookies: [String?] = []) -> Response {
        var response = PageHandlers.html(status, html)
        for cookie in setCookies.compactMap({ $0 }) { response.headers.append(.init(name: .setCookie, value: cookie)) }
        return response
    }

    static func redirect(_ location: String, setCookies: [String?] = []) -> Response {
        var response = Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
        for cookie in setCookies.compactMap({ $0 }) { response.headers.append(.init(name: .setCookie, value: cookie)) }
        return response
    }

    /// The signed-in account, or nil (and the stale cookie is cleared by the caller).
    func signedIn(_ request: Request) async throws -> AccountStore.Account? {
        guard let id = sessionID(request) else { return nil }
        return try await store.session(id, policy: policy)
    }

    // MARK: Register

    func registerForm(_ request: Request, _ context: WebContext) -> Response {
        let (token, cookie) = formToken(request)
        return Self.page(.ok, AccountPages.register(layout: layout(context), csrf: token, errors: nil), setCookies: [cookie])
    }

    func registerSubmit(_ request: Request, _ context: WebContext) async throws -> Response {
        var request = request
        guard let fields = try await form(&request) else { return csrfRefused(context) }
        let token = csrf.token(for: binding(request)!)
        let registration: Registration
        switch Registration.validate(fields, today: CivilDate.today()) {
        case .failure(let errors):
            return Self.page(.badRequest, AccountPages.register(layout: layout(context), csrf: token, errors: errors))
        case .success(let valid):
            registration = valid
        }
        // Registration costs a bcrypt hash: the same per-address budget as sign-in failures keeps a
        // script from turning the front into a hashing furnace.
        let address = client(request, context)
        if let block = throttle.withLock({ $0.block(account: "", address: address, now: Date()) }) {
            return Self.page(.tooManyRequests, AccountPages.register(layout: layout(context), csrf: token, errors: nil, notice: Self.blockedText(block)))
        }
        throttle.withLock { $0.recordAddressAttempt(address: address, now: Date()) }
        switch try await store.register(registration) {
        case .alreadyRegistered:
            var errors = FormErrors(errors: [Registration.identityField: "该号码已注册，请直接登录；忘记密码请到办事窗口重置"], values: [:])
            errors.values = [Registration.kindField: registration.kind.rawValue, Registration.nameField: registration.name, Registration.phoneField: registration.phone]
            return Self.page(.conflict, AccountPages.register(layout: layout(context), csrf: token, errors: errors))
        case .created(let account):
            context.logger.info("account registered", metadata: ["request_id": "\(context.id)", "kind": "\(account.kind.rawValue)", "account": "\(account.id)"])
            let session = try await store.startSession(for: account, policy: policy)
            return Self.redirect("/account", setCookies: [policy.sessionCookie(session)])
        }
    }

    static func blockedText(_ block: SignInThrottle.Block) -> String {
        let until: Date
        switch block {
        case .account(let date), .address(let date): until = date
        }
        let minutes = max(1, Int((until.timeIntervalSinceNow / 60).rounded(.up)))
        switch block {
        case .account: return "该账户密码错误次数过多，已暂停登录，请\(minutes)分钟后再试。"
        case .address: return "此网络尝试次数过多，请\(minutes)分钟后再试。"
        }
    }

    // MARK: Sign in / out

    func signInForm(_ request: Request, _ context: WebContext) -> Response {
        let (token, cookie) = formToken(request)
        return Self.page(.ok, AccountPages.signIn(layout: layout(context), csrf: token, errors: nil), setCookies: [cookie])
    }

    func signInSubmit(_ request: Request, _ context: WebContext) async throws -> Response {
        var request = request
        guard let fields = try await form(&request) else { return csrfRefused(context) }
        let token = csrf.token(for: binding(request)!)
        let signIn: SignIn
        switch SignIn.validate(fields) {
        case .failure(let errors):
            return Self.page(.badRequest, AccountPages.signIn(layout: layout(context), csrf: token, errors: errors))
        case .success(let valid):
            signIn = valid
        }
        let address = client(request, context)
        if let block = throttle.withLock({ $0.block(account: signIn.identityCode, address: address, now: Date()) }) {
            context.logger.notice("sign-in throttled", metadata: ["request_id": "\(context.id)", "client": "\(address)"])
            return Self.page(.tooManyRequests, AccountPages.signIn(
                layout: layout(context), csrf: token, errors: FormErrors(errors: [:], values: [Registration.identityField: signIn.identityCode]), notice: Self.blockedText(block)))
        }
        guard let account = try await store.authenticate(identityCode: signIn.identityCode, password: signIn.password) else {
            throttle.withLock { $0.recordFailure(account: signIn.identityCode, address: address, now: Date()) }
            context.logger.notice("sign-in failed", metadata: ["request_id": "\(context.id)", "client": "\(address)"])
            return Self.page(.unauthorized, AccountPages.signIn(
                layout: layout(context), csrf: token, errors: FormErrors(errors: [:], values: [Registration.identityField: signIn.identityCode]),
                notice: "号码或密码不正确。连续错误\(throttle.withLock { $0.limits.perAccount })次将暂停登录15分钟。"))
        }
        throttle.withLock { $0.recordSuccess(account: signIn.identityCode) }
        // A new id at every sign-in (no fixation: an id planted before sign-in is never promoted).
        if let old = sessionID(request) { try await store.endSession(old) }
        let session = try await store.startSession(for: account, policy: policy)
        context.logger.info("signed in", metadata: ["request_id": "\(context.id)", "account": "\(account.id)"])
        return Self.redirect("/account", setCookies: [policy.sessionCookie(session)])
    }

    func signOut(_ request: Request, _ context: WebContext) async throws -> Response {
        var request = request
        guard try await form(&request) != nil else { return csrfRefused(context) }
        if let id = sessionID(request) { try await store.endSession(id) }
        return Self.redirect("/", setCookies: [policy.clearedSessionCookie()])
    }

    // MARK: My applications

    /// The token the services see for this person: role applicant, subject their normalised code.
    func applicantMetadata(_ account: AccountStore.Account) throws -> Metadata {
        let token = try signer.mint(subject: account.person.identityCode, role: .applicant, node: node, lifetime: .seconds(300))
        var metadata = Metadata()
        metadata.addString("Bearer \(token)", forKey: "authorization")
        return metadata
    }

    func myApplications(_ request: Request, _ context: WebContext) async throws -> Response {
        guard let account = try await signedIn(request) else {
            return Self.redirect("/account/signin", setCookies: [sessionID(request) == nil ? nil : policy.clearedSessionCookie()])
        }
        let token = csrf.token(for: binding(request)!)
        var options = CallOptions.defaults
        options.timeout = .seconds(8)
        let call = Intake_ListApplicationsRequest.with { $0.page = .with { $0.pageSize = 50 } }
        do {
            let response = try await Intake_IntakeService.Client(wrapping: intake).listApplications(call, metadata: try applicantMetadata(account), options: options)
            // After an online submission: say so, with its number (the query code is in the table).
            let submitted = FormBody.parse(request.uri.query ?? "")["submitted"].map { String($0.prefix(WebLimits.maximumFieldCharacters)) }
            let notice = submitted.map { "网上申报已提交，受理编号 \($0)。窗口将在5个工作日内作出受理决定。" }
            // The confirmation carries the short rating link of the new application (W40).
            let ratingLink = submitted.flatMap { number in response.applications.first { $0.applicationNumber == number } }
                .map { RatingLinkHandlers.link(number: $0.applicationNumber, code: $0.queryCode) }
            return Self.page(.ok, AccountPages.myApplications(
                layout: layout(context), account: account, csrf: token, applications: response.applications, notice: notice, noticeIsGood: true, ratingLink: ratingLink))
        } catch let error as RPCError {
            context.logger.notice("my applications failed", metadata: ["request_id": "\(context.id)", "code": "\(error.code)", "message": "\(error.message)"])
            return Self.page(.serviceUnavailable, AccountPages.myApplications(
                layout: layout(context), account: account, csrf: token, applications: nil, notice: ErrorPage.unavailable))
        }
    }
}

/// The one `SignInThrottle` of the process, behind a lock.
final class SharedThrottle: Sendable {
    private let state: Mutex<SignInThrottle>

    init(_ throttle: SignInThrottle) {
        self.state = Mutex(throttle)
    }

    func withLock<T>(_ body: (inout SignInThrottle) -> T) -> T {
        state.withLock { body(&$0) }
    }
}
