import Crypto
import Foundation
import OneSealCore

/// A session of a signed-in applicant: a random id in an HttpOnly cookie, kept server-side as its
/// SHA-256 only (a copy of the front's database gives no one a working cookie). The id carries no
/// meaning, so nothing can be forged by editing it: an id the database does not know is no session.
public struct SessionID: Sendable, Hashable, CustomStringConvertible {
    /// 32 random bytes as unpadded base64url: 43 characters.
    public let text: String

    public static let byteCount = 32
    public static let textLength = 43

    /// A fresh id from the system's cryptographic generator.
    public static func generate() -> SessionID {
        var generator = SystemRandomNumberGenerator()
        return SessionID(bytes: (0..<byteCount).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    public init(bytes: [UInt8]) {
        precondition(bytes.count == Self.byteCount)
        self.text = Base64URL.encode(bytes)
    }

    /// A cookie value that has the shape of an id, or nil (and the request is anonymous).
    public init?(cookie: String) {
        guard cookie.utf8.count == Self.textLength, cookie.utf8.allSatisfy(Base64URL.isAlphabet) else { return nil }
        self.text = cookie
    }

    /// What the database stores and looks up: SHA-256 of the id.
    public var storageKey: [UInt8] { Array(SHA256.hash(data: Array(text.utf8))) }

    /// Never the id itself in a log line.
    public var description: String { "session(…)" }
}

/// How long a session lives and how its cookie is written.
public struct SessionPolicy: Sendable, Hashable {
    /// Ended after this much time without a request (a shared computer in a hall's self-service
    /// corner is the case to think of).
    public var idleTimeout: TimeInterval = 30 * 60
    /// Ended this long after sign-in whatever happens.
    public var absoluteTimeout: TimeInterval = 12 * 3600
    /// `Secure` on every cookie: set whenever the front serves HTTPS itself or says its public URL
    /// is https (a terminator in front).
    public var secure: Bool

    public static let cookieName = "oneseal_session"
    /// The anonymous visitor's CSRF binding (sign-in and registration forms, before any session).
    public static let visitorCookieName = "oneseal_visitor"

    public init(secure: Bool) {
        self.secure = secure
    }

    /// The staff session's cookie (#19, W33), apart from the applicant's so neither can stand
    /// for the other.
    public static let staffCookieName = "oneseal_staff"

    /// Staff sessions: 30 minutes idle (a window PC left while the clerk steps away), 10 hours
    /// after sign-in (a working day with its lunch break; the next day starts with a sign-in).
    public static func staff(secure: Bool) -> SessionPolicy {
        var policy = SessionPolicy(secure: secure)
        policy.idleTimeout = 30 * 60
        policy.absoluteTimeout = 10 * 3600
        return policy
    }

    /// The staff cookie: `Path=/staff` (never sent to the public pages) and `SameSite=Strict`
    /// (staff do not arrive from QR codes or other sites' links, so no cross-site request ever
    /// carries it, not even a top-level GET).
    public func staffSessionCookie(_ id: SessionID) -> String {
        "\(Self.staffCookieName)=\(id.text); Path=/staff; Max-Age=\(Int(absoluteTimeout)); HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
    }

    public func clearedStaffSessionCookie() -> String {
        "\(Self.staffCookieName)=; Path=/staff; Max-Age=0; HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
    }

    /// Whether a session created at `created` and last used at `lastSeen` is still alive at `now`.
    public func isAlive(created: Date, lastSeen: Date, now: Date) -> Bool {
        now.timeIntervalSince(created) < absoluteTimeout && now.timeIntervalSince(lastSeen) < idleTimeout && now >= created.addingTimeInterval(-60)
    }

    /// The session cookie: HttpOnly (no script reads it), SameSite=Lax (sent on top-level GET
    /// navigations from a QR link or a bookmark, not on another site's POST), the whole site, and
    /// an expiry at the absolute timeout.
    public func sessionCookie(_ id: SessionID) -> String {
        cookie(Self.cookieName, value: id.text, maxAge: Int(absoluteTimeout))
    }

    /// The visitor cookie, same attributes, lives a day.
    public func visitorCookie(_ id: SessionID) -> String {
        cookie(Self.visitorCookieName, value: id.text, maxAge: 86400)
    }

    /// Clears the session cookie (sign-out, an expired or unknown session).
    public func clearedSessionCookie() -> String {
        cookie(Self.cookieName, value: "", maxAge: 0)
    }

    func cookie(_ name: String, value: String, maxAge: Int) -> String {
        "\(name)=\(value); Path=/; Max-Age=\(maxAge); HttpOnly; SameSite=Lax" + (secure ? "; Secure" : "")
    }

    /// `Cookie:` header values → name → value (first wins; values are not decoded: ours are base64url).
    public static func parseCookies(_ headers: [String]) -> [String: String] {
        var cookies: [String: String] = [:]
        for header in headers {
            for part in header.split(separator: ";") {
                let pair = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard pair.count == 2 else { continue }
                let name = pair[0].trimmingCharacters(in: .whitespaces)
                if cookies[name] == nil { cookies[name] = pair[1].trimmingCharacters(in: .whitespaces) }
            }
        }
        return cookies
    }
}

/// CSRF tokens: HMAC-SHA256 of the binding (the session id when signed in, the visitor id before)
/// under a key of the front, as a hidden field of every form. Another site can make the browser
/// send the cookie but cannot read it nor the page, so it cannot compute the field. Nothing is
/// stored; a token is valid as long as its binding is.
public struct CSRFTokens: Sendable {
    let key: SymmetricKey

    public static let field = "csrf_token"

    public init(key: SymmetricKey) {
        self.key = key
    }

    /// Derived from the front's data key (HKDF, its own label), so every replica of the front with
    /// the same key file accepts the others' tokens and no second secret needs deploying.
    public init(derivedFrom secret: [UInt8]) {
        self.key = HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: secret), info: Data("oneseal web csrf v1".utf8), outputByteCount: 32)
    }

    public func token(for binding: SessionID) -> String {
        Base64URL.encode(Array(HMAC<SHA256>.authenticationCode(for: Array(("csrf\u{0}" + binding.text).utf8), using: key)))
    }

    /// Constant-time comparison; a missing binding or field is a failure.
    public func isValid(_ token: String?, for binding: SessionID?) -> Bool {
        // An HMAC-SHA256 is 43 characters; nothing longer is decoded.
        guard let token, token.utf8.count <= 64, let binding, let given = Base64URL.decode(token) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(given, authenticating: Array(("csrf\u{0}" + binding.text).utf8), using: key)
    }
}
