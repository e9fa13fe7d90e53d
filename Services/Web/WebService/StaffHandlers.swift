import Foundation
import GRPCCore
import Hummingbird
import Logging
import OneSealAuth
import OneSealCore
import OneSealProto
import OneSealWire
import WebRules

/// Staff sign-in for the workbench (#19, W33): `/staff/sign-in`, the forced password change, the
/// TOTP code when enrolled, sign-out, and the workbench's home. The CSRF tokens, the visitor
/// binding, the sign-in throttle and the client address are the applicant accounts' (W23–W25),
/// shared with `AccountHandlers`; the session is the staff's own (`StaffStore`, its own cookie).
/// A session advances password change → code → signed in, each step under a new id, and a session
/// short of `signedIn` opens nothing but its own form.
struct StaffHandlers: Sendable {
    let accounts: AccountHandlers
    let store: StaffStore
    /// The staff key (W31): mints each call's token for the signed-in person and role.
    let signer: TokenSigningKey
    let node: String
    let policy: SessionPolicy
    /// The node's approval service (the work list); nil when `approval@<node>` is not a peer.
    let approval: GRPCClient<OneSealClientTransport>?
    /// The node's intake service (the application and materials of a case).
    let intake: GRPCClient<OneSealClientTransport>
    /// The node's supervision service (the department inbox); nil when `supervision@<node>` is not a peer.
    let supervision: GRPCClient<OneSealClientTransport>?

    func register(on router: Router<WebContext>) {
        router.get("/staff") { request, context in try await home(request, context) }
        router.get("/staff/sign-in") { request, context in signInForm(request, context) }
        router.post("/staff/sign-in") { request, context in try await signInSubmit(request, context) }
        router.get("/staff/password") { request, context in try await passwordForm(request, context) }
        router.post("/staff/password") { request, context in try await passwordSubmit(request, context) }
        router.get("/staff/code") { request, context in try await codeForm(request, context) }
        router.post("/staff/code") { request, context in try await codeSubmit(request, context) }
        router.post("/staff/sign-out") { request, context in try await signOut(request, context) }
        router.get("/staff/second-factor") { request, context in try await enrolmentForm(request, context) }
        router.post("/staff/second-factor") { request, context in try await enrolmentSubmit(request, context) }
        router.get("/staff/cases") { request, context in try await workList(request, context) }
        if let approval { StaffCaseHandlers(staff: self, intake: intake, approval: approval).register(on: router) }
        if let supervision {
            StaffPushHandlers(staff: self, supervision: supervision).register(on: router)
            PushRerouteHandlers(staff: self, supervision: supervision).register(on: router)
        }
    }

    /// Without the staff key the workbench's paths say so plainly.
    static func registerUnavailable(on router: Router<WebContext>, siteName: String) {
        let answer: @Sendable (Request, WebContext) -> Response = { _, context in
            PageHandlers.html(.notFound, ErrorPage.render(
                layout: Layout(siteName: siteName, requestID: context.id), title: "工作台未开通", message: "本站暂未开通工作人员工作台。"))
        }
        for path in ["/staff", "/staff/sign-in", "/staff/password", "/staff/code", "/staff/cases", "/staff/dashboard", "/staff/dashboard/report", "/staff/operations", "/staff/operations/catalogue.json", "/staff/window", "/staff/second-factor"] { router.get(.init(stringLiteral: path), use: answer) }
        for path in ["/staff/sign-in", "/staff/password", "/staff/code", "/staff/sign-out", "/staff/operations/catalogue", "/staff/second-factor"] { router.post(.init(stringLiteral: path), use: answer) }
    }

    func layout(_ context: WebContext) -> Layout { accounts.layout(context) }

    // MARK: Who is asking

    func sessionID(_ request: Request) -> SessionID? {
        accounts.cookies(request)[SessionPolicy.staffCookieName].flatMap(SessionID.init(cookie:))
    }

    /// The CSRF binding of staff forms: the staff session when there is one, else the visitor.
    func binding(_ request: Request) -> SessionID? {
        sessionID(request) ?? accounts.cookies(request)[SessionPolicy.visitorCookieName].flatMap(SessionID.init(cookie:))
    }

    func formToken(_ request: Request) -> (token: String, setCookie: String?) {
        if let binding = binding(request) { return (accounts.csrf.token(for: binding), nil) }
        let visitor = SessionID.generate()
        return (accounts.csrf.token(for: visitor), accounts.policy.visitorCookie(visitor))
    }

    func form(_ request: inout Request) async throws -> [String: String]? {
        let body = try await request.collectBody(upTo: WebLimits.maximumFormBytes)
        let fields = FormBody.parse(String(buffer: body))
        guard accounts.csrf.isValid(fields[CSRFTokens.field], for: binding(request)) else { return nil }
        return fields
    }

    /// Where a session at `stage` belongs.
    static func path(_ stage: StaffStore.Stage) -> String {
        switch stage {
        case .passwordChange: "/staff/password"
        case .secondFactor: "/staff/code"
        case .signedIn: "/staff"
        }
    }

    enum Gate {
        case pass(SessionID, StaffStore.Session)
        case redirect(Response)

        /// The answer when the gate did not pass.
        var response: Response {
            if case .redirect(let response) = self { return response }
            return AccountHandlers.redirect("/staff/sign-in")
        }
    }

    /// The staff session at `stage`, or the answer that sends the browser where it belongs: no
    /// session (never signed in, expired, signed out, the account disabled or its role changed) →
    /// sign-in, with the stale cookie cleared; a session at another stage → that stage's page.
    func gate(_ request: Request, at stage: StaffStore.Stage) async throws -> Gate {
        guard let id = sessionID(request) else { return .redirect(AccountHandlers.redirect("/staff/sign-in")) }
        guard let session = try await store.session(id, policy: policy) else {
            return .redirect(AccountHandlers.redirect("/staff/sign-in", setCookies: [policy.clearedStaffSessionCookie()]))
        }
        guard session.stage == stage else { return .redirect(AccountHandlers.redirect(Self.path(session.stage))) }
        return .pass(id, session)
    }

    /// The throttle's account key: staff numbers apart from applicants' codes.
    static func throttleKey(_ staffNumber: String) -> String { "staff:" + StaffNumber.key(staffNumber) }

    // MARK: Sign in / out

    func signInForm(_ request: Request, _ context: WebContext) -> Response {
        let (token, cookie) = formToken(request)
        return AccountHandlers.page(.ok, StaffPages.signIn(layout: layout(context), csrf: token, errors: nil), setCookies: [cookie])
    }

    func signInSubmit(_ request: Request, _ context: WebContext) async throws -> Response {
        var request = request
        guard let fields = try await form(&request) else { return accounts.csrfRefused(context) }
        let token = accounts.csrf.token(for: binding(request)!)
        let signIn: StaffSignIn
        switch StaffSignIn.validate(fields) {
        case .failure(let errors): return AccountHandlers.page(.badRequest, StaffPages.signIn(layout: layout(context), csrf: token, errors: errors))
        case .success(let valid): signIn = valid
        }
        let address = accounts.client(request, context)
        let key = Self.throttleKey(signIn.staffNumber)
        let kept = FormErrors(errors: [:], values: [StaffAccountDraft.staffNumberField: signIn.staffNumber])
        if let block = accounts.throttle.withLock({ $0.block(account: key, address: address, now: Date()) }) {
            context.logger.notice("staff sign-in throttled", metadata: ["request_id": "\(context.id)", "client": "\(address)"])
            return AccountHandlers.page(.tooManyRequests, StaffPages.signIn(layout: layout(context), csrf: token, errors: kept, notice: AccountHandlers.blockedText(block)))
        }
        guard let staff = try await store.authenticate(staffNumber: signIn.staffNumber, password: signIn.password) else {
            accounts.throttle.withLock { $0.recordFailure(account: key, address: address, now: Date()) }
            context.logger.notice("staff sign-in failed", metadata: ["request_id": "\(context.id)", "client": "\(address)"])
            return AccountHandlers.page(.unauthorized, StaffPages.signIn(
                layout: layout(context), csrf: token, errors: kept,
                notice: "工号或密码不正确，或账户已停用。连续错误\(accounts.throttle.withLock { $0.limits.perAccount })次将暂停登录15分钟。"))
        }
        accounts.throttle.withLock { $0.recordSuccess(account: key) }
        // A new id at every sign-in (no fixation), and the old one gone.
        if let old = sessionID(request) { try await store.endSession(old) }
        let stage = StaffStore.firstStage(staff)
        let session = try await store.startSession(for: staff, stage: stage, policy: policy)
        context.logger.info("staff signed in", metadata: ["request_id": "\(context.id)", "staff": "\(staff.staffNumber)", "role": "\(staff.role.rawValue)", "stage": "\(stage.rawValue)"])
        return AccountHandlers.redirect(Self.path(stage), setCookies: [policy.staffSessionCookie(session)])
    }

    func signOut(_ request: Request, _ context: WebContext) async throws -> Response {
        var request = request
        guard try await form(&request) != nil else { return accounts.csrfRefused(context) }
        if let id = sessionID(request) { try await store.endSession(id) }
        return AccountHandlers.redirect("/staff/sign-in", setCookies: [policy.clearedStaffSessionCookie()])
    }

    // MARK: The forced password change

    func passwordForm(_ request: Request, _ context: WebContext) async throws -> Response {
        let checked = try await gate(request, at: .passwordChange)
        guard case .pass(let id, let session) = checked else { return checked.response }
        return AccountHandlers.page(.ok, StaffPages.passwordChange(layout: layout(context), csrf: accounts.csrf.token(for: id), staff: session.staff, errors: nil))
    }

    func passwordSubmit(_ request: Request, _ context: WebContext) async throws -> Response {
        var request = request
        guard let fields = try await form(&request) else { return accounts.csrfRefused(context) }
        let checked = try await gate(request, at: .passwordChange)
        guard case .pass(let id, let session) = checked else { return checked.response }
        let token = accounts.csrf.token(for: id)
        let staff = session.staff
        let change: StaffPasswordChange
        switch StaffPasswordChange.validate(fields, staffNumber: staff.staffNumber) {
        case .failure(let errors): return AccountHandlers.page(.badRequest, StaffPages.passwordChange(layout: layout(context), csrf: token, staff: staff, errors: errors))
        case .success(let valid): change = valid
        }
        // The current password again, under the same throttle as sign-in.
        let address = accounts.client(request, context)
        let key = Self.throttleKey(staff.staffNumber)
        if let block = accounts.throttle.withLock({ $0.block(account: key, address: address, now: Date()) }) {
            return AccountHandlers.page(.tooManyRequests, StaffPages.passwordChange(layout: layout(context), csrf: token, staff: staff, errors: nil, notice: AccountHandlers.blockedText(block)))
        }
        guard try await store.authenticate(staffNumber: staff.staffNumber, password: change.current) != nil else {
            accounts.throttle.withLock { $0.recordFailure(account: key, address: address, now: Date()) }
            return AccountHandlers.page(.unauthorized, StaffPages.passwordChange(
                layout: layout(context), csrf: token, staff: staff, errors: FormErrors(errors: [StaffPasswordChange.currentField: "当前密码不正确"])))
        }
        try await store.changePassword(staff.id, to: change.new, keeping: id)
        context.logger.info("staff password changed", metadata: ["request_id": "\(context.id)", "staff": "\(staff.staffNumber)"])
        let next: StaffStore.Stage = staff.hasSecondFactor ? .secondFactor : .signedIn
        guard let advanced = try await store.advance(id, to: next, staff: staff) else {
            return AccountHandlers.redirect("/staff/sign-in", setCookies: [policy.clearedStaffSessionCookie()])
        }
        return AccountHandlers.redirect(Self.path(next), setCookies: [policy.staffSessionCookie(advanced)])
    }

    // MARK: The TOTP code

    func codeForm(_ request: Request, _ context: WebContext) async throws -> Response {
        let checked = try await gate(request, at: .secondFactor)
        guard case .pass(let id, _) = checked else { return checked.response }
        return AccountHandlers.page(.ok, StaffPages.code(layout: layout(context), csrf: accounts.csrf.token(for: id), errors: nil))
    }

    func codeSubmit(_ request: Request, _ context: WebContext) async throws -> Response {
        var request = request
        guard let fields = try await form(&request) else { return accounts.csrfRefused(context) }
        let checked = try await gate(request, at: .secondFactor)
        guard case .pass(let id, let session) = checked else { return checked.response }
        let token = accounts.csrf.token(for: id)
        let address = accounts.client(request, context)
        let key = Self.throttleKey(session.staff.staffNumber)
        if let block = accounts.throttle.withLock({ $0.block(account: key, address: address, now: Date()) }) {
            return AccountHandlers.page(.tooManyRequests, StaffPages.code(layout: layout(context), csrf: token, errors: nil, notice: AccountHandlers.blockedText(block)))
        }
        guard try await store.verifyTOTP(session.staff.id, code: fields[StaffSignIn.codeField] ?? "") else {
            accounts.throttle.withLock { $0.recordFailure(account: key, address: address, now: Date()) }
            context.logger.notice("staff code refused", metadata: ["request_id": "\(context.id)", "staff": "\(session.staff.staffNumber)"])
            return AccountHandlers.page(.unauthorized, StaffPages.code(
                layout: layout(context), csrf: token, errors: FormErrors(errors: [StaffSignIn.codeField: "验证码不正确或已使用，请输入应用中当前显示的6位数字"])))
        }
        accounts.throttle.withLock { $0.recordSuccess(account: key) }
        guard let advanced = try await store.advance(id, to: .signedIn, staff: session.staff) else {
            return AccountHandlers.redirect("/staff/sign-in", setCookies: [policy.clearedStaffSessionCookie()])
        }
        return AccountHandlers.redirect("/staff", setCookies: [policy.staffSessionCookie(advanced)])
    }

    // MARK: Second factor by the person (自助绑定)

    /// 绑定动态验证码: a signed-in person without a second factor gets a fresh secret (typed or
    /// read from the otpauth link by an authenticator app) and confirms it with a code; nothing
    /// is stored before that. With a second factor already the page says how to replace it (the
    /// operator's reset: a stolen session must not swap the phone).
    func enrolmentForm(_ request: Request, _ context: WebContext) async throws -> Response {
        let checked = try await gate(request, at: .signedIn)
        guard case .pass(let id, let session) = checked else { return checked.response }
        let token = accounts.csrf.token(for: id)
        let person = session.staff
        guard !person.hasSecondFactor else {
            return AccountHandlers.page(.ok, StaffPages.enrolment(layout: layout(context), csrf: token, staff: person, offer: nil, errors: nil))
        }
        do {
            let offer = try offer(for: person, issuer: layout(context).siteName)
            return AccountHandlers.page(.ok, StaffPages.enrolment(layout: layout(context), csrf: token, staff: person, offer: offer, errors: nil))
        } catch is StaffStore.MissingDataKey {
            return AccountHandlers.page(.serviceUnavailable, StaffPages.enrolment(layout: layout(context), csrf: token, staff: person, offer: nil, errors: nil, notice: "本站未配置数据密钥，无法绑定动态验证码。请联系系统管理员。"))
        }
    }

    /// A new secret for `person`: the sealed offer the form carries and what the page shows.
    func offer(for person: StaffStore.Staff, issuer: String) throws -> StaffPages.Offer {
        let secret = TOTP.generateSecret()
        let totp = TOTP(secret: secret)
        return StaffPages.Offer(sealed: try store.offerSecret(secret, for: person.id), grouped: totp.groupedSecret,
                                uri: totp.provisioningURI(issuer: issuer, account: person.staffNumber))
    }

    func enrolmentSubmit(_ request: Request, _ context: WebContext) async throws -> Response {
        var request = request
        guard let fields = try await form(&request) else { return accounts.csrfRefused(context) }
        let checked = try await gate(request, at: .signedIn)
        guard case .pass(let id, let session) = checked else { return checked.response }
        let token = accounts.csrf.token(for: id)
        let person = session.staff
        let address = accounts.client(request, context)
        let key = Self.throttleKey(person.staffNumber)
        let offered = fields[StaffPages.offerField] ?? ""
        /// The same offer again (its secret is already in the person's app) with the problem.
        func again(_ status: HTTPResponse.Status, _ errors: FormErrors?, notice: String? = nil) throws -> Response {
            let secret = store.openOffer(offered, for: person.id)
            let offer = try secret.map { secret in
                let totp = TOTP(secret: secret)
                return StaffPages.Offer(sealed: offered, grouped: totp.groupedSecret, uri: totp.provisioningURI(issuer: layout(context).siteName, account: person.staffNumber))
            } ?? self.offer(for: person, issuer: layout(context).siteName)
            return AccountHandlers.page(status, StaffPages.enrolment(layout: layout(context), csrf: token, staff: person, offer: offer, errors: errors, notice: notice))
        }
        if let block = accounts.throttle.withLock({ $0.block(account: key, address: address, now: Date()) }) {
            return try again(.tooManyRequests, nil, notice: AccountHandlers.blockedText(block))
        }
        do {
            switch try await store.enrolTOTP(person.id, offer: offered, code: fields[StaffSignIn.codeField] ?? "") {
            case .enrolled:
                accounts.throttle.withLock { $0.recordSuccess(account: key) }
                context.logger.info("staff second factor enrolled", metadata: ["request_id": "\(context.id)", "staff": "\(person.staffNumber)"])
                return AccountHandlers.redirect("/staff/second-factor?done=1")
            case .alreadyEnrolled:
                return AccountHandlers.redirect("/staff/second-factor?done=1")
            case .wrongCode:
                accounts.throttle.withLock { $0.recordFailure(account: key, address: address, now: Date()) }
                return try again(.badRequest, FormErrors(errors: [StaffSignIn.codeField: "验证码不正确：请输入应用中当前显示的6位数字（手机时间须准确）"]))
            case .staleOffer:
                return try again(.badRequest, FormErrors(errors: [StaffSignIn.codeField: "绑定页面已超过10分钟，已生成新的密钥：请在应用中删除刚才添加的条目，重新添加下面的密钥"]))
            }
        } catch is StaffStore.MissingDataKey {
            return AccountHandlers.page(.serviceUnavailable, StaffPages.enrolment(layout: layout(context), csrf: token, staff: person, offer: nil, errors: nil, notice: "本站未配置数据密钥，无法绑定动态验证码。请联系系统管理员。"))
        }
    }

    // MARK: Home

    func home(_ request: Request, _ context: WebContext) async throws -> Response {
        let checked = try await gate(request, at: .signedIn)
        guard case .pass(let id, let session) = checked else { return checked.response }
        return AccountHandlers.page(.ok, StaffPages.home(layout: layout(context), csrf: accounts.csrf.token(for: id), staff: session.staff))
    }

    // MARK: The back office's work list

    /// The token the services see for this act (W31): role and subject the signed-in person's,
    /// the inspector's department, 5 minutes, signed with the staff key.
    func staffMetadata(_ staff: StaffStore.Staff) throws -> Metadata {
        guard let role = Role(rawValue: staff.role.rawValue) else { throw RPCError(code: .internalError, message: "staff role \(staff.role.rawValue) is no token role") }
        let token = try signer.mint(subject: staff.staffNumber, role: role, node: node, department: staff.departmentCode, lifetime: .seconds(300))
        var metadata = Metadata()
        metadata.addString("Bearer \(token)", forKey: "authorization")
        return metadata
    }

    /// The approval role a staff role works cases in, or nil (not an approval role).
    static func approvalRole(_ role: StaffRole) -> Approval_ApprovalRole? {
        switch role {
        case .officer: .officer
        case .sectionChief: .sectionChief
        case .deputyDirector: .deputyDirector
        case .director: .director
        default: nil
        }
    }

    /// 我的待办 (`/staff/cases`): the open cases whose next step is the person's (assigned to them),
    /// then the queue of their role nobody has claimed, each sorted by due date by approval itself,
    /// with the yellow and red warnings. Only the approval chain opens it: anyone else is refused
    /// by the page before any call (and approval's ListCases would refuse a window clerk's or an
    /// inspector's token too).
    func workList(_ request: Request, _ context: WebContext) async throws -> Response {
        let checked = try await gate(request, at: .signedIn)
        guard case .pass(let id, let session) = checked else { return checked.response }
        let staff = session.staff
        let token = accounts.csrf.token(for: id)
        guard staff.role.worksCases, let role = Self.approvalRole(staff.role) else {
            context.logger.notice("staff page refused", metadata: ["request_id": "\(context.id)", "staff": "\(staff.staffNumber)", "role": "\(staff.role.rawValue)", "path": "/staff/cases"])
            return AccountHandlers.page(.forbidden, StaffPages.refused(layout: layout(context), csrf: token, staff: staff))
        }
        guard let approval else {
            return AccountHandlers.page(.serviceUnavailable, StaffPages.workList(layout: layout(context), csrf: token, staff: staff, mine: nil, queue: nil, notice: "本站工作台未连接审批服务。"))
        }
        var options = CallOptions.defaults
        options.timeout = .seconds(8)
        let client = Approval_ApprovalService.Client(wrapping: approval)
        let open: [Approval_CaseStatus] = [.inProgress, .suspended]
        // Each section pages on its own (approval's keyset token, checked again by approval).
        func position(_ name: String) -> String {
            guard let text = request.uri.queryParameters[Substring(name)].map(String.init), text.utf8.count <= WorkList.maximumTokenLength,
                  text.utf8.allSatisfy({ Base64URL.isAlphabet($0) || $0 == UInt8(ascii: ".") }) else { return "" }
            return text
        }
        let minePosition = position("mine"), queuePosition = position("queue")
        do {
            let metadata = try staffMetadata(staff)
            let mine = try await client.listCases(.with {
                $0.assigneeSubject = staff.staffNumber
                $0.statuses = open
                $0.page = .with { $0.pageSize = Int32(WorkList.pageSize); $0.pageToken = minePosition }
            }, metadata: metadata, options: options)
            let queue = try await client.listCases(.with {
                $0.nextRole = role
                $0.unassignedOnly = true
                $0.statuses = open
                $0.page = .with { $0.pageSize = Int32(WorkList.pageSize); $0.pageToken = queuePosition }
            }, metadata: metadata, options: options)
            return AccountHandlers.page(.ok, StaffPages.workList(
                layout: layout(context), csrf: token, staff: staff,
                mine: .init(page: mine, parameter: "mine", other: ("queue", queuePosition)),
                queue: .init(page: queue, parameter: "queue", other: ("mine", minePosition))))
        } catch let error as RPCError {
            context.logger.notice("work list failed", metadata: ["request_id": "\(context.id)", "code": "\(error.code)", "message": "\(error.message)"])
            let status: HTTPResponse.Status = error.code == .permissionDenied ? .forbidden : .serviceUnavailable
            let notice = error.code == .permissionDenied ? "审批服务拒绝了你的岗位访问此列表。" : ErrorPage.unavailable
            return AccountHandlers.page(status, StaffPages.workList(layout: layout(context), csrf: token, staff: staff, mine: nil, queue: nil, notice: notice))
        }
    }
}
