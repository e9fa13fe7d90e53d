import Foundation
import OneSealCore
import GRPCCore
import Testing

@testable import OneSealAuth

@Suite("Bearer tokens")
struct TokenTests {
    let key = TokenSigningKey.generate(issuer: "371300")
    var verifier: TokenVerifier { TokenVerifier(trusting: [TrustedTokenKey(key.publicKey, node: "371300"), TrustedTokenKey(key.publicKey, node: "371302")]) }

    @Test("a minted token verifies to the same caller")
    func roundTrip() throws {
        let now = Date(timeIntervalSince1970: 1_790_000_000)
        let token = try key.mint(subject: "clerk-07", role: .windowClerk, node: "371302", lifetime: .seconds(3600), now: now)
        let caller = try verifier.verify(token, now: now.addingTimeInterval(60))
        #expect(caller.subject == "clerk-07")
        #expect(caller.role == .windowClerk)
        #expect(caller.node == "371302")
        #expect(caller.department == nil)
        #expect(caller.expiresAt == now.addingTimeInterval(3600))
    }

    @Test("an expired token is refused with the expiry time")
    func expired() throws {
        let now = Date(timeIntervalSince1970: 1_790_000_000)
        let token = try key.mint(subject: "o1", role: .officer, node: "371300", lifetime: .seconds(60), now: now)
        #expect(throws: TokenError.expired(at: now.addingTimeInterval(60))) {
            _ = try verifier.verify(token, now: now.addingTimeInterval(3600))
        }
    }

    @Test("a token signed by another key, or tampered with, is refused")
    func forged() throws {
        let stranger = TokenSigningKey.generate(issuer: "999999")
        let foreign = try stranger.mint(subject: "x", role: .director, node: "371300")
        #expect(throws: TokenError.unknownKey(stranger.keyID)) { _ = try verifier.verify(foreign) }

        let token = try key.mint(subject: "o1", role: .officer, node: "371300")
        var parts = token.split(separator: ".").map(String.init)
        // Swap in claims that promote the caller to director; the signature no longer matches.
        let claims = #"{"exp":4000000000,"iat":1000000000,"iss":"371300","node":"371300","role":"director","sub":"o1"}"#
        parts[1] = Base64URL.encode(Data(claims.utf8))
        #expect(throws: TokenError.badSignature) { _ = try verifier.verify(parts.joined(separator: ".")) }
        #expect(throws: TokenError.malformed("expected three dot-separated parts")) { _ = try verifier.verify("abc") }
    }

    @Test("an accepted token is verified once: later calls get the same caller, its lifetime is still checked, a changed byte is not it")
    func acceptedTokensAreRemembered() throws {
        let verifier = self.verifier
        let now = Date(timeIntervalSince1970: 1_790_000_000)
        let token = try key.mint(subject: "clerk-07", role: .windowClerk, node: "371302", lifetime: .seconds(3600), now: now)
        let first = try verifier.verify(token, now: now)
        #expect(verifier.accepted.count == 1)
        let second = try verifier.verify(token, now: now.addingTimeInterval(600))
        #expect(second == first)
        #expect(verifier.accepted.count == 1)
        // Remembered, but past its expiry it is refused like any expired token.
        #expect(throws: TokenError.expired(at: now.addingTimeInterval(3600))) {
            _ = try verifier.verify(token, now: now.addingTimeInterval(7200))
        }
        // The same claims under a changed signature are a different text: checked in full, refused.
        var parts = token.split(separator: ".").map(String.init)
        var signature = Base64URL.decode(parts[2]) ?? []
        signature[0] ^= 0x01
        parts[2] = Base64URL.encode(Data(signature))
        #expect(throws: TokenError.badSignature) { _ = try verifier.verify(parts.joined(separator: "."), now: now) }
        // Refused tokens are not remembered.
        #expect(verifier.accepted.count == 1)
    }

    @Test("the accepted-token memory is bounded: when full, expired tokens go first, then all")
    func acceptedTokensAreBounded() throws {
        let memory = AcceptedTokens(capacity: 2)
        func claims(exp: Int64) -> TokenClaims { TokenClaims(sub: "o1", role: "officer", node: "371300", dept: nil, iat: exp - 60, exp: exp, iss: "371300") }
        let now = Date(timeIntervalSince1970: 1_790_000_000)
        memory.remember("a", claims: claims(exp: 1_789_999_000), role: .officer, now: now, leeway: 0)  // already expired
        memory.remember("b", claims: claims(exp: 1_790_003_600), role: .officer, now: now, leeway: 0)
        memory.remember("c", claims: claims(exp: 1_790_003_600), role: .officer, now: now, leeway: 0)
        #expect(memory.lookup("a") == nil)
        #expect(memory.lookup("b") != nil && memory.lookup("c") != nil)
        memory.remember("d", claims: claims(exp: 1_790_003_600), role: .officer, now: now, leeway: 0)
        #expect(memory.count == 1)
        #expect(memory.lookup("d") != nil)
    }

    @Test("key files round-trip through base64")
    func keyFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("oneseal-key-\(UUID().uuidString)").path
        try key.base64.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let loaded = try TokenSigningKey(contentsOfFile: path, issuer: "371300")
        #expect(loaded.keyID == key.keyID)
    }

    @Test("division codes know their parents")
    func divisions() {
        #expect(DivisionCode.parent(of: "371302") == "371300")
        #expect(DivisionCode.parent(of: "371300") == "370000")
        #expect(DivisionCode.parent(of: "370000") == nil)
        #expect(DivisionCode.isSameOrAncestor("371300", of: "371302"))
        #expect(!DivisionCode.isSameOrAncestor("371302", of: "371300"))
        #expect(!DivisionCode.isValid("37130"))
    }
}

@Suite("Access policy")
struct AccessPolicyTests {
    static let decide = MethodDescriptor(fullyQualifiedService: "oneseal.approval.v1.ApprovalService", method: "Decide")
    static let figures = MethodDescriptor(fullyQualifiedService: "oneseal.evaluation.v1.EvaluationService", method: "EfficiencyFigures")
    static let health = MethodDescriptor(fullyQualifiedService: "oneseal.health.v1.Health", method: "Check")
    static let secret = MethodDescriptor(fullyQualifiedService: "oneseal.approval.v1.ApprovalService", method: "Unlisted")

    let policy = AccessPolicy([
        decide.fullyQualifiedMethod: MethodRule(roles: [.officer, .sectionChief, .deputyDirector, .director]),
        figures.fullyQualifiedMethod: MethodRule(roles: [.evaluator, .leader], scope: .sameNodeOrAncestor),
        health.fullyQualifiedMethod: .public,
    ])

    func caller(_ role: Role, _ node: String) -> Caller {
        Caller(subject: "s", role: role, node: node, expiresAt: .distantFuture)
    }

    @Test("no token is UNAUTHENTICATED, except on public methods")
    func noToken() {
        #expect(policy.authorize(method: Self.decide, caller: nil, tokenError: .missing, localNode: "371300")?.code == .unauthenticated)
        #expect(policy.authorize(method: Self.health, caller: nil, tokenError: .missing, localNode: "371300") == nil)
    }

    @Test("a clerk may not decide; an officer of the node may")
    func roles() {
        let denied = policy.authorize(method: Self.decide, caller: caller(.windowClerk, "371300"), tokenError: nil, localNode: "371300")
        #expect(denied?.code == .permissionDenied)
        #expect(denied?.message.contains("window_clerk") == true)
        #expect(policy.authorize(method: Self.decide, caller: caller(.officer, "371300"), tokenError: nil, localNode: "371300") == nil)
    }

    @Test("a county token cannot decide a city item")
    func wrongNode() {
        let denied = policy.authorize(method: Self.decide, caller: caller(.director, "371302"), tokenError: nil, localNode: "371300")
        #expect(denied?.code == .permissionDenied)
    }

    @Test("the city reads its counties' figures, not the other way round")
    func cityOversight() {
        #expect(policy.authorize(method: Self.figures, caller: caller(.leader, "371300"), tokenError: nil, localNode: "371302") == nil)
        #expect(policy.authorize(method: Self.figures, caller: caller(.leader, "371302"), tokenError: nil, localNode: "371300")?.code == .permissionDenied)
    }

    @Test("a method missing from the table is denied to everyone")
    func failClosed() {
        #expect(policy.authorize(method: Self.secret, caller: caller(.director, "371300"), tokenError: nil, localNode: "371300")?.code == .permissionDenied)
    }
}
