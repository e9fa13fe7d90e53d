import X509

/// Which service of which node a certificate speaks for: read from its subject alternative name
/// `oneseal://<node>/<service>` (e.g. oneseal://371300/intake).
///
/// Why a URI and not the host name: services move between hosts and containers, and a peer entry
/// names a service of a node ("certificate@371300"), so that is what a client checks; the DNS and
/// IP names in the certificate are only there for tools that insist on host names.
public struct ServiceIdentity: Sendable, Hashable, CustomStringConvertible {
    /// GB/T 2260 code of the node, six digits.
    public var node: String
    /// The service's short name (intake, approval, …, or a client's name such as `web`, `cli`).
    public var service: String

    public init?(node: String, service: String) {
        guard Self.isNode(node), Self.isService(service) else { return nil }
        self.node = node
        self.service = service
    }

    /// `oneseal://371300/intake`
    public var uri: String { "oneseal://\(self.node)/\(self.service)" }
    /// `intake.371300.oneseal`
    public var dnsName: String { "\(self.service).\(self.node).oneseal" }
    /// The peer-entry spelling, `intake@371300`.
    public var description: String { "\(self.service)@\(self.node)" }

    /// Parses `oneseal://<node>/<service>`; nil for anything else.
    public init?(uri: String) {
        let prefix = "oneseal://"
        guard uri.hasPrefix(prefix) else { return nil }
        let parts = uri.dropFirst(prefix.count).split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        self.init(node: String(parts[0]), service: String(parts[1]))
    }

    /// Parses a peer entry's name, `certificate@371300`.
    public init?(peerName: String) {
        let parts = peerName.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        self.init(node: String(parts[1]), service: String(parts[0]))
    }

    /// The identity a certificate names: exactly one `oneseal://` URI among its subject
    /// alternative names. None, or two different ones, is no identity (a certificate speaking for
    /// two services would let one service's key act as another).
    public init?(certificate: Certificate) {
        guard let names = try? certificate.extensions.subjectAlternativeNames else { return nil }
        var found: Set<ServiceIdentity> = []
        for name in names {
            if case .uniformResourceIdentifier(let uri) = name, uri.hasPrefix("oneseal://") {
                guard let identity = ServiceIdentity(uri: uri) else { return nil }
                found.insert(identity)
            }
        }
        guard found.count == 1, let identity = found.first else { return nil }
        self = identity
    }

    static func isNode(_ text: String) -> Bool {
        text.utf8.count == 6 && text.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }

    /// 1–32 of `a-z 0-9 -`, starting with a letter.
    static func isService(_ text: String) -> Bool {
        guard let first = text.utf8.first, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first), text.utf8.count <= 32 else { return false }
        return text.utf8.allSatisfy {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || $0 == UInt8(ascii: "-")
        }
    }
}
