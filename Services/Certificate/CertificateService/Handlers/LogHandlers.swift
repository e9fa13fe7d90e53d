import CertificateContracts
import CertificateRules
import Foundation
import GRPCCore
import OneSealCore
import OneSealProto
import OneSealServiceKit
import OneSealStore

/// The transparency log over RPC: signed tree heads, inclusion and consistency proofs. Public: anyone
/// may audit the log.
extension CertificateAPI {
    public func getSignedTreeHead(request: Certificate_GetSignedTreeHeadRequest, context: ServerContext) async throws -> Certificate_GetSignedTreeHeadResponse {
        var response = Certificate_GetSignedTreeHeadResponse()
        response.treeHead = try await currentHead().proto
        return response
    }

    /// The latest signed head; an empty log gets its size-0 head signed now.
    func currentHead() async throws -> SignedTreeHead {
        if let head = try await database.withConnection({ try await TransparencyLog.latestHead(on: $0, logID: node) }) { return head }
        return SignedTreeHead(signing: TreeHead(logID: node, size: 0, rootHash: Merkle.emptyRoot, timestampMilliseconds: TransparencyLog.milliseconds(clock())), with: try sealKey())
    }

    public func getInclusionProof(request: Certificate_GetInclusionProofRequest, context: ServerContext) async throws -> Certificate_GetInclusionProofResponse {
        guard request.treeSize >= 0 else { throw RPCError.invalidArgument(field: "tree_size", "must not be negative", reason: "range") }
        return try await database.withConnection { connection in
            let leaf: TransparencyLog.Leaf?
            switch request.leaf {
            case .leafIndex(let index)?:
                guard index >= 0 else { throw RPCError.invalidArgument(field: "leaf_index", "must not be negative", reason: "range") }
                leaf = try await TransparencyLog.leaf(index: Int(index), on: connection)
            case .leafHash(let hash)?:
                guard hash.count == 32 else { throw RPCError.invalidArgument(field: "leaf_hash", "a leaf hash is 32 bytes (SHA-256), got \(hash.count)", reason: "format") }
                leaf = try await TransparencyLog.leaf(hash: Array(hash), on: connection)
            case .licenceIdentifier(let text)?:
                let identifier = try Self.parseIdentifier(text)
                guard let proof = try await inclusionProof(forIdentifier: identifier.description, treeSize: Int(request.treeSize), on: connection) else {
                    throw RPCError(code: .notFound, message: "licence \(identifier) is not (yet) in this node's log")
                }
                return proof
            case nil:
                throw RPCError.invalidArgument(field: "leaf", "give leaf_index, leaf_hash or licence_identifier", reason: "required")
            }
            guard let leaf else { throw RPCError(code: .notFound, message: "no such leaf in this node's log (entries are integrated within the maximum merge delay)") }
            guard let proof = try await inclusionProof(leaf, treeSize: Int(request.treeSize), on: connection) else {
                throw RPCError(code: .notFound, message: "leaf \(leaf.index) is not yet covered by a signed tree head")
            }
            return proof
        }
    }

    /// The proof of a licence's issuance leaf, or nil while it waits for integration.
    func inclusionProof(forIdentifier identifier: String, treeSize: Int, on connection: PostgresConnection) async throws -> Certificate_GetInclusionProofResponse? {
        guard let leaf = try await TransparencyLog.issuanceLeaf(identifier: identifier, on: connection) else { return nil }
        return try await inclusionProof(leaf, treeSize: treeSize, on: connection)
    }

    /// The audit path of `leaf` in the signed head of `treeSize` (0 = latest); nil if no head covers it.
    func inclusionProof(_ leaf: TransparencyLog.Leaf, treeSize: Int, on connection: PostgresConnection) async throws -> Certificate_GetInclusionProofResponse? {
        let head: SignedTreeHead
        if treeSize == 0 {
            guard let latest = try await TransparencyLog.latestHead(on: connection, logID: node) else { return nil }
            head = latest
        } else {
            guard let signed = try await TransparencyLog.head(size: treeSize, on: connection, logID: node) else {
                throw RPCError(code: .failedPrecondition, message: "this log signed no tree head of size \(treeSize); ask for the current head or a size it published")
            }
            head = signed
        }
        guard leaf.index < head.head.size else {
            if treeSize == 0 { return nil }
            throw RPCError.invalidArgument(field: "tree_size", "leaf \(leaf.index) is not inside a tree of size \(treeSize)", reason: "range")
        }
        let size = head.head.size
        let index = leaf.index
        let view = try await TransparencyLog.view(size: size, for: { _ = try $0.inclusionProof(index: index) }, on: connection)
        var response = Certificate_GetInclusionProofResponse()
        response.leafIndex = Int64(leaf.index)
        response.treeSize = Int64(size)
        response.leafHash = Data(leaf.hash)
        response.auditPath = try view.inclusionProof(index: index).map { Data($0) }
        response.entryBytes = Data(leaf.entry)
        response.entry = try Certificate_LogEntry(serializedBytes: leaf.entry)
        response.treeHead = head.proto
        return response
    }

    public func getConsistencyProof(request: Certificate_GetConsistencyProofRequest, context: ServerContext) async throws -> Certificate_GetConsistencyProofResponse {
        var violations: [Common_FieldViolation] = []
        if request.firstTreeSize < 1 { violations.append(Self.violation("first_tree_size", "must be at least 1", reason: "range")) }
        if request.secondTreeSize < 0 { violations.append(Self.violation("second_tree_size", "must not be negative", reason: "range")) }
        if request.secondTreeSize > 0, request.firstTreeSize > request.secondTreeSize {
            violations.append(Self.violation("first_tree_size", "must not exceed second_tree_size (\(request.secondTreeSize))", reason: "range"))
        }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        return try await database.withConnection { connection in
            let head: SignedTreeHead
            if request.secondTreeSize == 0 {
                guard let latest = try await TransparencyLog.latestHead(on: connection, logID: node) else {
                    throw RPCError(code: .failedPrecondition, message: "the log is empty")
                }
                head = latest
            } else {
                guard let signed = try await TransparencyLog.head(size: Int(request.secondTreeSize), on: connection, logID: node) else {
                    throw RPCError(code: .failedPrecondition, message: "this log signed no tree head of size \(request.secondTreeSize)")
                }
                head = signed
            }
            let first = Int(request.firstTreeSize)
            guard first <= head.head.size else {
                throw RPCError(code: .failedPrecondition, message: "tree size \(first) is beyond the log's signed size \(head.head.size)")
            }
            let view = try await TransparencyLog.view(size: head.head.size, for: { _ = try $0.consistencyProof(first: first) }, on: connection)
            var response = Certificate_GetConsistencyProofResponse()
            response.firstTreeSize = Int64(first)
            response.secondTreeSize = Int64(head.head.size)
            response.proof = try view.consistencyProof(first: first).map { Data($0) }
            response.treeHead = head.proto
            return response
        }
    }
}
