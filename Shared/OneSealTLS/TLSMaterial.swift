import Foundation
import Logging
import NIOCore
import NIOSSL
import Synchronization
import X509

/// The ALPN identifier of OneSeal TCP over TLS (PROTOCOL.md §1).
public let oneSealALPN = "oneseal/1"

/// Where a process finds its TLS key material (ONESEAL_TLS_CERT_FILE, ONESEAL_TLS_KEY_FILE,
/// ONESEAL_TLS_TRUST_FILE). A client without a certificate of its own (the CLI, an integrator)
/// gives only the trust file.
public struct TLSFiles: Sendable, Hashable {
    /// PEM, the leaf first, then its chain.
    public var certificateFile: String?
    /// PEM private key of the leaf.
    public var keyFile: String?
    /// PEM bundle of the CA certificates this process trusts.
    public var trustFile: String

    public init(certificateFile: String?, keyFile: String?, trustFile: String) {
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.trustFile = trustFile
    }
}

/// One snapshot of a process's TLS material, read from its files, with the NIOSSL contexts built
/// from it. Immutable: a reload makes a new one (`TLSMaterialSource`), and each connection keeps
/// the snapshot it started with, so a rotation never touches a connection that is running.
public struct TLSMaterial: Sendable {
    public let files: TLSFiles
    /// This process's own certificate chain (leaf first); empty for a client without one.
    public let certificateChain: [Certificate]
    /// The identity this process's own certificate names.
    public let identity: ServiceIdentity?
    public let trust: TrustBundle
    /// Present when this process has a certificate and key (it can serve).
    public let serverContext: NIOSSLContext?
    public let clientContext: NIOSSLContext

    public struct LoadError: Error, CustomStringConvertible {
        public var description: String
    }

    public static func load(_ files: TLSFiles) throws -> TLSMaterial {
        func read(_ path: String, _ what: String) throws -> String {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw LoadError(description: "cannot read the \(what) file \(path)")
            }
            return text
        }
        let trustPEM = try read(files.trustFile, "trust")
        let trust: TrustBundle
        do { trust = try TrustBundle(pem: trustPEM) } catch {
            throw LoadError(description: "trust file \(files.trustFile): \(error)")
        }
        let nioTrust: [NIOSSLCertificate]
        do { nioTrust = try NIOSSLCertificate.fromPEMBytes(Array(trustPEM.utf8)) } catch {
            throw LoadError(description: "trust file \(files.trustFile): \(error)")
        }
        var chain: [Certificate] = []
        var nioChain: [NIOSSLCertificate] = []
        var key: NIOSSLPrivateKey?
        switch (files.certificateFile, files.keyFile) {
        case (nil, nil):
            break
        case (let certificateFile?, let keyFile?):
            let chainPEM = try read(certificateFile, "certificate")
            do {
                chain = try certificates(fromPEM: chainPEM)
                nioChain = try NIOSSLCertificate.fromPEMBytes(Array(chainPEM.utf8))
            } catch {
                throw LoadError(description: "certificate file \(certificateFile): \(error)")
            }
            guard !chain.isEmpty else { throw LoadError(description: "certificate file \(certificateFile) holds no certificate") }
            let keyPEM = try read(keyFile, "key")
            do { key = try NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem) } catch {
                throw LoadError(description: "key file \(keyFile): \(error)")
            }
        default:
            throw LoadError(description: "a certificate file needs its key file, and a key file its certificate file")
        }
        let identity = chain.first.flatMap(ServiceIdentity.init(certificate:))
        var client = TLSConfiguration.makeClientConfiguration()
        client.minimumTLSVersion = .tlsv13
        client.applicationProtocols = [oneSealALPN]
        client.trustRoots = .certificates(nioTrust)
        client.certificateVerification = .noHostnameVerification
        var server: TLSConfiguration?
        if let key {
            client.certificateChain = nioChain.map { .certificate($0) }
            client.privateKey = .privateKey(key)
            var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: nioChain.map { .certificate($0) }, privateKey: .privateKey(key))
            configuration.minimumTLSVersion = .tlsv13
            configuration.applicationProtocols = [oneSealALPN]
            configuration.trustRoots = .certificates(nioTrust)
            // Asked for, not required: integrators and the web front authenticate by token over
            // server-authenticated TLS; a presented certificate must verify (docs/decisions.md K2).
            configuration.certificateVerification = .optionalVerification
            server = configuration
        }
        do {
            return TLSMaterial(
                files: files, certificateChain: chain, identity: identity, trust: trust,
                serverContext: try server.map { try NIOSSLContext(configuration: $0) },
                clientContext: try NIOSSLContext(configuration: client)
            )
        } catch {
            // BoringSSL's error when the key does not match the certificate, among others.
            throw LoadError(description: "\(files.certificateFile ?? files.trustFile): \(error)")
        }
    }
}

/// The current `TLSMaterial` of a process, replaced by `reload()` (SIGHUP, or the file watch in
/// `TLSReloader`). A failed reload keeps the old material: a half-copied file during rotation
/// must not take a node off the air.
public final class TLSMaterialSource: Sendable {
    private let state: Mutex<TLSMaterial>

    public init(_ material: TLSMaterial) {
        self.state = Mutex(material)
    }

    public convenience init(files: TLSFiles) throws {
        self.init(try TLSMaterial.load(files))
    }

    public var current: TLSMaterial { self.state.withLock { $0 } }

    /// Reads the files again and, if they load, uses them for every connection from now on.
    @discardableResult
    public func reload() throws -> TLSMaterial {
        let old = self.current
        let material = try TLSMaterial.load(old.files)
        // A rotation renews a certificate; it never turns one service into another.
        if let identity = old.identity, material.identity != identity {
            throw TLSMaterial.LoadError(description: "the new certificate is for \(material.identity?.description ?? "no identity"), not \(identity)")
        }
        self.state.withLock { $0 = material }
        return material
    }
}

/// The client certificate a server connection verified, for the calls on that connection.
/// Set by the TLS verification callback during the handshake (before any call can be read) and
/// read by the transport for each call.
public final class PeerCertificateBox: Sendable {
    private let value = Mutex<Certificate?>(nil)

    public init() {}

    public var certificate: Certificate? { self.value.withLock { $0 } }

    func set(_ certificate: Certificate) {
        self.value.withLock { $0 = certificate }
    }
}

extension TLSMaterialSource {
    /// The TLS handlers of an accepted connection, in pipeline order: this moment's material, a
    /// client certificate asked for, verified by `TrustBundle` (any node the bundle trusts;
    /// authorization decides what the node may do) and kept in `peer` — on a resumed session too.
    public func makeServerHandlers(
        peer: PeerCertificateBox, onRefusal: @escaping @Sendable (CertificateRefusal) -> Void
    ) throws -> (NIOSSLServerHandler, ResumedSessionCertificateCheck) {
        let material = self.current
        guard let context = material.serverContext else {
            throw TLSMaterial.LoadError(description: "this process has no certificate and key to serve TLS with")
        }
        let trust = material.trust
        let tls = NIOSSLServerHandler(context: context) { certificates, promise in
            switch Self.verify(certificates, trust: trust, expectedNode: nil, expectedService: nil) {
            case .success(let leaf):
                peer.set(leaf)
                promise.succeed(.certificateVerified)
            case .failure(let refusal):
                onRefusal(refusal)
                promise.succeed(.failed)
            }
        }
        return (tls, ResumedSessionCertificateCheck(peer: peer, trust: trust, onRefusal: onRefusal))
    }

    /// The TLS handler of a connection to a server that must prove it is `expected` (a peer
    /// entry "certificate@371300": that node and service), or any service of `expected.node` when
    /// only the node is known (the CLI), chained to the trust bundle. Host names are not checked.
    public func makeClientHandler(
        expectedNode: String?, expectedService: String?, onRefusal: @escaping @Sendable (CertificateRefusal) -> Void
    ) throws -> NIOSSLClientHandler {
        let material = self.current
        let trust = material.trust
        return try NIOSSLClientHandler(context: material.clientContext, serverHostname: nil) { certificates, promise in
            switch Self.verify(certificates, trust: trust, expectedNode: expectedNode, expectedService: expectedService) {
            case .success:
                promise.succeed(.certificateVerified)
            case .failure(let refusal):
                onRefusal(refusal)
                promise.succeed(.failed)
            }
        }
    }

    static func verify(
        _ certificates: [NIOSSLCertificate], trust: TrustBundle, expectedNode: String?, expectedService: String?
    ) -> Result<Certificate, CertificateRefusal> {
        let chain: [Certificate]
        do {
            chain = try certificates.map { try Certificate(derEncoded: try $0.toDERBytes()) }
        } catch {
            return .failure(.unreadable)
        }
        return trust.verify(chain: chain, now: Date(), expectedNode: expectedNode, expectedService: expectedService).map { _ in chain[0] }
    }
}
