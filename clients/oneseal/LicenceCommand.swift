import ArgumentParser
import CertificateRules
import CertificateService
import Foundation
import GRPCCore
import OneSealAuth
import OneSealCore
import OneSealProto
import OneSealWire

/// `oneseal licence keygen|verify|fetch|proof`: seal keys for operators; verification, documents and
/// transparency-log proofs for anyone. `verify` and `proof` check the tree head's seal and the Merkle
/// proofs here, from the tree head and the proof alone, with the keys of the node's public trust list.
struct Licence: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Electronic licences: seal keys, verification, documents, transparency-log proofs.",
        subcommands: [Keygen.self, Verify.self, Fetch.self, Proof.self]
    )

    struct Keygen: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a new seal key file (ONESEAL_SEAL_KEY_FILE, mode 0600); print its key id and public key.",
            discussion: "To rotate: write a new key, then put its line first in the node's key file and keep the old lines below it; restart the certificate service.")
        @Option(help: "Where to write it.") var out: String

        func run() throws {
            guard !FileManager.default.fileExists(atPath: out) else {
                throw ValidationError("\(out) exists; refusing to overwrite a seal key (earlier licences need its public key)")
            }
            let key = SealKey.generate()
            let text = "# OneSeal seal keys: the first line signs; earlier keys below it stay for the trust list\n\(key.fileLine)\n"
            guard FileManager.default.createFile(atPath: out, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
                throw ValidationError("cannot write \(out)")
            }
            print("key_id \(key.keyID)")
            print("public_key \(Data(key.publicKey.rawRepresentation).base64EncodedString())")
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Verify a licence by identifier or QR text (no token needed); exit 1 unless valid.")
        @Option(help: "host:port of a certificate service (this node's, or any that trusts the issuer).") var address: String
        @Option(help: "Licence identifier (证照标识).") var identifier: String?
        @Option(help: "The QR code's text.") var qr: String?

        func validate() throws {
            guard (identifier == nil) != (qr == nil) else { throw ValidationError("give exactly one of --identifier, --qr") }
            if let identifier {
                do { _ = try LicenceIdentifier(parsing: identifier) } catch { throw ValidationError("--identifier: \(error)") }
            }
        }

        func run() async throws {
            var request = Certificate_VerifyLicenceRequest()
            if let identifier { request.licenceIdentifier = identifier }
            if let qr { request.qrPayload = qr }
            let (response, trust) = try await withCertificate(address) { certificate in
                (try await certificate.verifyLicence(request), try await certificate.listTrustedIssuers(Certificate_ListTrustedIssuersRequest()).issuers)
            }
            print(response.summary)
            print("authenticity \(response.authenticity)  status \(response.status)\(response.statusReason.isEmpty ? "" : " (\(response.statusReason))")")
            if !response.failureReason.isEmpty { print("reason \(response.failureReason)") }
            let content = response.content
            print("licence \(content.licenceName) \(content.licenceNumber) \(content.licenceIdentifier)")
            print("holder \(content.holderName) \(content.holderCode)  issuer \(content.issuerName) (\(content.issuerCode)) on \(content.issueDate.civilDate.map(\.iso8601) ?? "?")")
            if response.answeredByPeer { print("answered with the issuing node's help\(response.statusStale ? " (status not current: issuer unreachable)" : "")") }
            var logChecked = false
            if response.hasInclusion {
                do {
                    try checkInclusion(response.inclusion, identifier: content.licenceIdentifier, issuerCode: content.issuerCode, trust: trust)
                    logChecked = true
                    print("log: included at index \(response.inclusion.leafIndex) of \(response.inclusion.treeSize) (tree head seal and proof checked here)")
                } catch {
                    print("log: proof does NOT check: \(error)")
                }
            } else {
                print("log: not yet integrated (entries join a signed tree head within the maximum merge delay)")
            }
            if !response.valid || (response.hasInclusion && !logChecked) { throw ExitCode(1) }
        }
    }

    struct Fetch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Fetch a licence's printable document (PDF, PNG or SVG).")
        @Option(help: "host:port of the issuing node's certificate service.") var address: String
        @Option(help: "Licence id (UUID).") var id: String
        @Option(help: "pdf, png or svg.") var format: String = "pdf"
        @Option(help: "Where to write it (default: the suggested file name).") var out: String?
        @OptionGroup var credentials: LicenceCredentials

        func validate() throws {
            guard ["pdf", "png", "svg"].contains(format) else { throw ValidationError("--format must be pdf, png or svg") }
            guard UUID(uuidString: id) != nil else { throw ValidationError("--id must be a licence id (UUID)") }
        }

        func run() async throws {
            var request = Certificate_RenderLicenceRequest()
            request.licenceID = id
            request.format = format == "png" ? .png : format == "svg" ? .svg : .pdf
            let metadata = try credentials.metadata()
            let response = try await withCertificate(address) { try await $0.renderLicence(request, metadata: metadata) }
            let path = out ?? response.fileName
            guard FileManager.default.createFile(atPath: path, contents: response.document) else { throw ValidationError("cannot write \(path)") }
            print("\(path) (\(response.document.count) bytes, \(response.contentType))")
            print("qr \(response.qrPayload)")
        }
    }

    struct Proof: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fetch and check transparency-log proofs: inclusion of a licence or leaf, and consistency with a tree head you kept.",
            discussion: "Checks are made here: the tree head's seal with the issuer's key from the trust list, then RFC 9162 proof verification from the tree head and the proof alone.")
        @Option(help: "host:port of the certificate service whose log to audit.") var address: String
        @Option(help: "Licence identifier whose issuance to prove.") var identifier: String?
        @Option(help: "Leaf index to prove.") var index: Int?
        @Option(help: "Prove against this published tree size (default: the current head).") var treeSize: Int = 0
        @Option(help: "Size of a tree head you kept, to check the current head is consistent with it.") var firstSize: Int?
        @Option(help: "Root hash (hex) of that kept tree head.") var firstRoot: String?

        func validate() throws {
            guard identifier != nil || index != nil || firstSize != nil else { throw ValidationError("give --identifier, --index or --first-size/--first-root") }
            guard (firstSize == nil) == (firstRoot == nil) else { throw ValidationError("--first-size and --first-root go together") }
            if let firstRoot, Self.hex(firstRoot)?.count != 32 { throw ValidationError("--first-root must be 64 hex digits") }
        }

        static func hex(_ text: String) -> [UInt8]? {
            var bytes: [UInt8] = []
            var index = text.startIndex
            while index < text.endIndex {
                guard let next = text.index(index, offsetBy: 2, limitedBy: text.endIndex), let byte = UInt8(text[index..<next], radix: 16) else { return nil }
                bytes.append(byte)
                index = next
            }
            return bytes
        }

        func run() async throws {
            try await withCertificate(address) { certificate in
                let trust = try await certificate.listTrustedIssuers(Certificate_ListTrustedIssuersRequest()).issuers
                let head = try await certificate.getSignedTreeHead(Certificate_GetSignedTreeHeadRequest()).treeHead
                let signed = try checkHead(head, trust: trust)
                print("tree head: log \(head.logID) size \(head.treeSize) root \(hexString(Array(head.rootHash))) key \(head.keyID) (seal checked)")
                if identifier != nil || index != nil {
                    var request = Certificate_GetInclusionProofRequest()
                    if let identifier { request.licenceIdentifier = identifier }
                    if let index { request.leafIndex = Int64(index) }
                    request.treeSize = Int64(treeSize)
                    let proof = try await certificate.getInclusionProof(request)
                    try checkInclusion(proof, identifier: identifier, issuerCode: nil, trust: trust)
                    print("inclusion: leaf \(proof.leafIndex) (\(proof.entry.kind), \(proof.entry.licenceIdentifier), status \(proof.entry.status)) is in the tree of size \(proof.treeSize): proof of \(proof.auditPath.count) hashes checks")
                }
                if let firstSize, let firstRoot, let root = Self.hex(firstRoot) {
                    let response = try await certificate.getConsistencyProof(Certificate_GetConsistencyProofRequest.with { $0.firstTreeSize = Int64(firstSize) })
                    let second = try checkHead(response.treeHead, trust: trust)
                    do {
                        try MerkleVerifier.verifyConsistency(first: firstSize, second: second.head.size, firstRoot: root, secondRoot: second.head.rootHash, proof: response.proof.map(Array.init))
                    } catch {
                        print("consistency: the log's tree of size \(second.head.size) is NOT an extension of the kept head of size \(firstSize): \(error)")
                        throw ExitCode(1)
                    }
                    print("consistency: the tree of size \(second.head.size) extends the kept head of size \(firstSize) (proof of \(response.proof.count) hashes checks)")
                }
                _ = signed
            }
        }
    }
}

/// Credentials for the licence commands: a token as is, or one minted from a key file with a role.
struct LicenceCredentials: ParsableArguments {
    @Option(help: "Bearer token (or ONESEAL_TOKEN).") var token: String?
    @Option(help: "Signing key file to mint a token from (local use).") var key: String?
    @Option(help: "Role of the minted token (certificate_operator, window_clerk).") var role: String = Role.certificateOperator.rawValue
    @Option(help: "Node of the minted token.") var node: String = "371300"
    @Option(help: "Subject of the minted token.") var subject: String = "certificate-operator"

    func metadata() throws -> Metadata {
        var bearer = token ?? ProcessInfo.processInfo.environment["ONESEAL_TOKEN"]
        if bearer == nil, let key {
            guard let role = Role(rawValue: role) else { throw ValidationError("unknown role '\(self.role)'") }
            bearer = try TokenSigningKey(contentsOfFile: key, issuer: node).mint(subject: subject, role: role, node: node, lifetime: .seconds(600))
        }
        guard let bearer else { throw ValidationError("give --token, ONESEAL_TOKEN or --key") }
        var metadata = Metadata()
        metadata.addString("Bearer \(bearer)", forKey: "authorization")
        return metadata
    }
}

/// Why a proof or tree head does not check.
struct ProofFailure: Error, CustomStringConvertible {
    var description: String
}

/// Checks a tree head's seal with the trust-list key of its log (the issuer whose node is the log id).
func checkHead(_ proto: Certificate_SignedTreeHead, trust: [Certificate_TrustedIssuer]) throws -> SignedTreeHead {
    guard let head = SignedTreeHead(proto: proto) else { throw ProofFailure(description: "the tree head names no signature algorithm") }
    let matching = trust.first { $0.keyID == head.keyID && ($0.node == head.head.logID || $0.own) }
    guard let entry = matching else {
        throw ProofFailure(description: "no trust-list key \(head.keyID) for log \(head.head.logID)")
    }
    let algorithm: SealAlgorithm = entry.algorithm == .sm2Sm3 ? .sm2Sm3 : .ed25519
    let key = try SealPublicKey(algorithm: algorithm, rawRepresentation: Array(entry.publicKey))
    do { try head.verify(with: key) } catch { throw ProofFailure(description: "tree head seal: \(error)") }
    return head
}

/// Checks an inclusion proof from its tree head and audit path alone.
func checkInclusion(_ proof: Certificate_GetInclusionProofResponse, identifier: String?, issuerCode: String?, trust: [Certificate_TrustedIssuer]) throws {
    let head = try checkHead(proof.treeHead, trust: trust)
    let leafHash = Merkle.leafHash(Array(proof.entryBytes))
    guard leafHash == Array(proof.leafHash) else { throw ProofFailure(description: "the leaf hash is not SHA-256(0x00 || entry)") }
    let entry = try Certificate_LogEntry(serializedBytes: proof.entryBytes)
    if let identifier, entry.licenceIdentifier != identifier.uppercased() {
        throw ProofFailure(description: "the proven entry is about \(entry.licenceIdentifier), not \(identifier)")
    }
    guard Int(proof.treeSize) == head.head.size else { throw ProofFailure(description: "the proof is for size \(proof.treeSize), the head is \(head.head.size)") }
    do {
        try MerkleVerifier.verifyInclusion(leafHash: leafHash, index: Int(proof.leafIndex), size: head.head.size, proof: proof.auditPath.map(Array.init), root: head.head.rootHash)
    } catch {
        throw ProofFailure(description: "inclusion: \(error)")
    }
    _ = issuerCode
}

func hexString(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

func withCertificate<T: Sendable>(_ address: String, _ body: (Certificate_CertificateService.Client<OneSealClientTransport>) async throws -> T) async throws -> T {
    let parts = address.split(separator: ":")
    guard parts.count == 2, let port = Int(parts[1]) else { throw ValidationError("address must be host:port") }
    return try await withGRPCClient(transport: OneSealClientTransport(host: String(parts[0]), port: port)) { client in
        try await body(Certificate_CertificateService.Client(wrapping: client))
    }
}
