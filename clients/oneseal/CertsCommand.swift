import ArgumentParser
import Foundation
import OneSealTLS
import X509

/// `oneseal certs`: the node's own CA and its services' TLS certificates (issue #17), in one
/// folder an operator keeps beside the node's other secrets:
///
///     ca-<node>.pem / ca-<node>.key        the node CA (the key never goes to a service)
///     trust.pem                            this node's CA + the peer nodes' CAs (ONESEAL_TLS_TRUST_FILE)
///     <service>-<node>.pem / .key          a service's certificate chain and key (ONESEAL_TLS_CERT_FILE / _KEY_FILE)
struct Certs: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The node CA and the services' TLS certificates (init, issue, trust, show).",
        subcommands: [Init.self, Issue.self, Trust.self, Show.self]
    )

    struct Folder: ParsableArguments {
        @Option(help: ArgumentHelp("Folder of the node's certificates (default ONESEAL_CERTS_DIR, else ./certs).", valueName: "dir"))
        var dir: String?

        var path: String {
            dir ?? ProcessInfo.processInfo.environment["ONESEAL_CERTS_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "certs"
        }
        func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }
        var trustFile: String { file("trust.pem") }

        func loadAuthority(node: String) throws -> NodeCertificateAuthority {
            let certificate = file("ca-\(node).pem"), key = file("ca-\(node).key")
            guard let certificatePEM = try? String(contentsOfFile: certificate, encoding: .utf8),
                  let keyPEM = try? String(contentsOfFile: key, encoding: .utf8) else {
                throw ValidationError("no CA for node \(node) in \(path) (run `oneseal certs init --node \(node)` first)")
            }
            let authority = try NodeCertificateAuthority(certificatePEM: certificatePEM, keyPEM: keyPEM)
            guard authority.node == node else { throw ValidationError("\(certificate) is the CA of node \(authority.node), not \(node)") }
            return authority
        }
    }

    /// Written to a temporary file and renamed over the target, so a service watching the file
    /// never reads half of it.
    static func write(_ text: String, to path: String, secret: Bool) throws {
        let temporary = path + ".tmp-\(getpid())"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8), attributes: [.posixPermissions: secret ? 0o600 : 0o644]) else {
            throw ValidationError("cannot write \(temporary)")
        }
        guard rename(temporary, path) == 0 else {
            try? FileManager.default.removeItem(atPath: temporary)
            throw ValidationError("cannot rename \(temporary) to \(path)")
        }
    }

    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create the node CA (P-256) and a trust bundle holding it.")
        @Option(help: "Node (GB/T 2260 code).") var node: String
        @Option(help: "CA lifetime in days.") var days: Int = 3650
        @OptionGroup var folder: Folder
        @OptionGroup var output: OutputOptions

        func run() throws {
            try FileManager.default.createDirectory(atPath: folder.path, withIntermediateDirectories: true)
            let certificate = folder.file("ca-\(node).pem"), key = folder.file("ca-\(node).key")
            guard !FileManager.default.fileExists(atPath: key) else {
                throw ValidationError("\(key) exists; refusing to replace a node CA (every certificate it issued would stop being trusted)")
            }
            let authority = try NodeCertificateAuthority.create(node: node, validity: .seconds(days * 86_400))
            try Certs.write(authority.keyPEM, to: key, secret: true)
            try Certs.write(try authority.certificatePEM, to: certificate, secret: false)
            var bundle = (try? String(contentsOfFile: folder.trustFile, encoding: .utf8)) ?? ""
            if !bundle.contains(try authority.certificatePEM) { bundle += try authority.certificatePEM }
            try Certs.write(bundle, to: folder.trustFile, secret: false)
            try output.emit(
                ["ca_certificate": certificate, "ca_key": key, "trust": folder.trustFile, "node": node,
                 "not_after": authority.certificate.notValidAfter.formatted(.iso8601)],
                text: "node CA of \(node): \(certificate) (key \(key), keep it off the service hosts); trust bundle \(folder.trustFile)")
        }
    }

    struct Issue: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue (or renew) a service's certificate, signed by the node CA; replace the files and send SIGHUP to rotate.")
        @Option(help: "Service: intake, approval, certificate, supervision, evaluation (or a client name such as web).") var service: String
        @Option(help: "Node (GB/T 2260 code).") var node: String
        @Option(parsing: .upToNextOption, help: "Host names and IP addresses to add (default: localhost 127.0.0.1).") var host: [String] = []
        @Option(help: "Lifetime in days.") var days: Int = 90
        @OptionGroup var folder: Folder
        @OptionGroup var output: OutputOptions

        func run() throws {
            let authority = try folder.loadAuthority(node: node)
            let issued = try authority.issue(service: service, hosts: host.isEmpty ? ["localhost", "127.0.0.1"] : host, validity: .seconds(days * 86_400))
            let certificate = folder.file("\(service)-\(node).pem"), key = folder.file("\(service)-\(node).key")
            // Key first: until the certificate follows, a reload sees a key that does not match
            // and keeps the old pair (and tries again at the next change).
            try Certs.write(issued.keyPEM, to: key, secret: true)
            try Certs.write(try issued.certificatePEM, to: certificate, secret: false)
            try output.emit(
                ["certificate": certificate, "key": key, "identity": "oneseal://\(node)/\(service)",
                 "not_after": issued.certificate.notValidAfter.formatted(.iso8601)],
                text: "oneseal://\(node)/\(service): \(certificate) (key \(key)), valid until \(issued.certificate.notValidAfter.formatted(.iso8601))")
        }
    }

    struct Trust: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a peer node's CA certificate to this node's trust bundle.")
        @Option(help: "The peer node's ca-<node>.pem.") var peer: String
        @OptionGroup var folder: Folder
        @OptionGroup var output: OutputOptions

        func run() throws {
            guard let text = try? String(contentsOfFile: peer, encoding: .utf8) else { throw ValidationError("cannot read \(peer)") }
            let found = try certificates(fromPEM: text)
            guard found.count == 1, let certificate = found.first,
                  case .isCertificateAuthority = try certificate.extensions.basicConstraints ?? .notCertificateAuthority else {
                throw ValidationError("\(peer) must hold exactly one CA certificate (a node's ca-<node>.pem)")
            }
            let pem = try certificate.serializeAsPEM().pemString + "\n"
            var bundle = (try? String(contentsOfFile: folder.trustFile, encoding: .utf8)) ?? ""
            let existing = (try? certificates(fromPEM: bundle)) ?? []
            if !existing.contains(certificate) { bundle += pem }
            try Certs.write(bundle, to: folder.trustFile, secret: false)
            try output.emit(
                ["trust": folder.trustFile, "added": "\(certificate.subject)", "authorities": existing.count + (existing.contains(certificate) ? 0 : 1)],
                text: "\(folder.trustFile): trusts \(certificate.subject) (send SIGHUP to the services, or wait for their file check)")
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the identity and validity of the certificates in a PEM file.")
        @Argument(help: "A PEM file.") var file: String
        @OptionGroup var output: OutputOptions

        func run() throws {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw ValidationError("cannot read \(file)") }
            let rows = try certificates(fromPEM: text).map { certificate -> [String: Any] in
                [
                    "subject": "\(certificate.subject)", "issuer": "\(certificate.issuer)",
                    "identity": ServiceIdentity(certificate: certificate)?.uri ?? "-",
                    "not_before": certificate.notValidBefore.formatted(.iso8601), "not_after": certificate.notValidAfter.formatted(.iso8601),
                ]
            }
            try output.emit(rows, text: rows.map { "\($0["identity"]!) \($0["subject"]!) issued by \($0["issuer"]!), valid \($0["not_before"]!) to \($0["not_after"]!)" }.joined(separator: "\n"))
        }
    }
}
