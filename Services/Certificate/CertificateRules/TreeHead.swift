import Foundation

/// A tree head before and after signing: the log's size and root at a time. Its signed bytes are
/// the deterministic protobuf encoding of `oneseal.certificate.v1.TreeHeadSignedData`.
public struct TreeHead: Sendable, Hashable {
    /// The log's id: the issuing node's division code.
    public var logID: String
    public var size: Int
    public var rootHash: MerkleHash
    /// Whole milliseconds (what the database keeps), so a stored head re-encodes to the same bytes.
    public var timestampMilliseconds: Int64

    public init(logID: String, size: Int, rootHash: MerkleHash, timestampMilliseconds: Int64) {
        self.logID = logID
        self.size = size
        self.rootHash = rootHash
        self.timestampMilliseconds = timestampMilliseconds
    }

    public var timestamp: Date { Date(timeIntervalSince1970: Double(timestampMilliseconds) / 1000) }

    /// TreeHeadSignedData { log_id = 1; tree_size = 2; root_hash = 3; timestamp = 4 (Timestamp) }.
    public var signedBytes: [UInt8] {
        var writer = ProtobufWriter()
        writer.string(1, logID)
        writer.integer(2, Int64(size))
        writer.data(3, rootHash)
        let seconds = timestampMilliseconds >= 0 ? timestampMilliseconds / 1000 : (timestampMilliseconds - 999) / 1000
        let nanos = (timestampMilliseconds - seconds * 1000) * 1_000_000
        writer.message(4) { timestamp in
            timestamp.integer(1, seconds)
            timestamp.integer(2, nanos)
        }
        return writer.bytes
    }
}

/// A tree head with the seal over it.
public struct SignedTreeHead: Sendable, Hashable {
    public var head: TreeHead
    public var algorithm: SealAlgorithm
    public var keyID: String
    public var signature: [UInt8]

    public init(head: TreeHead, algorithm: SealAlgorithm, keyID: String, signature: [UInt8]) {
        self.head = head
        self.algorithm = algorithm
        self.keyID = keyID
        self.signature = signature
    }

    public init(signing head: TreeHead, with key: SealKey) {
        self.init(head: head, algorithm: key.algorithm, keyID: key.keyID, signature: key.sign(head.signedBytes, purpose: .treeHead))
    }

    /// Checks the head's seal with `key` (the log's key from the trust list).
    public func verify(with key: SealPublicKey) throws(SealError) {
        guard key.keyID == keyID else { throw .badSignature(keyID: keyID) }
        try key.verify(signature, over: head.signedBytes, purpose: .treeHead)
    }
}
