import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import OneSealAuth
import OneSealPrivacy
import OneSealStore
import OneSealTestSupport
import ServiceLifecycle
import Testing
import WebRules
@testable import WebService

/// The staff sign-in of the workbench (#19) over HTTP, in-process on port 0 with its own database
/// on a real PostgreSQL (the services are absent: no page here calls them): the forced password
/// change, the TOTP step, the stage gate, a new id at every step, CSRF, and a disabled account
/// signed out on its next click.
@Suite struct StaffSignInTests {
    /// A browser without a cookie jar or redirect following: the test reads every answer.
    final class NoRedirects: NSObject, URLSessionTaskDelegate, Sendable {
        func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse, newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
            completionHandler(nil)
        }
    }

    struct Answer {
        var status: Int
        var page: String
        var location: String?
        var setCookie: String?

        /// The form's CSRF token.
        var csrf: String? {
            guard let range = page.range(of: "name=\"csrf_token\" value=\"") else { return nil }
            return String(page[range.upperBound...].prefix { $0 != "\"" })
        }

        /// The value a Set-Cookie header gives `name`.
        func cookie(_ name: String) -> String? {
            guard let header = setCookie, let range = header.range(of: name + "=") else { return nil }
            return String(header[range.upperBound...].prefix { $0 != ";" && $0 != "," })
        }
    }

    static func request(_ session: URLSession, _ url: String, method: String = "GET", form: [String: String]? = nil, cookies: [String: String] = [:]) async throws -> Answer {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        request.httpShouldHandleCookies = false
        if let form {
            let allowed = CharacterSet.alphanumerics
            request.httpBody = Data(form.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed)!)" }.joined(separator: "&").utf8)
            request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        }
        if !cookies.isEmpty { request.setValue(cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; "), forHTTPHeaderField: "Cookie") }
        let (data, response) = try await session.data(for: request)
        let http = response as! HTTPURLResponse
        return Answer(status: http.statusCode, page: String(decoding: data, as: UTF8.self), location: http.value(forHTTPHeaderField: "Location"), setCookie: http.value(forHTTPHeaderField: "Set-Cookie"))
    }

    static func withFront(approvalPort: Int? = nil, _ body: @Sendable (String, StaffStore, URLSession) async throws -> Void) async throws {
        try await withTestDatabase(prefix: "web") { client, database in
            try await Migrator.apply(AccountStore.migrations, on: client)
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("staff-signin-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let dataKey = directory.appendingPathComponent("data.key").path, applicantKey = directory.appendingPathComponent("applicant.key").path
            let staffKey = directory.appendingPathComponent("staff.key").path
            try DataKeyring.generateKeyText().write(toFile: dataKey, atomically: true, encoding: .utf8)
            try TokenSigningKey.generate(issuer: "371302").base64.write(toFile: applicantKey, atomically: true, encoding: .utf8)
            try TokenSigningKey.generate(issuer: "371302").base64.write(toFile: staffKey, atomically: true, encoding: .utf8)
            var configuration = WebConfiguration(
                node: "371302", siteName: "临沂市兰山区行政审批服务局", host: "127.0.0.1", port: 0, publicURL: nil,
                intake: (host: "127.0.0.1", port: 1), certificate: (host: "127.0.0.1", port: 1))
            configuration.approval = approvalPort.map { (host: "127.0.0.1", port: $0) }
            configuration.accounts = .init(databaseConninfo: database.conninfo, databasePoolSize: 2, dataKeyFile: dataKey, applicantKeyFile: applicantKey, staffKeyFile: staffKey)
            let store = StaffStore(database: client, keyring: try DataKeyring(contentsOfFile: dataKey), cost: 4)
            let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
            let front = WebFront(configuration: configuration, logger: Logger(label: "test.web")) { continuation.yield($0) }
            let group = ServiceGroup(services: [front], logger: Logger(label: "test.web"))
            let settings = URLSessionConfiguration.ephemeral
            settings.httpCookieStorage = nil
            settings.httpShouldSetCookies = false
            let session = URLSession(configuration: settings, delegate: NoRedirects(), delegateQueue: nil)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                var iterator = ports.makeAsyncIterator()
                let port = try #require(await iterator.next())
                do { try await body("http://127.0.0.1:\(port)", store, session) } catch {
                    await group.triggerGracefulShutdown()
                    throw error
                }
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
        }
    }

    @Test func firstSignInChangesThePasswordThenAsksTheCodeThenOpensTheWorkbench() async throws {
        try await Self.withFront { base, store, browser in
            let secret = TOTP.generateSecret()
            let draft = try StaffAccountDraft.validate(["staff_number": "G03", "display_name": "赵六", "role": "officer"]).get()
            guard case .created = try await store.add(draft, temporaryPassword: "Temp0rary-pass", totpSecret: secret) else { Issue.record("not created"); return }

            // Not signed in: the workbench sends to the sign-in page.
            let closed = try await Self.request(browser, base + "/staff")
            #expect(closed.status == 303 && closed.location == "/staff/sign-in")
            let form = try await Self.request(browser, base + "/staff/sign-in")
            let visitor = try #require(form.cookie(SessionPolicy.visitorCookieName))
            let token = try #require(form.csrf)
            let jar = [SessionPolicy.visitorCookieName: visitor]

            // No CSRF token: refused, nothing done.
            let forged = try await Self.request(browser, base + "/staff/sign-in", method: "POST", form: ["staff_number": "G03", "password": "Temp0rary-pass"], cookies: jar)
            #expect(forged.status == 403 && forged.setCookie == nil)
            // Bad shape: named by the field; wrong password: said plainly.
            let empty = try await Self.request(browser, base + "/staff/sign-in", method: "POST", form: ["csrf_token": token, "staff_number": "G 03", "password": ""], cookies: jar)
            #expect(empty.status == 400 && empty.page.contains("请填写密码") && empty.page.contains("aria-invalid=\"true\""))
            let wrong = try await Self.request(browser, base + "/staff/sign-in", method: "POST", form: ["csrf_token": token, "staff_number": "G03", "password": "not-the-password"], cookies: jar)
            #expect(wrong.status == 401 && wrong.page.contains("工号或密码不正确"))

            // The one-time password: straight to the forced change, under the staff cookie.
            let signedIn = try await Self.request(browser, base + "/staff/sign-in", method: "POST", form: ["csrf_token": token, "staff_number": "g03", "password": "Temp0rary-pass"], cookies: jar)
            #expect(signedIn.status == 303 && signedIn.location == "/staff/password")
            #expect(signedIn.setCookie?.contains("Path=/staff") == true && signedIn.setCookie?.contains("SameSite=Strict") == true && signedIn.setCookie?.contains("HttpOnly") == true)
            let first = try #require(signedIn.cookie(SessionPolicy.staffCookieName))
            let gated = try await Self.request(browser, base + "/staff", cookies: [SessionPolicy.staffCookieName: first])
            #expect(gated.status == 303 && gated.location == "/staff/password")
            let change = try await Self.request(browser, base + "/staff/password", cookies: [SessionPolicy.staffCookieName: first])
            #expect(change.status == 200 && change.page.contains("设置新密码"))
            let changeToken = try #require(change.csrf)
            let mismatch = try await Self.request(browser, base + "/staff/password", method: "POST", form: [
                "csrf_token": changeToken, "current_password": "Temp0rary-pass", "new_password": "my own long secret", "new_password_confirm": "my own long secreT",
            ], cookies: [SessionPolicy.staffCookieName: first])
            #expect(mismatch.status == 400 && mismatch.page.contains("两次输入的密码不一致"))
            let changed = try await Self.request(browser, base + "/staff/password", method: "POST", form: [
                "csrf_token": changeToken, "current_password": "Temp0rary-pass", "new_password": "my own long secret", "new_password_confirm": "my own long secret",
            ], cookies: [SessionPolicy.staffCookieName: first])
            #expect(changed.status == 303 && changed.location == "/staff/code")
            let second = try #require(changed.cookie(SessionPolicy.staffCookieName))
            #expect(second != first)
            // The old id is no session any more.
            #expect(try await Self.request(browser, base + "/staff/code", cookies: [SessionPolicy.staffCookieName: first]).location == "/staff/sign-in")

            // The code.
            let codeForm = try await Self.request(browser, base + "/staff/code", cookies: [SessionPolicy.staffCookieName: second])
            let codeToken = try #require(codeForm.csrf)
            let now = Date()
            let right = TOTP(secret: secret).code(at: now)
            let badCode = try await Self.request(browser, base + "/staff/code", method: "POST", form: ["csrf_token": codeToken, "code": right == "000000" ? "111111" : "000000"], cookies: [SessionPolicy.staffCookieName: second])
            #expect(badCode.status == 401 && badCode.page.contains("验证码不正确"))
            let coded = try await Self.request(browser, base + "/staff/code", method: "POST", form: ["csrf_token": codeToken, "code": right], cookies: [SessionPolicy.staffCookieName: second])
            #expect(coded.status == 303 && coded.location == "/staff")
            let third = try #require(coded.cookie(SessionPolicy.staffCookieName))

            let home = try await Self.request(browser, base + "/staff", cookies: [SessionPolicy.staffCookieName: third])
            #expect(home.status == 200 && home.page.contains("赵六") && home.page.contains("承办人"))

            // Disabled by the operator: signed out on the next click.
            #expect(try await store.disable(staffNumber: "G03") == 1)
            let after = try await Self.request(browser, base + "/staff", cookies: [SessionPolicy.staffCookieName: third])
            #expect(after.status == 303 && after.location == "/staff/sign-in" && after.setCookie?.contains("Max-Age=0") == true)
        }
    }

    @Test func signOutEndsTheSessionAndTheApplicantCookieIsNoStaffSession() async throws {
        try await Self.withFront { base, store, browser in
            let draft = try StaffAccountDraft.validate(["staff_number": "W0012", "display_name": "李四", "role": "window_clerk", "window": "3"]).get()
            _ = try await store.add(draft, temporaryPassword: "Temp0rary-pass")
            // As if the password had been changed already.
            let staff = try #require(try await store.find(staffNumber: "W0012"))
            try await store.changePassword(staff.id, to: "my own long secret")
            let form = try await Self.request(browser, base + "/staff/sign-in")
            let jar = [SessionPolicy.visitorCookieName: try #require(form.cookie(SessionPolicy.visitorCookieName))]
            let signedIn = try await Self.request(browser, base + "/staff/sign-in", method: "POST", form: ["csrf_token": try #require(form.csrf), "staff_number": "W0012", "password": "my own long secret"], cookies: jar)
            #expect(signedIn.status == 303 && signedIn.location == "/staff")
            let id = try #require(signedIn.cookie(SessionPolicy.staffCookieName))
            let home = try await Self.request(browser, base + "/staff", cookies: [SessionPolicy.staffCookieName: id])
            #expect(home.status == 200 && home.page.contains("3号窗口"))
            // The same id in the applicant's cookie opens nothing of the staff's.
            let swapped = try await Self.request(browser, base + "/staff", cookies: [SessionPolicy.cookieName: id])
            #expect(swapped.status == 303 && swapped.location == "/staff/sign-in")
            let out = try await Self.request(browser, base + "/staff/sign-out", method: "POST", form: ["csrf_token": try #require(home.csrf)], cookies: [SessionPolicy.staffCookieName: id])
            #expect(out.status == 303 && out.setCookie?.contains("Max-Age=0") == true)
            #expect(try await Self.request(browser, base + "/staff", cookies: [SessionPolicy.staffCookieName: id]).location == "/staff/sign-in")
        }
    }

    @Test func aPersonEnrolsTheirOwnSecondFactorOnceAndTheNextSignInAsksTheCode() async throws {
        try await Self.withFront { base, store, browser in
            let id = try await Self.signIn(base, browser, store, ["staff_number": "K07", "display_name": "孙八", "role": "section_chief"])
            let jar = [SessionPolicy.staffCookieName: id]
            let home = try await Self.request(browser, base + "/staff", cookies: jar)
            #expect(home.page.contains("/staff/second-factor"))
            let page = try await Self.request(browser, base + "/staff/second-factor", cookies: jar)
            #expect(page.status == 200 && page.page.contains("otpauth://totp/"))
            // The secret the page shows, as a person types it into the app.
            let shown = try #require(page.page.range(of: "id=\"totp-secret\" class=\"big\">")).upperBound
            let grouped = String(page.page[shown...].prefix { $0 != "<" })
            let secret = try Base32.decode(grouped.filter { !$0.isWhitespace }).get()
            let offer = try #require(page.page.range(of: "name=\"offer\" value=\"")).upperBound
            let sealed = String(page.page[offer...].prefix { $0 != "\"" })
            let token = try #require(page.csrf)
            // Nothing is stored before a code confirms it.
            #expect(try await store.find(staffNumber: "K07")?.hasSecondFactor == false)
            let now = Date()
            let right = TOTP(secret: secret).code(at: now)
            let wrong = try await Self.request(browser, base + "/staff/second-factor", method: "POST", form: ["csrf_token": token, "offer": sealed, "code": right == "000000" ? "111111" : "000000"], cookies: jar)
            #expect(wrong.status == 400 && wrong.page.contains("验证码不正确") && wrong.page.contains(grouped))
            #expect(try await store.find(staffNumber: "K07")?.hasSecondFactor == false)
            // Another person's offer (or a forged one) is no offer: a new secret is shown.
            let forged = try await Self.request(browser, base + "/staff/second-factor", method: "POST", form: ["csrf_token": token, "offer": "AAAA", "code": right], cookies: jar)
            #expect(forged.status == 400 && forged.page.contains("已生成新的密钥") && !forged.page.contains(grouped))
            // The right code binds it; the same form again changes nothing and says it is on.
            let bound = try await Self.request(browser, base + "/staff/second-factor", method: "POST", form: ["csrf_token": token, "offer": sealed, "code": right], cookies: jar)
            #expect(bound.status == 303 && bound.location == "/staff/second-factor?done=1")
            #expect(try await store.find(staffNumber: "K07")?.hasSecondFactor == true)
            let again = try await Self.request(browser, base + "/staff/second-factor", method: "POST", form: ["csrf_token": token, "offer": sealed, "code": right], cookies: jar)
            #expect(again.status == 303)
            let on = try await Self.request(browser, base + "/staff/second-factor", cookies: jar)
            #expect(on.page.contains("动态验证码已启用") && !on.page.contains("otpauth://"))
            // The enrolment code is used: it cannot also open a session.
            let user = try #require(try await store.find(staffNumber: "K07"))
            #expect(try await store.verifyTOTP(user.id, code: right, now: now) == false)
            // The next sign-in asks for the code.
            let form = try await Self.request(browser, base + "/staff/sign-in")
            let visitor = [SessionPolicy.visitorCookieName: try #require(form.cookie(SessionPolicy.visitorCookieName))]
            let signedIn = try await Self.request(browser, base + "/staff/sign-in", method: "POST", form: ["csrf_token": try #require(form.csrf), "staff_number": "K07", "password": "my own long secret"], cookies: visitor)
            #expect(signedIn.status == 303 && signedIn.location == "/staff/code")
        }
    }

    /// Signs in a person whose password is already their own; the staff cookie's value.
    static func signIn(_ base: String, _ browser: URLSession, _ store: StaffStore, _ fields: [String: String]) async throws -> String {
        let draft = try StaffAccountDraft.validate(fields).get()
        _ = try await store.add(draft, temporaryPassword: "Temp0rary-pass")
        let staff = try #require(try await store.find(staffNumber: draft.staffNumber))
        try await store.changePassword(staff.id, to: "my own long secret")
        let form = try await request(browser, base + "/staff/sign-in")
        let jar = [SessionPolicy.visitorCookieName: try #require(form.cookie(SessionPolicy.visitorCookieName))]
        let signedIn = try await request(browser, base + "/staff/sign-in", method: "POST", form: ["csrf_token": try #require(form.csrf), "staff_number": draft.staffNumber, "password": "my own long secret"], cookies: jar)
        return try #require(signedIn.cookie(SessionPolicy.staffCookieName))
    }

    @Test func aClerkCannotOpenTheWorkListAndAnOfficerIsToldWhenApprovalIsDown() async throws {
        // Approval at a closed port: the officer's list is asked for and answers "try later".
        try await Self.withFront(approvalPort: 1) { base, store, browser in
            let clerk = try await Self.signIn(base, browser, store, ["staff_number": "W0012", "display_name": "李四", "role": "window_clerk", "window": "3"])
            let refused = try await Self.request(browser, base + "/staff/cases", cookies: [SessionPolicy.staffCookieName: clerk])
            #expect(refused.status == 403 && refused.page.contains("无权访问") && refused.page.contains("综合受理窗口"))
            let home = try await Self.request(browser, base + "/staff", cookies: [SessionPolicy.staffCookieName: clerk])
            #expect(home.status == 200 && !home.page.contains("/staff/cases"))

            let officer = try await Self.signIn(base, browser, store, ["staff_number": "G03", "display_name": "赵六", "role": "officer"])
            let officerHome = try await Self.request(browser, base + "/staff", cookies: [SessionPolicy.staffCookieName: officer])
            #expect(officerHome.page.contains("href=\"/staff/cases\""))
            let down = try await Self.request(browser, base + "/staff/cases", cookies: [SessionPolicy.staffCookieName: officer])
            #expect(down.status == 503 && down.page.contains("请稍后再试"))
            // Not signed in: to the sign-in page, as every staff page.
            #expect(try await Self.request(browser, base + "/staff/cases").location == "/staff/sign-in")
        }
        // No approval peer configured: said plainly.
        try await Self.withFront { base, store, browser in
            let officer = try await Self.signIn(base, browser, store, ["staff_number": "G03", "display_name": "赵六", "role": "officer"])
            let unconnected = try await Self.request(browser, base + "/staff/cases", cookies: [SessionPolicy.staffCookieName: officer])
            #expect(unconnected.status == 503 && unconnected.page.contains("未连接审批服务"))
        }
    }

    @Test func theStaffKeyIsTrustedForStaffRolesOnlyAndTokensNameThePerson() throws {
        // What each service lists for the front's staff key (W31): a token of any other role
        // signed with it is refused; the person's own subject, role and department pass.
        let key = TokenSigningKey.generate(issuer: "371302")
        let roles = StaffRole.allCases.map(\.rawValue).joined(separator: "+")
        let verifier = try TokenVerifier(entries: ["371302:\(roles)=\(key.publicKey.rawRepresentation.base64EncodedString())"])
        for role in StaffRole.allCases {
            #expect(Role(rawValue: role.rawValue) != nil, "\(role) is a token role")
        }
        let inspector = try verifier.verify(key.mint(subject: "J07", role: .department, node: "371302", department: "SC-01", lifetime: .seconds(300)))
        #expect(inspector.subject == "J07" && inspector.role == .department && inspector.department == "SC-01")
        for role in [Role.applicant, .peerNode, .integrator] {
            #expect(throws: (any Error).self) { try verifier.verify(key.mint(subject: "x", role: role, node: "371302", lifetime: .seconds(300))) }
        }
    }
}
