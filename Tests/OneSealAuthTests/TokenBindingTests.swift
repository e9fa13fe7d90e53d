import Crypto
import Foundation
import Testing

@testable import OneSealAuth

/// Issue #15 item 6: a trusted key vouches only for the node (and roles) it is bound to.
@Suite("Token keys are bound to a node and roles")
struct TokenBindingTests {
    static let city = TokenSigningKey.generate(issuer: "371300")
    static let county = TokenSigningKey.generate(issuer: "371302")
    /// An operator key of the county: may mint operator and node tokens there, nothing else.
    static let countyOps = TokenSigningKey.generate(issuer: "371302")
    static let now = Date(timeIntervalSince1970: 1_790_000_000)

    static let verifier = TokenVerifier(trusting: [
        TrustedTokenKey(city.publicKey, node: "371300"),
        TrustedTokenKey(county.publicKey, node: "371302"),
        TrustedTokenKey(countyOps.publicKey, node: "371302", roles: [.operator, .peerNode]),
    ])

    struct Row: Sendable, CustomTestStringConvertible {
        var signer: String
        var node: String
        var role: Role
        var accepted: Bool
        var testDescription: String { "\(signer) key, \(role.rawValue)@\(node) → \(accepted ? "accepted" : "refused")" }
        var key: TokenSigningKey { ["city": TokenBindingTests.city, "county": TokenBindingTests.county, "countyOps": TokenBindingTests.countyOps][signer]! }
    }

    static let rows: [Row] = [
        Row(signer: "city", node: "371300", role: .director, accepted: true),
        Row(signer: "city", node: "371300", role: .peerNode, accepted: true),
        Row(signer: "city", node: "371302", role: .officer, accepted: false),  // the city's key cannot speak for its county either
        Row(signer: "county", node: "371302", role: .officer, accepted: true),
        Row(signer: "county", node: "371300", role: .peerNode, accepted: false),  // the reported hole
        Row(signer: "county", node: "371300", role: .director, accepted: false),
        Row(signer: "county", node: "370000", role: .leader, accepted: false),  // nor for its province
        Row(signer: "countyOps", node: "371302", role: .operator, accepted: true),
        Row(signer: "countyOps", node: "371302", role: .peerNode, accepted: true),
        Row(signer: "countyOps", node: "371302", role: .director, accepted: false),  // a role it was not given
        Row(signer: "countyOps", node: "371302", role: .applicant, accepted: false),
        Row(signer: "countyOps", node: "371300", role: .operator, accepted: false),
    ]

    @Test("a key vouches only for its own node and roles", arguments: rows)
    func binding(_ row: Row) throws {
        let token = try row.key.mint(subject: "s-1", role: row.role, node: row.node, lifetime: .seconds(300), now: Self.now)
        if row.accepted {
            let caller = try Self.verifier.verify(token, now: Self.now)
            #expect(caller.node == row.node && caller.role == row.role)
        } else {
            #expect(throws: TokenError.keyNotTrusted(kid: row.key.keyID, node: row.node, role: row.role.rawValue)) {
                _ = try Self.verifier.verify(token, now: Self.now)
            }
        }
    }

    @Test("configuration entries: NODE=KEY and NODE:role+role=KEY")
    func entries() throws {
        let base64 = Self.county.publicKey.rawRepresentation.base64EncodedString()
        let all = try TrustedTokenKey(entry: "371302=\(base64)")
        #expect(all.node == "371302" && all.roles == nil && all.keyID == Self.county.keyID)
        let some = try TrustedTokenKey(entry: " 371302:node+operator = \(base64) ")
        #expect(some.roles == [.peerNode, .operator])
        #expect(some.allows(node: "371302", role: .operator) && !some.allows(node: "371302", role: .officer))
    }

    @Test(
        "a bad entry is refused with a reason",
        arguments: [
            "BARE", "37130=KEY", "city=KEY", "371302:boss=KEY", "371302:=KEY", "371302:node+=KEY", "371302=notbase64!", "371302=AAAA",
        ]
    )
    func badEntries(_ entry: String) {
        let base64 = Self.county.publicKey.rawRepresentation.base64EncodedString()
        let text = entry == "BARE" ? base64 : entry.replacingOccurrences(of: "KEY", with: base64)
        #expect(throws: TrustedTokenKey.EntryError.self) { _ = try TrustedTokenKey(entry: text) }
    }
}
