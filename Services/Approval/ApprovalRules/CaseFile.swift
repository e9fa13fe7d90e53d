import Crypto
import Foundation

/// The case file archive, format `oneseal-case-file/1` (docs/integrators.md): a JSON object whose
/// `content` is the case file itself as a JSON text (case, materials, opinions, meetings, clock,
/// decision, audit entries with their hashes), `content_sha256` its SHA-256, and `signature` an
/// Ed25519 signature over the UTF-8 bytes of `content` with the node's service key. Keeping the
/// signed content as one exact string means any JSON library can check it without re-serialising.
public enum CaseFile {
    public static let format = "oneseal-case-file/1"

    public struct Archive: Sendable {
        public var bytes: Data
        public var contentSHA256: String

        public init(bytes: Data, contentSHA256: String) {
            self.bytes = bytes
            self.contentSHA256 = contentSHA256
        }
    }

    /// What checking an archive found.
    public struct Check: Sendable {
        public var signatureValid: Bool
        public var keyID: String
        public var trusted: Bool
        public var caseNumber: String
        public var audit: AuditVerification
        public var problems: [String]
        public var ok: Bool { signatureValid && trusted && audit.intact && problems.isEmpty }
    }

    /// Checks an archive: digest, signature (and that its key is one of `trustedKeys`, when given),
    /// and each audit entry's hash.
    public static func check(_ data: Data, trustedKeys: [Curve25519.Signing.PublicKey] = []) -> Check {
        var problems: [String] = []
        guard let archive = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              archive["format"] as? String == format, let content = archive["content"] as? String,
              let signature = archive["signature"] as? [String: Any] else {
            return Check(signatureValid: false, keyID: "", trusted: false, caseNumber: "", audit: AuditChain.verifyEach([]), problems: ["not a \(format) archive"])
        }
        let contentData = Data(content.utf8)
        if Array(SHA256.hash(data: contentData)).hexString != archive["content_sha256"] as? String { problems.append("content_sha256 does not match the content") }
        var valid = false
        var key: Curve25519.Signing.PublicKey?
        if signature["algorithm"] as? String == "Ed25519", let keyText = signature["public_key"] as? String, let keyData = Data(base64Encoded: keyText),
           let publicKey = try? Curve25519.Signing.PublicKey(rawRepresentation: keyData),
           let valueText = signature["value"] as? String, let value = Data(base64Encoded: valueText) {
            key = publicKey
            valid = publicKey.isValidSignature(value, for: contentData)
        }
        if !valid { problems.append("the signature does not verify") }
        let trusted = trustedKeys.isEmpty || key.map { k in trustedKeys.contains { $0.rawRepresentation == k.rawRepresentation } } ?? false
        if !trusted { problems.append("signed by a key that is not trusted") }
        var records: [AuditRecord] = []
        var caseNumber = ""
        if let object = (try? JSONSerialization.jsonObject(with: contentData)) as? [String: Any] {
            caseNumber = ((object["case"] as? [String: Any])?["case_number"] as? String) ?? ""
            for entry in object["audit_entries"] as? [[String: Any]] ?? [] {
                func text(_ key: String) -> String { entry[key] as? String ?? "" }
                func number(_ key: String) -> Int64 { (entry[key] as? NSNumber)?.int64Value ?? 0 }
                records.append(AuditRecord(
                    sequence: number("sequence"), caseID: text("case_id"), action: text("action"), actorSubject: text("actor_subject"),
                    actorRole: text("actor_role"), actorNode: text("actor_node"), atMicros: number("at_micros"), detailsJSON: text("details_json"),
                    previousHash: bytes(hex: text("previous_hash")), entryHash: bytes(hex: text("entry_hash"))))
            }
        } else {
            problems.append("content is not JSON")
        }
        return Check(signatureValid: valid, keyID: signature["key_id"] as? String ?? "", trusted: trusted, caseNumber: caseNumber,
                     audit: AuditChain.verifyEach(records), problems: problems)
    }

    static func bytes(hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex, let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex) {
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return [] }
            out.append(byte)
            index = next
        }
        return out
    }
}
