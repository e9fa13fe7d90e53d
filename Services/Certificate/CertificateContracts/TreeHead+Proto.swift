import CertificateRules
import Foundation
import OneSealProto
import SwiftProtobuf

// The log's signed tree head and its seal algorithm in their contract form: peers and the CLI
// check heads and proofs with the rules' verifier (`MerkleVerifier`, `SignedTreeHead.verify`).

extension SealAlgorithm {
    public var proto: Certificate_SignatureAlgorithm {
        switch self {
        case .ed25519: .ed25519
        case .sm2Sm3: .sm2Sm3
        }
    }

    public init?(proto: Certificate_SignatureAlgorithm) {
        switch proto {
        case .ed25519: self = .ed25519
        case .sm2Sm3: self = .sm2Sm3
        default: return nil
        }
    }
}

extension SignedTreeHead {
    /// The wire form (public: the CLI and peers check heads with the rules' verifier).
    public var proto: Certificate_SignedTreeHead {
        var out = Certificate_SignedTreeHead()
        out.logID = head.logID
        out.treeSize = Int64(head.size)
        out.rootHash = Data(head.rootHash)
        let millis = head.timestampMilliseconds
        let seconds = millis >= 0 ? millis / 1000 : (millis - 999) / 1000
        out.timestamp = Google_Protobuf_Timestamp(seconds: seconds, nanos: Int32((millis - seconds * 1000) * 1_000_000))
        out.algorithm = algorithm.proto
        out.keyID = keyID
        out.signature = Data(signature)
        return out
    }

    /// A tree head received from a peer or a log (for checking its signature and proofs).
    public init?(proto: Certificate_SignedTreeHead) {
        guard let algorithm = SealAlgorithm(proto: proto.algorithm) else { return nil }
        let millis = proto.timestamp.seconds * 1000 + Int64(proto.timestamp.nanos / 1_000_000)
        self.init(
            head: TreeHead(logID: proto.logID, size: Int(proto.treeSize), rootHash: Array(proto.rootHash), timestampMilliseconds: millis),
            algorithm: algorithm, keyID: proto.keyID, signature: Array(proto.signature))
    }
}
