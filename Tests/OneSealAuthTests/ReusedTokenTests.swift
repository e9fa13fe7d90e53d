import Foundation
import Synchronization
import Testing

@testable import OneSealAuth

@Suite("A process's own token, reused")
struct ReusedTokenTests {
    @Test("one token for reuseFor, then a new one minted at the time asked; a clock gone back mints afresh; each verifies once")
    func reusedThenRenewed() throws {
        let key = TokenSigningKey.generate(issuer: "371302")
        let verifier = TokenVerifier(trusting: [TrustedTokenKey(key.publicKey, node: "371302")])
        let minted = Mutex<[Date]>([])
        let reused = ReusedToken(reuseFor: .seconds(60)) { now in
            minted.withLock { $0.append(now) }
            return try key.mint(subject: "approval@371302", role: .peerNode, node: "371302", lifetime: .seconds(300), now: now)
        }
        let start = Date(timeIntervalSince1970: 1_790_000_000)
        let first = try reused.token(now: start)
        #expect(try reused.token(now: start.addingTimeInterval(30)) == first)
        #expect(try reused.token(now: start.addingTimeInterval(59.9)) == first)
        // Every use verifies (the receiver's cache answers after the first).
        #expect(try verifier.verify(first, now: start.addingTimeInterval(59.9)).subject == "approval@371302")
        #expect(verifier.accepted.count == 1)

        let second = try reused.token(now: start.addingTimeInterval(60))
        #expect(second != first)
        #expect(try reused.token(now: start.addingTimeInterval(61)) == second)
        #expect(try verifier.verify(second, now: start.addingTimeInterval(61)).expiresAt == start.addingTimeInterval(360))

        let back = try reused.token(now: start.addingTimeInterval(10))
        #expect(back != second)
        #expect(minted.withLock { $0 } == [start, start.addingTimeInterval(60), start.addingTimeInterval(10)])
    }
}
