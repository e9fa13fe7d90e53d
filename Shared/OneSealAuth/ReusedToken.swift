import Foundation
import Synchronization

/// A process's own bearer token (a relay's, a service calling a peer), minted once and sent again
/// until `reuseFor` has passed, then minted afresh.
///
/// Why: a token minted per call cost an Ed25519 signature on the sender and, because every token
/// was new, a full verification on the receiver, whose cache of accepted tokens (`AcceptedTokens`)
/// it also flooded with tokens used once (#21). Reusing one changes nothing a holder could do: a
/// token is good for its whole lifetime whether it is sent once or a thousand times, and it is
/// renewed while most of its lifetime is still ahead, so a receiver never sees it near expiry.
public final class ReusedToken: Sendable {
    /// How long one token is handed out; keep it well under the token's lifetime.
    public let reuseFor: Duration
    private let mint: @Sendable (Date) throws -> String
    private let current = Mutex<(token: String, mintedAt: Date)?>(nil)

    /// `mint` makes a token valid from the date it is given.
    public init(reuseFor: Duration, mint: @escaping @Sendable (Date) throws -> String) {
        self.reuseFor = reuseFor
        self.mint = mint
    }

    /// The current token, or a new one when it was minted `reuseFor` ago or more (or, after the
    /// clock went back, "later" than now). Two callers renewing at once each mint; the later one stays.
    public func token(now: Date = Date()) throws -> String {
        if let current = current.withLock({ $0 }), now >= current.mintedAt, .seconds(now.timeIntervalSince(current.mintedAt)) < reuseFor {
            return current.token
        }
        let token = try mint(now)
        current.withLock { $0 = (token, now) }
        return token
    }
}
