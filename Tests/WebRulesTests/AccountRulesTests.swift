import Crypto
import Foundation
import OneSealCore
import Testing
import WebRules

/// A valid resident ID / USCC built with the check characters, so no real person's number appears.
enum Codes {
    static func residentID(_ first17: String = "37130219900101123") -> String {
        first17 + String(ResidentID.checkCharacter(forFirst17: first17)!)
    }
    static func uscc(_ first17: String = "91371302MA3C1234X") -> String {
        first17 + String(UnifiedSocialCreditCode.checkCharacter(forFirst17: first17)!)
    }
    static let today = CivilDate(year: 2026, month: 12, day: 4)!
}

@Suite struct RegistrationTests {
    static func person(_ overrides: [String: String] = [:]) -> [String: String] {
        var fields = ["kind": "person", "name": " 张  三 ", "identity_code": Codes.residentID().lowercased(), "phone": "138 0000 1234",
                      "password": "correct horse battery", "password_confirm": "correct horse battery"]
        for (key, value) in overrides { fields[key] = value }
        return fields
    }

    @Test func aPersonRegistersWithANormalisedCode() throws {
        let registration = try Registration.validate(Self.person(), today: Codes.today).get()
        #expect(registration.kind == .person)
        #expect(registration.name == "张 三")
        #expect(registration.identityCode == Codes.residentID())
        #expect(registration.phone == "13800001234")
        #expect(registration.legalRepresentative == nil)
    }

    @Test func aCompanyNeedsAValidUSCCAndItsLegalRepresentative() throws {
        var fields = Self.person(["kind": "company", "name": "兰山示例有限公司", "identity_code": Codes.uscc()])
        guard case .failure(let errors) = Registration.validate(fields, today: Codes.today) else { Issue.record("no representative accepted"); return }
        #expect(errors.errors[Registration.representativeField] == "请填写法定代表人")
        fields["legal_representative"] = "李四"
        let registration = try Registration.validate(fields, today: Codes.today).get()
        #expect(registration.legalRepresentative == "李四")
        #expect(registration.identityCode == Codes.uscc())
    }

    @Test func eachBadFieldIsNamedInChineseAndPasswordsAreNotEchoed() {
        var id = Array(Codes.residentID())
        id[17] = id[17] == "1" ? "2" : "1"
        let fields = Self.person(["identity_code": String(id), "phone": "2380000123", "name": "", "password_confirm": "other"])
        guard case .failure(let errors) = Registration.validate(fields, today: Codes.today) else { Issue.record("accepted"); return }
        #expect(errors.errors["identity_code"] == "公民身份号码校验位不符，请检查是否输错")
        #expect(errors.errors["phone"] == "手机号码为以13–19开头的11位数字")
        #expect(errors.errors["name"] == "请填写姓名")
        #expect(errors.errors["password_confirm"] == "两次输入的密码不一致")
        #expect(errors.values["password"] == nil && errors.values["password_confirm"] == nil)
    }

    @Test func aCompanyCodeWithABadCheckCharacterIsRefused() {
        var code = Array(Codes.uscc())
        code[17] = code[17] == "0" ? "1" : "0"
        #expect(Registration.identityProblem(String(code), kind: .company, today: Codes.today) == "统一社会信用代码校验不通过，请检查是否输错")
        #expect(Registration.identityProblem("123", kind: .company, today: Codes.today) == "统一社会信用代码为18位字母或数字（现为3位）")
    }

    @Test func sizeLimitsNameTheField() {
        let long = String(repeating: "长", count: 65)
        guard case .failure(let errors) = Registration.validate(Self.person(["name": long]), today: Codes.today) else { Issue.record("accepted"); return }
        #expect(errors.errors["name"] == "姓名最多64个字（现为65个）")
        #expect(errors.values["name"]?.count == 64)
        let password = String(repeating: "密", count: 25)  // 75 bytes: bcrypt would cut it
        #expect(PasswordRule.problem(password, identityCode: "", phone: "") == "密码最多72字节（约24个汉字或72个字母数字）")
    }

    @Test func passwordsMayNotBeShortTrivialOrTheirOwnIDOrPhone() {
        #expect(PasswordRule.problem("short", identityCode: "", phone: "") == "密码至少10个字符")
        #expect(PasswordRule.problem("aaaaaaaaaaaa", identityCode: "", phone: "") == "密码过于简单，请混用不同字符")
        #expect(PasswordRule.problem("x" + Codes.residentID().lowercased(), identityCode: Codes.residentID(), phone: "") == "密码不能包含身份号码或手机号码")
        #expect(PasswordRule.problem("pw13800001234", identityCode: "", phone: "13800001234") == "密码不能包含身份号码或手机号码")
        #expect(PasswordRule.problem("correct horse battery", identityCode: Codes.residentID(), phone: "13800001234") == nil)
    }

    @Test func invisibleCharactersInANameAreRefused() {
        #expect(AccountText.nameProblem("张\u{200B}三", label: "姓名") == "姓名含有不可见字符，请重新输入")
    }

    @Test func signInChecksShapeOnly() throws {
        let ok = try SignIn.validate(["identity_code": "９１３７１３０２ma3c1234x" + "0", "password": "p"]).get()
        #expect(ok.identityCode == "91371302MA3C1234X0")
        guard case .failure(let errors) = SignIn.validate(["identity_code": "12", "password": ""]) else { Issue.record("accepted"); return }
        #expect(errors.errors["identity_code"] == "公民身份号码或统一社会信用代码为18位")
        #expect(errors.errors["password"] == "请填写密码")
    }
}

@Suite struct SessionRulesTests {
    @Test func idsAreRandomBase64URLAndOnlyTheirHashIsStored() {
        let a = SessionID.generate(), b = SessionID.generate()
        #expect(a != b)
        #expect(a.text.count == SessionID.textLength)
        #expect(SessionID(cookie: a.text) == a)
        #expect(a.storageKey == Array(SHA256.hash(data: Array(a.text.utf8))))
        #expect(a.storageKey != Array(a.text.utf8))
        #expect("\(a)".contains(a.text) == false)
    }

    @Test func malformedCookiesAreNoSession() {
        #expect(SessionID(cookie: "") == nil)
        #expect(SessionID(cookie: String(repeating: "A", count: 42)) == nil)
        #expect(SessionID(cookie: String(repeating: "A", count: 42) + "=") == nil)
        #expect(SessionID(cookie: String(repeating: "A", count: 42) + "/") == nil)
    }

    @Test func sessionsExpireWhenIdleAndAtTheirAbsoluteEnd() {
        let policy = SessionPolicy(secure: false)
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(policy.isAlive(created: start, lastSeen: start, now: start.addingTimeInterval(29 * 60)))
        #expect(!policy.isAlive(created: start, lastSeen: start, now: start.addingTimeInterval(31 * 60)))
        let late = start.addingTimeInterval(12 * 3600 + 1)
        #expect(!policy.isAlive(created: start, lastSeen: late.addingTimeInterval(-10), now: late))
    }

    @Test func cookiesAreHttpOnlyLaxAndSecureUnderHTTPS() {
        let id = SessionID.generate()
        let plain = SessionPolicy(secure: false).sessionCookie(id)
        #expect(plain == "oneseal_session=\(id.text); Path=/; Max-Age=43200; HttpOnly; SameSite=Lax")
        #expect(SessionPolicy(secure: true).sessionCookie(id).hasSuffix("; HttpOnly; SameSite=Lax; Secure"))
        #expect(SessionPolicy(secure: true).clearedSessionCookie() == "oneseal_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax; Secure")
    }

    @Test func cookieHeadersParseFirstValueWins() {
        let cookies = SessionPolicy.parseCookies(["a=1; oneseal_session=abc", "oneseal_session=zzz; b"])
        #expect(cookies == ["a": "1", "oneseal_session": "abc"])
    }
}

@Suite struct CSRFTests {
    let tokens = CSRFTokens(derivedFrom: Array(repeating: 9, count: 32))

    @Test func aTokenIsValidOnlyForItsBinding() {
        let session = SessionID.generate(), other = SessionID.generate()
        let token = tokens.token(for: session)
        #expect(tokens.isValid(token, for: session))
        #expect(!tokens.isValid(token, for: other))
        #expect(!tokens.isValid(nil, for: session))
        #expect(!tokens.isValid(token, for: nil))
        #expect(!tokens.isValid("", for: session))
        #expect(!tokens.isValid(String(token.dropLast()) + (token.last == "A" ? "B" : "A"), for: session))
    }

    @Test func anotherKeyMakesOtherTokens() {
        let session = SessionID.generate()
        let other = CSRFTokens(derivedFrom: Array(repeating: 8, count: 32))
        #expect(!other.isValid(tokens.token(for: session), for: session))
        #expect(CSRFTokens(derivedFrom: Array(repeating: 9, count: 32)).isValid(tokens.token(for: session), for: session))
    }
}

@Suite struct SignInThrottleTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func anAccountIsBlockedAfterFiveFailuresUntilTheWindowEnds() {
        var throttle = SignInThrottle()
        for i in 0..<5 {
            #expect(throttle.block(account: "A", address: "10.0.0.\(i)", now: start) == nil)
            throttle.recordFailure(account: "A", address: "10.0.0.\(i)", now: start)
        }
        #expect(throttle.block(account: "A", address: "10.0.0.9", now: start.addingTimeInterval(60)) == .account(until: start.addingTimeInterval(900)))
        #expect(throttle.block(account: "B", address: "10.0.0.9", now: start.addingTimeInterval(60)) == nil)
        #expect(throttle.block(account: "A", address: "10.0.0.9", now: start.addingTimeInterval(901)) == nil)
    }

    @Test func anAddressIsBlockedAfterTwentyFailuresOnAnyAccounts() {
        var throttle = SignInThrottle()
        for i in 0..<20 { throttle.recordFailure(account: "acct\(i)", address: "192.0.2.1", now: start) }
        #expect(throttle.block(account: "fresh", address: "192.0.2.1", now: start) == .address(until: start.addingTimeInterval(900)))
        #expect(throttle.block(account: "fresh", address: "192.0.2.2", now: start) == nil)
    }

    @Test func successClearsTheAccountButNotTheAddress() {
        var throttle = SignInThrottle(limits: .init(perAccount: 2, perAddress: 3, window: 60))
        throttle.recordFailure(account: "A", address: "x", now: start)
        throttle.recordFailure(account: "A", address: "x", now: start)
        #expect(throttle.block(account: "A", address: "y", now: start) != nil)
        throttle.recordSuccess(account: "A")
        #expect(throttle.block(account: "A", address: "y", now: start) == nil)
        throttle.recordFailure(account: "B", address: "x", now: start)
        #expect(throttle.block(account: "C", address: "x", now: start) == .address(until: start.addingTimeInterval(60)))
    }

    @Test func memoryIsBounded() {
        var throttle = SignInThrottle(limits: .standard, capacity: 100)
        for i in 0..<1000 { throttle.recordFailure(account: "a\(i)", address: "b\(i)", now: start.addingTimeInterval(Double(i))) }
        #expect(throttle.trackedKeys <= 100)
        #expect(throttle.block(account: "a999", address: "b999", now: start.addingTimeInterval(999)) == nil)
    }
}

@Suite struct ClientAddressTests {
    @Test func forwardedForIsIgnoredFromAnUntrustedPeer() {
        #expect(ClientAddress.resolve(peer: "203.0.113.9", forwardedFor: ["1.2.3.4"], trustedProxies: ["10.0.0.1"]) == "203.0.113.9")
    }

    @Test func fromATrustedProxyTheRightmostUntrustedHopIsTheClient() {
        let trusted: Set<String> = ["10.0.0.1", "10.0.0.2"]
        // The client forged "6.6.6.6"; the outer proxy appended the real peer it saw.
        #expect(ClientAddress.resolve(peer: "10.0.0.1", forwardedFor: ["6.6.6.6, 198.51.100.7", "10.0.0.2"], trustedProxies: trusted) == "198.51.100.7")
        #expect(ClientAddress.resolve(peer: "10.0.0.1", forwardedFor: [], trustedProxies: trusted) == "10.0.0.1")
        #expect(ClientAddress.resolve(peer: "10.0.0.1", forwardedFor: ["evil.example"], trustedProxies: trusted) == "10.0.0.1")
        #expect(ClientAddress.resolve(peer: "10.0.0.1", forwardedFor: ["2001:db8::7"], trustedProxies: trusted) == "2001:db8::7")
    }

    @Test func theTrustedListIsAddressesOnly() throws {
        #expect(try ClientAddress.parseTrustedProxies(" 10.0.0.1, ::1 ,").get() == ["10.0.0.1", "::1"])
        #expect(ClientAddress.parseTrustedProxies("10.0.0.0/8") == .failure(FieldProblem("10.0.0.0/8")))
        #expect(ClientAddress.parseTrustedProxies("10.0.0.256") == .failure(FieldProblem("10.0.0.256")))
    }
}

@Suite struct RatingFormTests {
    @Test func aGoodRatingNeedsOnlyItsLevel() throws {
        let form = try RatingForm.validate(["level": "5"], reasons: []).get()
        #expect(form == RatingForm(level: 5, reasons: [], comment: ""))
        #expect(!form.isBad)
    }

    @Test func aBadRatingMustSayWhy() throws {
        guard case .failure(let errors) = RatingForm.validate(["level": "1"], reasons: []) else { Issue.record("accepted"); return }
        #expect(errors.errors["reason"] == "不满意时请选择原因或写明情况，以便整改")
        let form = try RatingForm.validate(["level": "2", "comment": " 窗口让我跑了三次 "], reasons: ["办理超时", "多次跑腿", "多次跑腿"]).get()
        #expect(form.isBad)
        #expect(form.reasons == ["多次跑腿", "办理超时"])
        #expect(form.comment == "窗口让我跑了三次")
    }

    @Test func levelsReasonsAndCommentsAreChecked() {
        guard case .failure(let errors) = RatingForm.validate(["level": "9", "comment": String(repeating: "长", count: 501)], reasons: ["随便写的"]) else {
            Issue.record("accepted"); return
        }
        #expect(errors.errors["level"] == "请选择满意程度")
        #expect(errors.errors["comment"] == "评价内容最多500字（现为501字）")
        #expect(errors.errors["reason"] == "请从列出的原因中选择")
    }
}
