import ArgumentParser
import CertificateContracts
import CertificateRules
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
        subcommands: [Keygen.self, Verify.self, List.self, Fetch.self, Proof.self, Issuers.self]
    )

    struct Keygen: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a new seal key file (ONESEAL_SEAL_KEY_FILE, mode 0600); print its key id and public key.",
            discussion: "To rotate: write a new key, then put its line first in the node's key file and keep the old lines below it; restart the certificate service.")
        @Option(help: "Where to write it.") var out: String
        @OptionGroup var output: OutputOptions

        func run() throws {
            guard !FileManager.default.fileExists(atPath: out) else {
                throw ValidationError("\(out) exists; refusing to overwrite a seal key (earlier licences need its public key)")
            }
            let key = SealKey.generate()
            let text = "# OneSeal seal keys: the first line signs; earlier keys below it stay for the trust list\n\(key.fileLine)\n"
            guard FileManager.default.createFile(atPath: out, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
                throw ValidationError("cannot write \(out)")
            }
            let publicKey = Data(key.publicKey.rawRepresentation).base64EncodedString()
            try output.emit(["file": out, "key_id": key.keyID, "public_key": publicKey], text: "key_id \(key.keyID)\npublic_key \(publicKey)")
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Verify a licence by identifier or QR text (no token needed); exit 1 unless valid.")
        @Option(help: "Licence identifier (证照标识).") var identifier: String?
        @Option(help: "The QR code's text.") var qr: String?
        @OptionGroup var connection: Connection
        @OptionGroup var output: OutputOptions

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
            let (response, trust) = try await connection.certificate { certificate in
                (try await certificate.verifyLicence(request), try await certificate.listTrustedIssuers(Certificate_ListTrustedIssuersRequest()).issuers)
            }
            var lines = [response.summary]
            lines.append("authenticity \(Text.name(response.authenticity))  status \(Text.name(response.status))\(response.statusReason.isEmpty ? "" : " (\(response.statusReason))")")
            if !response.failureReason.isEmpty { lines.append("reason \(response.failureReason)") }
            let content = response.content
            lines.append("licence \(content.licenceName) \(content.licenceNumber) \(content.licenceIdentifier)")
            lines.append("holder \(content.holderName) \(content.holderCode)  issuer \(content.issuerName) (\(content.issuerCode)) on \(content.issueDate.civilDate.map(\.iso8601) ?? "?")")
            if response.answeredByPeer { lines.append("answered with the issuing node's help\(response.statusStale ? " (status not current: issuer unreachable)" : "")") }
            var log: [String: Any] = ["included": response.hasInclusion, "checked": false]
            if response.hasInclusion {
                do {
                    try checkInclusion(response.inclusion, identifier: content.licenceIdentifier, issuerCode: content.issuerCode, trust: trust)
                    log["checked"] = true
                    log["leaf_index"] = Int(response.inclusion.leafIndex)
                    log["tree_size"] = Int(response.inclusion.treeSize)
                    lines.append("log: included at index \(response.inclusion.leafIndex) of \(response.inclusion.treeSize) (tree head seal and proof checked here)")
                } catch {
                    log["problem"] = "\(error)"
                    lines.append("log: proof does NOT check: \(error)")
                }
            } else {
                lines.append("log: not yet integrated (entries join a signed tree head within the maximum merge delay)")
            }
            let logChecked = log["checked"] as? Bool ?? false
            let valid = response.valid && (!response.hasInclusion || logChecked)
            var verification = response
            verification.clearInclusion()
            try output.emit(["valid": valid, "verification": try JSONOutput.value(verification), "log": log], text: lines.joined(separator: "\n"))
            if !valid { throw ExitCode(1) }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List licences issued by this node: by case, holder code or status.")
        @Option(name: .customLong("case"), help: "Case id the licence was issued for.") var caseID: String = ""
        @Option(help: "Holder's code (ID number or USCC).") var holder: String = ""
        @OptionGroup var connection: Connection
        @OptionGroup var credentials: Credentials
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let metadata = try credentials.metadata(node: connection.node, defaultRole: .certificateOperator)
            let licences = try await connection.certificate { certificate in
                var request = Certificate_ListLicencesRequest()
                request.caseID = caseID
                request.holderCode = IdentityCode.normalized(holder)
                request.page.pageSize = 500
                return try await allPages { token in
                    request.page.pageToken = token
                    let response = try await certificate.listLicences(request, metadata: metadata)
                    return (response.licences, response.page.nextPageToken)
                }
            }
            let lines = licences.map { licence in
                "\(licence.licenceID)  \(licence.content.licenceIdentifier)  \(Text.name(licence.status))  \(licence.content.licenceName) \(licence.content.licenceNumber)  \(licence.content.holderName)"
            }
            try output.emit(try JSONOutput.values(licences), text: (lines + ["\(licences.count) licences"]).joined(separator: "\n"))
        }
    }

    struct Fetch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Fetch a licence's printable document (PDF, PNG or SVG).")
        @Option(help: "Licence id (UUID; `oneseal licence list --case …` shows it).") var id: String
        @Option(help: "pdf, png or svg.") var format: String = "pdf"
        @Option(help: "Where to write it (default: the suggested file name).") var out: String?
        @OptionGroup var connection: Connection
        @OptionGroup var credentials: Credentials
        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard ["pdf", "png", "svg"].contains(format) else { throw ValidationError("--format must be pdf, png or svg") }
            guard UUID(uuidString: id) != nil else { throw ValidationError("--id must be a licence id (UUID)") }
        }

        func run() async throws {
            var request = Certificate_RenderLicenceRequest()
            request.licenceID = id
            request.format = format == "png" ? .png : format == "svg" ? .svg : .pdf
            let metadata = try credentials.metadata(node: connection.node, defaultRole: .certificateOperator)
            let response = try await connection.certificate { try await $0.renderLicence(request, metadata: metadata) }
            let path = out ?? response.fileName
            guard FileManager.default.createFile(atPath: path, contents: response.document) else { throw ValidationError("--out: cannot write \(path)") }
            try output.emit(["file": path, "bytes": response.document.count, "content_type": response.contentType, "qr_payload": response.qrPayload],
                            text: "\(path) (\(response.document.count) bytes, \(response.contentType))\nqr \(response.qrPayload)")
        }
    }

    struct Proof: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fetch and check transparency-log proofs: inclusion of a licence or leaf, and consistency with a tree head you kept.",
            discussion: "Checks are made here: the tree head's seal with the issuer's key from the trust list, then RFC 9162 proof verification from the tree head and the proof alone.")
        @Option(help: "Licence identifier whose issuance to prove.") var identifier: String?
        @Option(help: "Leaf index to prove.") var index: Int?
        @Option(help: "Prove against this published tree size (default: the current head).") var treeSize: Int = 0
        @Option(help: "Size of a tree head you kept, to check the current head is consistent with it.") var firstSize: Int?
        @Option(help: "Root hash (hex) of that kept tree head.") var firstRoot: String?
        @OptionGroup var connection: Connection
        @OptionGroup var output: OutputOptions

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
            var lines: [String] = []
            var json: [String: Any] = [:]
            var consistent = true
            try await connection.certificate { certificate in
                let trust = try await certificate.listTrustedIssuers(Certificate_ListTrustedIssuersRequest()).issuers
                let head = try await certificate.getSignedTreeHead(Certificate_GetSignedTreeHeadRequest()).treeHead
                _ = try checkHead(head, trust: trust)
                lines.append("tree head: log \(head.logID) size \(head.treeSize) root \(hexString(head.rootHash)) key \(head.keyID) (seal checked)")
                json["tree_head"] = ["log_id": head.logID, "tree_size": Int(head.treeSize), "root_hash": hexString(head.rootHash), "key_id": head.keyID, "seal_checked": true] as [String: Any]
                if identifier != nil || index != nil {
                    var request = Certificate_GetInclusionProofRequest()
                    if let identifier { request.licenceIdentifier = identifier }
                    if let index { request.leafIndex = Int64(index) }
                    request.treeSize = Int64(treeSize)
                    let proof = try await certificate.getInclusionProof(request)
                    try checkInclusion(proof, identifier: identifier, issuerCode: nil, trust: trust)
                    lines.append("inclusion: leaf \(proof.leafIndex) (\(Text.name(proof.entry.kind)), \(proof.entry.licenceIdentifier), status \(Text.name(proof.entry.status))) is in the tree of size \(proof.treeSize): proof of \(proof.auditPath.count) hashes checks")
                    json["inclusion"] = ["leaf_index": Int(proof.leafIndex), "tree_size": Int(proof.treeSize), "licence_identifier": proof.entry.licenceIdentifier,
                                         "proof_hashes": proof.auditPath.count, "checked": true] as [String: Any]
                }
                if let firstSize, let firstRoot, let root = Self.hex(firstRoot) {
                    let response = try await certificate.getConsistencyProof(Certificate_GetConsistencyProofRequest.with { $0.firstTreeSize = Int64(firstSize) })
                    let second = try checkHead(response.treeHead, trust: trust)
                    do {
                        try MerkleVerifier.verifyConsistency(first: firstSize, second: second.head.size, firstRoot: root, secondRoot: second.head.rootHash, proof: response.proof.map(Array.init))
                        lines.append("consistency: the tree of size \(second.head.size) extends the kept head of size \(firstSize) (proof of \(response.proof.count) hashes checks)")
                        json["consistency"] = ["first_size": firstSize, "second_size": second.head.size, "consistent": true] as [String: Any]
                    } catch {
                        consistent = false
                        lines.append("consistency: the log's tree of size \(second.head.size) is NOT an extension of the kept head of size \(firstSize): \(error)")
                        json["consistency"] = ["first_size": firstSize, "second_size": second.head.size, "consistent": false, "problem": "\(error)"] as [String: Any]
                    }
                }
            }
            try output.emit(json, text: lines.joined(separator: "\n"))
            if !consistent { throw ExitCode(1) }
        }
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
