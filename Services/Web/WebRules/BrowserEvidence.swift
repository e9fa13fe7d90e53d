/// What the verification page hands its script so the browser checks the licence itself
/// (WebCrypto Ed25519 + SHA-256, `verify.js`): the issuer's public key as this node's trust list
/// holds it, the signed tree head's fields, the log entry's exact bytes with its audit path, and —
/// when the holder is an organisation — the sealed content bytes. Byte strings are base64.
/// Encoded as JSON into the page (a `<script type="application/json">` block), never into markup.
public struct BrowserEvidence: Codable, Sendable, Hashable {
    /// The issuer's Ed25519 public key (32 bytes) and its id.
    public var publicKey: String
    public var keyID: String
    /// The licence identifier and seal from the QR link: the log entry must carry exactly these.
    public var identifier: String
    public var qrSignature: String
    /// The log entry as hashed into the leaf (LogEntry, protobuf) and where it sits.
    public var entryBytes: String
    public var leafIndex: Int64
    public var auditPath: [String]
    /// The signed tree head (TreeHeadSignedData fields) and its seal.
    public var logID: String
    public var treeSize: Int64
    public var rootHash: String
    public var timestampSeconds: Int64
    public var timestampNanos: Int32
    public var treeHeadSignature: String
    public var treeHeadKeyID: String
    /// LicenceContent's canonical bytes (what the seal covers), only for an organisation holder;
    /// nil for a natural person, whose full ID number would be in them (see docs/decisions.md).
    public var sealedContent: String?

    public init(
        publicKey: String, keyID: String, identifier: String, qrSignature: String, entryBytes: String, leafIndex: Int64,
        auditPath: [String], logID: String, treeSize: Int64, rootHash: String, timestampSeconds: Int64, timestampNanos: Int32,
        treeHeadSignature: String, treeHeadKeyID: String, sealedContent: String?
    ) {
        self.publicKey = publicKey
        self.keyID = keyID
        self.identifier = identifier
        self.qrSignature = qrSignature
        self.entryBytes = entryBytes
        self.leafIndex = leafIndex
        self.auditPath = auditPath
        self.logID = logID
        self.treeSize = treeSize
        self.rootHash = rootHash
        self.timestampSeconds = timestampSeconds
        self.timestampNanos = timestampNanos
        self.treeHeadSignature = treeHeadSignature
        self.treeHeadKeyID = treeHeadKeyID
        self.sealedContent = sealedContent
    }

    /// JSON safe inside `<script type="application/json">`: `<` is escaped so no `</script>` can close it.
    public func scriptJSON() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(self), let text = String(data: data, encoding: .utf8) else { return "{}" }
        return text.replacingOccurrences(of: "<", with: "\\u003c")
    }
}

import Foundation
