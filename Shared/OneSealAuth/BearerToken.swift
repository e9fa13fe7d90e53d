import Crypto
import Foundation

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
        }
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

    /// Mints a token valid for `lifetime` from `now`.
    public func mint(
        subject: String,
        role: Role,
        node: String,
        department: String? = nil,
        lifetime: Duration = .seconds(8 * 3600),
        now: Date = Date()
    ) throws -> String {
        let iat = Int64(now.timeIntervalSince1970)
        let claims = TokenClaims(
            sub: subject, role: role.rawValue, node: node, dept: department,
            iat: iat, exp: iat + lifetime.components.seconds, iss: self.issuer
        )
        let header = ["alg": "EdDSA", "typ": "JWT", "kid": self.keyID]
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let signingInput = Base64URL.encode(try encoder.encode(header)) + "." + Base64URL.encode(try encoder.encode(claims))
        let signature = try self.privateKey.signature(for: Data(signingInput.utf8))
        return signingInput + "." + Base64URL.encode(signature)
    }
}

/// Verifies tokens against a set of trusted public keys (this node's and its peers').
public struct TokenVerifier: Sendable {
    private let keys: [String: Curve25519.Signing.PublicKey]
    /// Tolerated clock difference between nodes.
    public var leeway: TimeInterval = 30

    public init(trusting keys: [Curve25519.Signing.PublicKey]) {
        self.keys = Dictionary(keys.map { (Self.keyID(of: $0), $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// A key id: the first 16 hex digits of SHA-256 over the raw public key.
    public static func keyID(of key: Curve25519.Signing.PublicKey) -> String {
        SHA256.hash(data: key.rawRepresentation).prefix(8).map { String(format: "%02x", $0) }.joined()
    }

    /// Parses a public key written as base64 of its 32 raw bytes.
    public static func publicKey(base64: String) throws -> Curve25519.Signing.PublicKey {
        guard let raw = Data(base64Encoded: base64.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw TokenError.malformed("public key is not base64")
        }
        return try Curve25519.Signing.PublicKey(rawRepresentation: raw)
    }

    public func verify(_ token: String, now: Date = Date()) throws(TokenError) -> Caller {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw .malformed("expected three dot-separated parts") }
        guard let headerData = Base64URL.decode(parts[0]), let claimsData = Base64URL.decode(parts[1]),
            let signature = Base64URL.decode(parts[2])
        else { throw .malformed("a part is not base64url") }
        guard let header = try? JSONDecoder().decode([String: String].self, from: headerData) else {
            throw .malformed("header is not a JSON object of strings")
        }
        guard header["alg"] == "EdDSA" else { throw .malformed("alg must be EdDSA") }
        let kid = header["kid"] ?? ""
        guard let key = self.keys[kid] else { throw .unknownKey(kid) }
        let signingInput = Data((parts[0] + "." + parts[1]).utf8)
        guard key.isValidSignature(signature, for: signingInput) else { throw .badSignature }
        guard let claims = try? JSONDecoder().decode(TokenClaims.self, from: claimsData) else {
            throw .malformed("claims are not valid")
        }
        let expiry = Date(timeIntervalSince1970: TimeInterval(claims.exp))
        guard now.timeIntervalSince(expiry) < self.leeway else { throw .expired(at: expiry) }
        guard let role = Role(rawValue: claims.role) else { throw .unknownRole(claims.role) }
        guard DivisionCode.isValid(claims.node) else { throw .invalidNode(claims.node) }
        return Caller(subject: claims.sub, role: role, node: claims.node, department: claims.dept, expiresAt: expiry)
    }
}

enum Base64URL {
    static func encode(_ data: Data) -> String {
        data.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ text: Substring) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }
}
