import Crypto
import Foundation
import OneSealCore
import Testing

@testable import OneSealAuth

/// Issue #15 item 7: lifetimes, times, subject and department are bounded.
@Suite("Token claim limits")
struct TokenClaimLimitTests {
    static let key = TokenSigningKey.generate(issuer: "371300")
    static let verifier = TokenVerifier(trusting: [TrustedTokenKey(key.publicKey, node: "371300")])
    static let now: Int64 = 1_790_000_000
    static var nowDate: Date { Date(timeIntervalSince1970: TimeInterval(now)) }

    static func claims(
        sub: String = "officer-1", role: Role = .officer, dept: String? = nil, iat: Int64 = now, exp: Int64? = nil
    ) -> TokenClaims {
        TokenClaims(sub: sub, role: role.rawValue, node: "371300", dept: dept, iat: iat, exp: exp ?? iat + 600, iss: "371300")
    }

    static func verify(_ claims: TokenClaims) throws -> Caller {
        try Self.verifier.verify(try key.sign(claims), now: nowDate)
    }

    /// Signs raw claims JSON (numbers no `Int64` holds, for instance).
    static func verify(rawClaims json: String) throws -> Caller {
        let header = Base64URL.encode(Data(#"{"alg":"EdDSA","kid":"\#(key.keyID)","typ":"JWT"}"#.utf8))
        let input = header + "." + Base64URL.encode(Data(json.utf8))
        let signature = try key.privateKey.signature(for: Data(input.utf8))
        return try Self.verifier.verify(input + "." + Base64URL.encode(signature), now: nowDate)
    }

    /// The limit table: each role at its maximum is accepted, one second more is refused.
    static let table: [(Role, Int64)] = [
        (.peerNode, 600), (.applicant, 3600), (.integrator, 3600),
        (.windowClerk, 43200), (.officer, 43200), (.sectionChief, 43200), (.deputyDirector, 43200), (.director, 43200),
        (.certificateOperator, 43200), (.department, 43200), (.evaluator, 43200), (.leader, 43200), (.operator, 43200),
    ]

    @Test("every role has a maximum lifetime, enforced to the second")
    func lifetimeTable() throws {
        #expect(Set(Self.table.map(\.0)) == Set(Role.allCases))
        for (role, maximum) in Self.table {
            #expect(TokenLimits.maximumLifetime(for: role) == maximum)
            let dept = role == .department ? "SC-01" : nil
            _ = try Self.verify(Self.claims(role: role, dept: dept, iat: Self.now - 10, exp: Self.now - 10 + maximum))
            #expect(throws: TokenError.self, "\(role) for \(maximum + 1) s") {
                _ = try Self.verify(Self.claims(role: role, dept: dept, iat: Self.now - 10, exp: Self.now - 10 + maximum + 1))
            }
        }
    }

    @Test("the lifetimes today's code mints stay within the limits")
    func mintedLifetimesStillVerify() throws {
        let now = Self.nowDate
        // ServiceRunner's service token, the CLI's per-command token, the bench's operator token,
        // and mint's default for every role.
        for (role, seconds) in [(Role.peerNode, Int64(300)), (.officer, 600), (.certificateOperator, 3600), (.director, 8 * 3600)] {
            _ = try Self.verifier.verify(try Self.key.mint(subject: "x", role: role, node: "371300", lifetime: .seconds(seconds), now: now), now: now)
        }
        for role in Role.allCases {
            let token = try Self.key.mint(subject: "x", role: role, node: "371300", department: role == .department ? "SC-01" : nil, now: now)
            _ = try Self.verifier.verify(token, now: now)
        }
        #expect(throws: TokenError.self) { _ = try Self.key.mint(subject: "x", role: .applicant, node: "371300", lifetime: .seconds(12 * 3600)) }
    }

    @Test("a 100-year lifetime, or exp not after iat, is refused")
    func lifetimeShape() {
        #expect(throws: TokenError.self) { _ = try Self.verify(Self.claims(iat: Self.now, exp: Self.now + 100 * 365 * 86400)) }
        #expect(throws: TokenError.self) { _ = try Self.verify(Self.claims(iat: Self.now, exp: Self.now)) }
        #expect(throws: TokenError.self) { _ = try Self.verify(Self.claims(iat: Self.now, exp: Self.now - 1)) }
    }

    @Test("iat in the future beyond the clock skew is refused; within it, accepted")
    func futureIssuedAt() throws {
        _ = try Self.verify(Self.claims(iat: Self.now + TokenLimits.clockSkew))
        #expect(throws: TokenError.self) { _ = try Self.verify(Self.claims(iat: Self.now + TokenLimits.clockSkew + 1)) }
        #expect(throws: TokenError.self) { _ = try Self.verify(Self.claims(iat: Self.now + 10 * 365 * 86400)) }
    }

    @Test(
        "absurd times are refused, never trap",
        arguments: [
            (Int64(1_790_000_000), Int64(9_000_000_000_000_000_000)), (Int64.min, Int64.max), (Int64.max - 1, Int64.max),
            (Int64(-1), Int64(600)), (Int64(0), Int64(1_790_000_100)),
        ]
    )
    func absurdTimes(_ times: (Int64, Int64)) {
        #expect(throws: TokenError.self) { _ = try Self.verify(Self.claims(iat: times.0, exp: times.1)) }
    }

    @Test("times no Int64 holds, or not integers, are refused as malformed")
    func unrepresentableTimes() {
        for exp in ["9e18", "1e30", "99999999999999999999999", "1790000600.5", "\"1790000600\""] {
            let json = #"{"exp":\#(exp),"iat":1790000000,"iss":"371300","node":"371300","role":"officer","sub":"o1"}"#
            #expect(throws: TokenError.self, "exp \(exp)") { _ = try Self.verify(rawClaims: json) }
        }
    }

    @Test("the subject must be 1...128 characters of letters, digits and @ . _ - : +")
    func subject() throws {
        for good in ["clerk-07", "intake@371302", "370102199003071234", "37010219900307123X", "91370100MA3C12345X", String(repeating: "a", count: 128)] {
            #expect(try Self.verify(Self.claims(sub: good)).subject == good)
        }
        for bad in ["", String(repeating: "a", count: 129), "a b", "o1\nlevel=critical", "o\"1", "张三", "o1\u{0}"] {
            #expect(throws: TokenError.self, "\(bad.debugDescription)") { _ = try Self.verify(Self.claims(sub: bad)) }
        }
    }

    @Test("the department must be 1...64 characters of letters, digits and . _ -")
    func department() throws {
        #expect(try Self.verify(Self.claims(role: .department, dept: "SC-01")).department == "SC-01")
        for bad in ["", String(repeating: "d", count: 65), "SC 01", "SC-01\n"] {
            #expect(throws: TokenError.self) { _ = try Self.verify(Self.claims(role: .department, dept: bad)) }
        }
    }

    @Test("a token over 4 KiB is refused before it is decoded")
    func size() throws {
        let huge = String(repeating: "A", count: TokenLimits.maximumTokenBytes) + ".e30.AA"
        #expect(throws: TokenError.malformed("longer than \(TokenLimits.maximumTokenBytes) bytes")) {
            _ = try Self.verifier.verify(huge, now: Self.nowDate)
        }
    }
}
