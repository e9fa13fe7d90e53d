import Foundation
import OneSealCore

/// One key of one issuer that this node trusts (互认): its own keys (current and retired) and the
/// keys of peer nodes, each with the period in which its signatures are accepted.
public struct TrustedKey: Sendable, Hashable {
    /// 颁发机构代码: the issuer's USCC as it appears in licences.
    public var issuerCode: String
    public var issuerName: String
    /// The issuing node's division code and where its certificate service listens.
    public var node: String
    public var endpoint: String
    public var key: SealPublicKey
    /// Licences issued (颁发日期) before `validFrom`'s day or after `validUntil`'s day are not
    /// accepted under this key. `validUntil` nil = still in use.
    public var validFrom: Date
    public var validUntil: Date?
    /// This node's own key.
    public var own: Bool

    public init(issuerCode: String, issuerName: String, node: String, endpoint: String = "", key: SealPublicKey, validFrom: Date, validUntil: Date? = nil, own: Bool) {
        self.issuerCode = issuerCode
        self.issuerName = issuerName
        self.node = node
        self.endpoint = endpoint
        self.key = key
        self.validFrom = validFrom
        self.validUntil = validUntil
        self.own = own
    }

    public var keyID: String { key.keyID }

    /// Whether a licence issued on `date` (Beijing) may carry this key's seal: the key's period
    /// is compared by civil day, as the issue date is the only signed time on a licence.
    public func covers(issueDate date: CivilDate) -> Bool {
        guard CivilDate(validFrom) <= date else { return false }
        if let validUntil, date > CivilDate(validUntil) { return false }
        return true
    }
}

/// The outcome of checking a seal against the trust list.
public enum SealCheck: Sendable, Hashable {
    case authentic(TrustedKey)
    case untrustedIssuer(String)
    case badSignature(String)
}

/// The keys this node trusts.
public struct TrustList: Sendable {
    public var keys: [TrustedKey]

    public init(_ keys: [TrustedKey]) { self.keys = keys }

    /// The entries for an issuer code.
    public func keys(ofIssuer code: String) -> [TrustedKey] { keys.filter { $0.issuerCode == code.uppercased() } }

    /// Checks the seal on `content`: the issuer must be on the list with the key named by
    /// `keyID`, the key must cover the issue date, and the signature must verify over the
    /// canonical bytes. Reasons are specific, for the verification answer.
    public func check(_ content: LicenceContent, algorithm: SealAlgorithm, keyID: String, signature: [UInt8]) -> SealCheck {
        let issuerKeys = keys(ofIssuer: content.issuerCode)
        guard !issuerKeys.isEmpty else {
            return .untrustedIssuer("issuer \(content.issuerCode) (\(content.issuerName)) is not on this node's trust list")
        }
        guard let entry = issuerKeys.first(where: { $0.keyID == keyID }) else {
            return .untrustedIssuer("issuer \(content.issuerCode) has no trusted key \(keyID)")
        }
        guard entry.key.algorithm == algorithm else {
            return .badSignature("the seal says \(algorithm.rawValue) but key \(keyID) is \(entry.key.algorithm.rawValue)")
        }
        guard entry.covers(issueDate: content.issueDate) else {
            return .untrustedIssuer("key \(keyID) of issuer \(content.issuerCode) was not in use on the issue date \(content.issueDate)")
        }
        do {
            try entry.key.verify(signature, over: content.canonicalBytes, purpose: .licence)
        } catch {
            return .badSignature(error.description)
        }
        return .authentic(entry)
    }
}
