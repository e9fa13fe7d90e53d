import Crypto
import Foundation
import OneSealCore
import SwiftASN1
import X509

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A node's own certificate authority: one P-256 key that signs the certificates of the node's
/// services (docs/decisions.md K5: P-256, not Ed25519, because browsers in front of the web
/// service, grpcio and the C SDK's OpenSSL all take it).
///
/// The CA key lives on the operator's machine (or the node's secrets), never in a service: a
/// service only holds its own leaf key and the trust bundle.
public struct NodeCertificateAuthority: Sendable {
    public let node: String
    public let certificate: Certificate
    let privateKey: P256.Signing.PrivateKey

    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    /// A new CA for `node`, valid for `validity` from `now` (default 10 years).
    public static func create(node: String, validity: Duration = .seconds(10 * 365 * 86_400), now: Date = Date()) throws -> NodeCertificateAuthority {
        guard ServiceIdentity.isNode(node) else { throw Invalid("'\(node)' is not a 6-digit node code") }
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            OrganizationName("OneSeal")
            CommonName("OneSeal node CA \(node)")
        }
        let publicKey = Certificate.PublicKey(key.publicKey)
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: publicKey,
            notValidBefore: now.addingTimeInterval(-300),
            notValidAfter: now.addingTimeInterval(validity.inSeconds),
            issuer: name,
            subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: publicKey)
                // The node code, where an operator reading `oneseal certs show` looks for it.
                SubjectAlternativeNames([.uniformResourceIdentifier("oneseal://\(node)")])
            },
            issuerPrivateKey: Certificate.PrivateKey(key)
        )
        return NodeCertificateAuthority(node: node, certificate: certificate, privateKey: key)
    }

    init(node: String, certificate: Certificate, privateKey: P256.Signing.PrivateKey) {
        self.node = node
        self.certificate = certificate
        self.privateKey = privateKey
    }

    /// Loads a CA written by `certificatePEM` / `keyPEM`.
    public init(certificatePEM: String, keyPEM: String) throws {
        let certificate = try Certificate(pemEncoded: certificatePEM)
        let key = try P256.Signing.PrivateKey(pemRepresentation: keyPEM)
        guard Certificate.PublicKey(key.publicKey) == certificate.publicKey else {
            throw Invalid("the CA key does not belong to the CA certificate")
        }
        guard let uri = (try? certificate.extensions.subjectAlternativeNames)?.compactMap({ name -> String? in
            if case .uniformResourceIdentifier(let uri) = name { return uri } else { return nil }
        }).first(where: { $0.hasPrefix("oneseal://") }), ServiceIdentity.isNode(String(uri.dropFirst("oneseal://".count))) else {
            throw Invalid("the CA certificate names no node (no oneseal://<node> name)")
        }
        self.init(node: String(uri.dropFirst("oneseal://".count)), certificate: certificate, privateKey: key)
    }

    public var certificatePEM: String { get throws { try self.certificate.serializeAsPEM().pemString + "\n" } }
    public var keyPEM: String { self.privateKey.pemRepresentation + "\n" }

    /// A certificate for `service` of this node: `oneseal://<node>/<service>`, `<service>.<node>.oneseal`,
    /// and the given host names / IP addresses; usable as a TLS server and client certificate
    /// (services are both). Default lifetime 90 days: short enough that a stolen key ages out,
    /// long enough that rotation is a monthly chore, not a daily one (docs/decisions.md K6).
    public func issue(
        service: String,
        hosts: [String] = [],
        validity: Duration = .seconds(90 * 86_400),
        now: Date = Date()
    ) throws -> IssuedCertificate {
        guard let identity = ServiceIdentity(node: self.node, service: service) else {
            throw Invalid("'\(service)' is not a service name (1-32 of a-z 0-9 -, starting with a letter)")
        }
        return try self.issue(
            identity: identity, hosts: hosts, notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(validity.inSeconds)
        )
    }

    /// Issues with any identity and window (tests make expired, not-yet-valid and wrong-identity
    /// certificates with it; operators use `issue(service:)`).
    public func issue(identity: ServiceIdentity?, hosts: [String], notValidBefore: Date, notValidAfter: Date) throws -> IssuedCertificate {
        let key = P256.Signing.PrivateKey()
        let publicKey = Certificate.PublicKey(key.publicKey)
        var names: [GeneralName] = []
        if let identity {
            names.append(.uniformResourceIdentifier(identity.uri))
            names.append(.dnsName(identity.dnsName))
        }
        for host in hosts {
            if let address = Self.addressBytes(host) {
                names.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(address))))
            } else {
                names.append(.dnsName(host))
            }
        }
        let subject = try DistinguishedName {
            OrganizationName("OneSeal")
            CommonName(identity?.dnsName ?? "oneseal")
        }
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: publicKey,
            notValidBefore: notValidBefore,
            notValidAfter: notValidAfter,
            issuer: self.certificate.subject,
            subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth, .clientAuth])
                SubjectKeyIdentifier(hash: publicKey)
                AuthorityKeyIdentifier(keyIdentifier: try self.certificate.extensions.subjectKeyIdentifier?.keyIdentifier)
                SubjectAlternativeNames(names)
            },
            issuerPrivateKey: Certificate.PrivateKey(self.privateKey)
        )
        return IssuedCertificate(certificate: certificate, privateKey: key, chain: [self.certificate])
    }

    /// IPv4/IPv6 literal → its bytes; nil for a host name.
    static func addressBytes(_ host: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }
}

/// A service's certificate, its key, and the chain up to (and including) its node CA.
public struct IssuedCertificate: Sendable {
    public let certificate: Certificate
    let privateKey: P256.Signing.PrivateKey
    public let chain: [Certificate]

    /// The leaf first, then the chain (ONESEAL_TLS_CERT_FILE's format).
    public var certificatePEM: String {
        get throws { try ([self.certificate] + self.chain).map { try $0.serializeAsPEM().pemString }.joined(separator: "\n") + "\n" }
    }
    /// PKCS#8 PEM (ONESEAL_TLS_KEY_FILE's format).
    public var keyPEM: String { self.privateKey.pemRepresentation + "\n" }
}

/// PEM text with any number of certificates → the certificates, in order.
public func certificates(fromPEM text: String) throws -> [Certificate] {
    try PEMDocument.parseMultiple(pemString: text).filter { $0.discriminator == "CERTIFICATE" }.map { try Certificate(pemDocument: $0) }
}
