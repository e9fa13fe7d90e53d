import Crypto
import Foundation
import Synchronization
import OneSealCore

/// Signed bearer tokens: compact JWS (`header.claims.signature`, base64url) signed with Ed25519
/// (`alg: EdDSA`), so any JWT library can read them and any node can verify them with a public key.
///
/// Claims: `sub`, `role`, `node`, `dept` (optional), `iat`, `exp`, `iss`. The header's `kid` names
/// the signing key so a verifier can trust several (its own node's and its peers').
public struct TokenClaims: Codable, Sendable, Hashable {
    public var sub: String
    public var role: String
    public var node: String
    public var dept: String?
    public var iat: Int64
    public var exp: Int64
    public var iss: String
}

/// Why a token was not accepted; every case maps to UNAUTHENTICATED with this text.
public enum TokenError: Error, Sendable, Hashable, CustomStringConvertible {
    case missing
    case notBearer
    case malformed(String)
    case unknownKey(String)
    case badSignature
    case expired(at: Date)
    case unknownRole(String)
    case invalidNode(String)
    /// The key is trusted, but not for this node or this role (issue #15 item 6).
    case keyNotTrusted(kid: String, node: String, role: String)
    /// `iat`/`exp` out of range, in the wrong order, or spanning more than the role allows.
    case badLifetime(String)
    case invalidSubject(String)
    case invalidDepartment(String)

    public var description: String {
        switch self {
        case .missing: return "missing 'authorization' metadata: send 'Bearer <token>'"
        case .notBearer: return "'authorization' metadata must be 'Bearer <token>'"
        case .malformed(let why): return "malformed bearer token: \(why)"
        case .unknownKey(let kid): return "token signed by unknown key '\(kid)'"
        case .badSignature: return "token signature does not verify"
        case .expired(let date): return "token expired at \(ISO8601DateFormatter().string(from: date))"
        case .unknownRole(let role): return "token role '\(role)' is not a OneSeal role"
        case .invalidNode(let node): return "token node '\(node)' is not a 6-digit division code"
        case .keyNotTrusted(let kid, let node, let role):
            return "key '\(kid)' is not trusted to issue '\(role)' tokens for node \(node)"
        case .badLifetime(let why): return "token lifetime refused: \(why)"
        case .invalidSubject(let why): return "token subject refused: \(why)"
        case .invalidDepartment(let why): return "token department refused: \(why)"
        }
    }
}

/// How long a token of each role may live, and the other bounds a verifier holds every token to.
///
/// A stolen bearer token is good until it expires, so the lifetime is the window of a theft (there
/// is no revocation list): a service token lives minutes (services mint a fresh one every call,
/// 300 s), a member of staff's a shift, an applicant's one visit. The limits are on `exp - iat`
/// as signed, so a token minted with a longer lifetime is refused even while it is young.
public enum TokenLimits {
    /// Largest compact token accepted, checked before anything is decoded: today's tokens are
    /// ~400 bytes; 4 KiB leaves room for long subjects without letting a caller make the verifier
    /// base64-decode and JSON-parse megabytes.
    public static let maximumTokenBytes = 4096
    /// Clock difference tolerated between nodes (expiry, and `iat` in the future).
    public static let clockSkew: Int64 = 60
    /// `sub`: 1...128 characters of `A-Z a-z 0-9 @ . _ - : +` — staff numbers, `intake@371302`,
    /// 18-character resident IDs and USCCs. No spaces, controls or quotes, so a subject can
    /// never forge a log field or a line.
    public static let maximumSubjectLength = 128
    /// `dept`: 1...64 characters of `A-Z a-z 0-9 . _ -` (department codes such as `SC-01`).
    public static let maximumDepartmentLength = 64
    /// Any `iat` or `exp` outside 2000-01-01 ... 2100-01-01 is nonsense (or an attempt to overflow
    /// the arithmetic below): refused before any subtraction, so `exp = 9e18` cannot trap.
    public static let earliestTime: Int64 = 946_684_800
    public static let latestTime: Int64 = 4_102_444_800

    /// The longest `exp - iat` a token of `role` may carry.
    ///
    /// - node (service-to-service): 10 min — services mint 300 s tokens for each call.
    /// - applicant, integrator: 1 h — one visit of a citizen, one batch of an outside system.
    /// - staff (every other role): 12 h — one shift; the CLI mints 10 min, `oneseal token mint`
    ///   8 h by default, the local cluster's front-end 12 h.
    public static func maximumLifetime(for role: Role) -> Int64 {
        switch role {
        case .peerNode: return 600
        case .applicant, .integrator: return 3600
        case .windowClerk, .officer, .sectionChief, .deputyDirector, .director, .certificateOperator, .department,
            .evaluator, .leader, .operator:
            return 12 * 3600
        }
    }

    /// The lifetime `mint` gives when none is asked for: 8 h, or the role's maximum if shorter.
    public static func defaultLifetime(for role: Role) -> Int64 { min(8 * 3600, self.maximumLifetime(for: role)) }

    static func isSubjectCharacter(_ c: Character) -> Bool {
        c.isASCII && (c.isLetter || c.isNumber || "@._-:+".contains(c))
    }

    static func isDepartmentCharacter(_ c: Character) -> Bool {
        c.isASCII && (c.isLetter || c.isNumber || "._-".contains(c))
    }
}

/// An Ed25519 key that mints tokens. Key files hold the 32-byte private key in base64.
public struct TokenSigningKey: Sendable {
    public let privateKey: Curve25519.Signing.PrivateKey
    public let issuer: String

    public init(privateKey: Curve25519.Signing.PrivateKey, issuer: String) {
        self.privateKey = privateKey
        self.issuer = issuer
    }

    /// Reads a key file written by `oneseal keys generate` (base64 of the raw 32-byte key).
    public init(contentsOfFile path: String, issuer: String) throws {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        try self.init(base64: text, issuer: issuer)
    }

    public init(base64: String, issuer: String) throws {
        guard let raw = Data(base64Encoded: base64.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw TokenError.malformed("signing key is not base64")
        }
        self.init(privateKey: try Curve25519.Signing.PrivateKey(rawRepresentation: raw), issuer: issuer)
    }

    public static func generate(issuer: String) -> TokenSigningKey {
        TokenSigningKey(privateKey: Curve25519.Signing.PrivateKey(), issuer: issuer)
    }

    public var base64: String { self.privateKey.rawRepresentation.base64EncodedString() }
    public var publicKey: Curve25519.Signing.PublicKey { self.privateKey.publicKey }
    public var keyID: String { TokenVerifier.keyID(of: self.publicKey) }

    /// Mints a token valid for `lifetime` from `now` (default: `TokenLimits.defaultLifetime`).
    ///
    /// A lifetime longer than the role allows is refused here, so a caller learns it when minting
    /// rather than from an UNAUTHENTICATED answer later.
    public func mint(
        subject: String,
        role: Role,
        node: String,
        department: String? = nil,
        lifetime: Duration? = nil,
        now: Date = Date()
    ) throws -> String {
        let seconds = lifetime?.components.seconds ?? TokenLimits.defaultLifetime(for: role)
        guard seconds > 0, seconds <= TokenLimits.maximumLifetime(for: role) else {
            throw TokenError.badLifetime(
                "\(seconds) s asked for a '\(role.rawValue)' token; allowed 1...\(TokenLimits.maximumLifetime(for: role)) s"
            )
        }
        let iat = Int64(now.timeIntervalSince1970)
        let claims = TokenClaims(
            sub: subject, role: role.rawValue, node: node, dept: department,
            iat: iat, exp: iat + seconds, iss: self.issuer
        )
        return try self.sign(claims)
    }

    /// Signs arbitrary claims as they are: for tests that need tokens `mint` would not make.
    func sign(_ claims: TokenClaims) throws -> String {
        let header = ["alg": "EdDSA", "typ": "JWT", "kid": self.keyID]
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let signingInput = Base64URL.encode(try encoder.encode(header)) + "." + Base64URL.encode(try encoder.encode(claims))
        let signature = try self.privateKey.signature(for: Data(signingInput.utf8))
        return signingInput + "." + Base64URL.encode(signature)
    }
}

/// A public key a node trusts, and what it is trusted for: tokens of one node, in some roles.
///
/// Binding a key to a node is what stops a county's key from vouching for the city (issue #15
/// item 6): a signature only proves who signed, the binding says what that signer may claim.
/// Written in configuration as `NODE=KEY` (every role) or `NODE:role+role=KEY`, e.g.
/// `371302=q2s…=` or `371302:node+operator=q2s…=` (docs/operators.md).
public struct TrustedTokenKey: Sendable {
    public var publicKey: Curve25519.Signing.PublicKey
    public var node: String
    /// The roles it may issue; nil = every role.
    public var roles: Set<Role>?

    public init(_ publicKey: Curve25519.Signing.PublicKey, node: String, roles: Set<Role>? = nil) {
        self.publicKey = publicKey
        self.node = node
        self.roles = roles
    }

    public var keyID: String { TokenVerifier.keyID(of: self.publicKey) }

    public func allows(node: String, role: Role) -> Bool {
        node == self.node && (self.roles?.contains(role) ?? true)
    }

    /// Why a configuration entry was refused, in an operator's terms.
    public struct EntryError: Error, Sendable, Hashable, CustomStringConvertible {
        public var description: String
    }

    /// Parses one configuration entry; the error text says what is wrong in operator's terms.
    public init(entry: String) throws(EntryError) {
        let text = entry.trimmingCharacters(in: .whitespaces)
        // Split at the first '=': base64 keys end in '=' themselves.
        guard let equals = text.firstIndex(of: "=") else {
            throw EntryError(description: "'\(text.prefix(12))…' is not NODE=KEY or NODE:role+role=KEY (a bare key is no longer accepted: say which node it issues for)")
        }
        let binding = text[..<equals].trimmingCharacters(in: .whitespaces)
        let base64 = text[text.index(after: equals)...].trimmingCharacters(in: .whitespaces)
        let parts = binding.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        let node = String(parts[0])
        guard DivisionCode.isValid(node) else {
            // A bare key ends in '=' too, so it lands here: say what to write, not just what is wrong.
            throw EntryError(description: "'\(node.prefix(12))\(node.count > 12 ? "…" : "")' is not a 6-digit node code: write NODE=KEY or NODE:role+role=KEY (a bare key is no longer accepted: say which node it issues for)")
        }
        var roles: Set<Role>?
        if parts.count == 2 {
            var named = Set<Role>()
            for name in parts[1].split(separator: "+", omittingEmptySubsequences: false) {
                guard let role = Role(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
                    throw EntryError(description: "'\(binding)': '\(name)' is not a role; one of \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                named.insert(role)
            }
            roles = named
        }
        let key: Curve25519.Signing.PublicKey
        do { key = try TokenVerifier.publicKey(base64: base64) } catch {
            throw EntryError(description: "'\(binding)=\(base64.prefix(12))…': the key is not a base64 Ed25519 public key (32 bytes)")
        }
        self.init(key, node: node, roles: roles)
    }
}

/// Verifies tokens against a set of trusted public keys (this node's and its peers'), each bound
/// to the node and roles it may issue for.
///
/// Hand-written rather than jwt-kit: see docs/decisions.md ("Bearer tokens stay hand-verified").
/// Only `alg: EdDSA` exists here, so there is no algorithm to confuse; the signature check is
/// swift-crypto's; everything else is the claim policy below, which no library would hold for us.
public struct TokenVerifier: Sendable {
    private let keys: [String: (key: Curve25519.Signing.PublicKey, bindings: [TrustedTokenKey])]
    /// Tokens this verifier has accepted (shared by its copies, like `keys`, which never change).
    let accepted = AcceptedTokens()
    /// Tolerated clock difference between nodes.
    public var leeway: TimeInterval = TimeInterval(TokenLimits.clockSkew)

    /// One key may appear in several entries (e.g. a development key bound to both nodes); a
    /// token is accepted if any of its bindings allows the token's node and role.
    public init(trusting keys: [TrustedTokenKey]) {
        var byID: [String: (key: Curve25519.Signing.PublicKey, bindings: [TrustedTokenKey])] = [:]
        for trusted in keys {
            byID[trusted.keyID, default: (trusted.publicKey, [])].bindings.append(trusted)
        }
        self.keys = byID
    }

    /// Parses configuration entries (`NODE=KEY`, `NODE:role+role=KEY`).
    public init(entries: [String]) throws(TrustedTokenKey.EntryError) {
        var trusted: [TrustedTokenKey] = []
        for entry in entries { trusted.append(try TrustedTokenKey(entry: entry)) }
        self.init(trusting: trusted)
    }

    public var isEmpty: Bool { self.keys.isEmpty }

    /// A key id: the first 16 hex digits of SHA-256 over the raw public key.
    public static func keyID(of key: Curve25519.Signing.PublicKey) -> String {
        Hex.lowercase(SHA256.hash(data: key.rawRepresentation).prefix(8))
    }

    /// Parses a public key written as base64 of its 32 raw bytes.
    public static func publicKey(base64: String) throws -> Curve25519.Signing.PublicKey {
        guard let raw = Data(base64Encoded: base64.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw TokenError.malformed("public key is not base64")
        }
        return try Curve25519.Signing.PublicKey(rawRepresentation: raw)
    }

    public func verify(_ token: String, now: Date = Date()) throws(TokenError) -> Caller {
        // Size first: nothing is decoded from a token that could not be one of ours.
        guard token.utf8.count <= TokenLimits.maximumTokenBytes else {
            throw .malformed("longer than \(TokenLimits.maximumTokenBytes) bytes")
        }
        // A token accepted before, byte for byte, needs no second signature check, decode or
        // binding check (the trusted keys never change in this verifier): only its lifetime is
        // checked again, against `now`. An Ed25519 verification was ≈ 10 % of a service's CPU (#21).
        if let known = accepted.lookup(token) {
            let expiry = try Self.checkLifetime(known.claims, role: known.role, now: now, leeway: self.leeway)
            return Caller(subject: known.claims.sub, role: known.role, node: known.claims.node, department: known.claims.dept, expiresAt: expiry)
        }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw .malformed("expected three dot-separated parts") }
        guard let headerData = Base64URL.decode(parts[0]).map({ Data($0) }), let claimsData = Base64URL.decode(parts[1]).map({ Data($0) }),
            let signature = Base64URL.decode(parts[2]).map({ Data($0) })
        else { throw .malformed("a part is not base64url") }
        guard let header = try? JSONDecoder().decode([String: String].self, from: headerData) else {
            throw .malformed("header is not a JSON object of strings")
        }
        guard header["alg"] == "EdDSA" else { throw .malformed("alg must be EdDSA") }
        let kid = header["kid"] ?? ""
        guard let trusted = self.keys[kid] else { throw .unknownKey(String(kid.prefix(32))) }
        let signingInput = Data((parts[0] + "." + parts[1]).utf8)
        guard trusted.key.isValidSignature(signature, for: signingInput) else { throw .badSignature }
        guard let claims = try? JSONDecoder().decode(TokenClaims.self, from: claimsData) else {
            throw .malformed("claims are not valid")
        }
        guard let role = Role(rawValue: claims.role) else { throw .unknownRole(String(claims.role.prefix(32))) }
        guard DivisionCode.isValid(claims.node) else { throw .invalidNode(String(claims.node.prefix(32))) }
        // The binding: a signature proves who signed; only the binding lets that signer speak for
        // this node in this role.
        guard trusted.bindings.contains(where: { $0.allows(node: claims.node, role: role) }) else {
            throw .keyNotTrusted(kid: kid, node: claims.node, role: role.rawValue)
        }
        let expiry = try Self.checkLifetime(claims, role: role, now: now, leeway: self.leeway)
        try Self.checkSubject(claims.sub)
        if let department = claims.dept { try Self.checkDepartment(department) }
        accepted.remember(token, claims: claims, role: role, now: now, leeway: self.leeway)
        return Caller(subject: claims.sub, role: role, node: claims.node, department: claims.dept, expiresAt: expiry)
    }

    /// `iat` and `exp` in range, in order, not from the future, within the role's lifetime and
    /// not expired. The range check comes first so no subtraction below can overflow.
    static func checkLifetime(_ claims: TokenClaims, role: Role, now: Date, leeway: TimeInterval) throws(TokenError) -> Date {
        let range = TokenLimits.earliestTime...TokenLimits.latestTime
        guard range.contains(claims.iat) else { throw .badLifetime("iat \(claims.iat) is not a time between 2000 and 2100") }
        guard range.contains(claims.exp) else { throw .badLifetime("exp \(claims.exp) is not a time between 2000 and 2100") }
        guard claims.exp > claims.iat else { throw .badLifetime("exp \(claims.exp) is not after iat \(claims.iat)") }
        let maximum = TokenLimits.maximumLifetime(for: role)
        guard claims.exp - claims.iat <= maximum else {
            throw .badLifetime("\(claims.exp - claims.iat) s exceeds the \(maximum) s a '\(role.rawValue)' token may live")
        }
        let issued = Date(timeIntervalSince1970: TimeInterval(claims.iat))
        guard issued.timeIntervalSince(now) <= leeway else {
            throw .badLifetime("issued at \(ISO8601DateFormatter().string(from: issued)), in the future")
        }
        let expiry = Date(timeIntervalSince1970: TimeInterval(claims.exp))
        guard now.timeIntervalSince(expiry) < leeway else { throw .expired(at: expiry) }
        return expiry
    }

    static func checkSubject(_ subject: String) throws(TokenError) {
        guard !subject.isEmpty else { throw .invalidSubject("empty") }
        guard subject.count <= TokenLimits.maximumSubjectLength else {
            throw .invalidSubject("longer than \(TokenLimits.maximumSubjectLength) characters")
        }
        // The offending subject is not echoed: it may be an ID number, and errors reach logs.
        guard subject.allSatisfy(TokenLimits.isSubjectCharacter) else {
            throw .invalidSubject("only letters, digits and @ . _ - : + are allowed")
        }
    }

    static func checkDepartment(_ department: String) throws(TokenError) {
        guard !department.isEmpty, department.count <= TokenLimits.maximumDepartmentLength,
            department.allSatisfy(TokenLimits.isDepartmentCharacter)
        else {
            throw .invalidDepartment("1...\(TokenLimits.maximumDepartmentLength) letters, digits and . _ -")
        }
    }
}


/// The tokens a `TokenVerifier` accepted, by their exact text, with what it read from them: a
/// client sends the same token on every call until it expires, so each is verified once.
///
/// Only accepted tokens are kept (a refused one is checked in full every time, so nothing an
/// attacker sends is remembered); at most `capacity` of them: when full, the expired ones go,
/// and if that frees nothing, all (the next call of each verifies again — slower, never wrong).
final class AcceptedTokens: Sendable {
    struct Entry: Sendable {
        var claims: TokenClaims
        var role: Role
    }

    let capacity: Int
    private let entries = Mutex<[String: Entry]>([:])

    init(capacity: Int = 4096) {
        self.capacity = capacity
    }

    var count: Int { entries.withLock { $0.count } }

    func lookup(_ token: String) -> Entry? {
        entries.withLock { $0[token] }
    }

    func remember(_ token: String, claims: TokenClaims, role: Role, now: Date, leeway: TimeInterval) {
        entries.withLock { entries in
            if entries.count >= capacity {
                let cutoff = Int64((now.timeIntervalSince1970 - leeway).rounded(.down))
                entries = entries.filter { $0.value.claims.exp > cutoff }
                if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            }
            entries[token] = Entry(claims: claims, role: role)
        }
    }
}
