import Foundation
import X509

/// Why a peer's certificate was refused, in words an operator can act on at 3 a.m. The parts that
/// came from the peer (names, URIs) are escaped by the caller's escaper (`describe(escaping:)`,
/// OneSeal TCP passes `WireText.escaped`), because a certificate is wire data like any other.
public enum CertificateRefusal: Error, Sendable, Equatable {
    /// The peer presented no certificate where one is required.
    case noCertificate
    /// The bytes did not parse as an X.509 certificate.
    case unreadable
    case expired(subject: String, at: Date)
    case notYetValid(subject: String, until: Date)
    /// No certificate of the trust bundle issued it (or its issuer's signature does not verify).
    case unknownCA(subject: String, issuer: String)
    /// The trusted CA itself is out of its validity window.
    case caNotValid(issuer: String, notBefore: Date, notAfter: Date)
    /// A CA certificate, or one not allowed for TLS client/server use, in a leaf's place.
    case notForTLS(subject: String)
    /// No (or more than one) `oneseal://<node>/<service>` name.
    case noIdentity(subject: String)
    /// The certificate names another node or service than the one expected.
    case wrongIdentity(found: ServiceIdentity, expectedNode: String?, expectedService: String?)

    public func describe(escaping escape: (String) -> String) -> String {
        func time(_ date: Date) -> String { date.formatted(.iso8601) }
        switch self {
        case .noCertificate:
            return "no client certificate presented"
        case .unreadable:
            return "the certificate could not be parsed"
        case .expired(let subject, let at):
            return "certificate \(escape(subject)) expired at \(time(at))"
        case .notYetValid(let subject, let until):
            return "certificate \(escape(subject)) is not yet valid until \(time(until))"
        case .unknownCA(let subject, let issuer):
            return "certificate \(escape(subject)) was issued by an unknown CA (\(escape(issuer)) is not in the trust bundle)"
        case .caNotValid(let issuer, let notBefore, let notAfter):
            return "the CA \(escape(issuer)) is only valid from \(time(notBefore)) to \(time(notAfter))"
        case .notForTLS(let subject):
            return "certificate \(escape(subject)) is not a TLS end-entity certificate"
        case .noIdentity(let subject):
            return "certificate \(escape(subject)) names no single oneseal://<node>/<service> identity"
        case .wrongIdentity(let found, let node, let service):
            if let node, found.node != node {
                return "certificate identity \(found.uri) names node \(found.node) not \(node)"
            }
            return "certificate identity \(found.uri) names service \(found.service) not \(service ?? "-")"
        }
    }
}

/// The CA certificates a node trusts (ONESEAL_TLS_TRUST_FILE): its own node CA and the CAs of the
/// peer nodes it is configured with.
///
/// Why our own check and not BoringSSL's: every chain here is one leaf directly under a node CA,
/// and an operator needs the reason in words (expired at …, unknown CA, names node X not Y);
/// OpenSSL's "certificate verify failed" names none of that. The check is a pure function of the
/// chain, the bundle and the time, so every refusal has a test without a socket.
public struct TrustBundle: Sendable {
    public let authorities: [Certificate]

    public init(authorities: [Certificate]) {
        self.authorities = authorities
    }

    public init(pem: String) throws {
        let authorities = try certificates(fromPEM: pem)
        guard !authorities.isEmpty else { throw NodeCertificateAuthority.Invalid("the trust bundle holds no certificate") }
        self.init(authorities: authorities)
    }

    /// Verifies `chain` (the peer's leaf first; anything after it is ignored: only the bundle's
    /// CAs are anchors) at `now`, and that its identity is of `node` / `service` when given.
    public func verify(
        chain: [Certificate], now: Date, expectedNode: String? = nil, expectedService: String? = nil
    ) -> Result<ServiceIdentity, CertificateRefusal> {
        guard let leaf = chain.first else { return .failure(.noCertificate) }
        let subject = leaf.subject.description
        // Validity of the leaf first: the commonest failure in operations (a forgotten rotation).
        if now > leaf.notValidAfter { return .failure(.expired(subject: subject, at: leaf.notValidAfter)) }
        if now < leaf.notValidBefore { return .failure(.notYetValid(subject: subject, until: leaf.notValidBefore)) }
        guard let issuer = self.authorities.first(where: {
            $0.subject == leaf.issuer && $0.publicKey.isValidSignature(leaf.signature, for: leaf)
        }) else {
            return .failure(.unknownCA(subject: subject, issuer: leaf.issuer.description))
        }
        if now > issuer.notValidAfter || now < issuer.notValidBefore {
            return .failure(.caNotValid(issuer: issuer.subject.description, notBefore: issuer.notValidBefore, notAfter: issuer.notValidAfter))
        }
        if let constraints = try? leaf.extensions.basicConstraints, case .isCertificateAuthority = constraints {
            return .failure(.notForTLS(subject: subject))
        }
        guard let identity = ServiceIdentity(certificate: leaf) else { return .failure(.noIdentity(subject: subject)) }
        if let expectedNode, identity.node != expectedNode {
            return .failure(.wrongIdentity(found: identity, expectedNode: expectedNode, expectedService: expectedService))
        }
        if let expectedService, identity.service != expectedService {
            return .failure(.wrongIdentity(found: identity, expectedNode: expectedNode, expectedService: expectedService))
        }
        return .success(identity)
    }
}
