import Crypto
import Synchronization

/// A SHA-256 digest: a leaf hash, an interior node hash or a tree root (RFC 9162 §2.1.1).
public typealias MerkleHash = [UInt8]

/// The RFC 9162 Merkle tree hash (the same as RFC 6962 with SHA-256): leaves are hashed with the
/// prefix 0x00, interior nodes with 0x01, so a leaf can never be passed off as a node (second
/// pre-image resistance). Everything here is pure: the log's storage lives in the service and hands
/// perfect-subtree hashes to these functions.
public enum Merkle {
    /// MTH({}) = SHA-256 of the empty string.
    public static let emptyRoot: MerkleHash = Array(SHA256.hash(data: [UInt8]()))

    /// MTH({d}) = SHA-256(0x00 || d).
    public static func leafHash(_ entry: some Sequence<UInt8>) -> MerkleHash {
        var hasher = SHA256()
        hasher.update(data: [0x00])
        hasher.update(data: Array(entry))
        return Array(hasher.finalize())
    }

    /// SHA-256(0x01 || left || right).
    public static func nodeHash(_ left: MerkleHash, _ right: MerkleHash) -> MerkleHash {
        var hasher = SHA256()
        hasher.update(data: [0x01])
        hasher.update(data: left)
        hasher.update(data: right)
        return Array(hasher.finalize())
    }

    /// The largest power of two strictly smaller than `n` (n ≥ 2): the split point k of RFC 9162.
    static func split(_ n: Int) -> Int {
        var k = 1
        while k << 1 < n { k <<= 1 }
        return k
    }
}

/// A perfect subtree of the log: the 2^level leaves starting at `index << level`. Every hash the
/// log ever needs is one of these, so the service stores exactly these nodes (one row each) and
/// any root or proof needs only O(log n) of them.
public struct MerkleNodeID: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var level: Int
    public var index: Int

    public init(level: Int, index: Int) {
        self.level = level
        self.index = index
    }

    public static func < (lhs: MerkleNodeID, rhs: MerkleNodeID) -> Bool {
        (lhs.level, lhs.index) < (rhs.level, rhs.index)
    }

    public var description: String { "(\(level),\(index))" }
}

/// Why a proof cannot be made or does not verify.
public enum MerkleProofError: Error, Sendable, Hashable, CustomStringConvertible {
    case indexOutOfRange(index: Int, size: Int)
    case sizesOutOfOrder(first: Int, second: Int)
    case wrongProofLength(found: Int)
    case malformedHash(position: Int)
    case rootMismatch
    /// A node the computation needs was not supplied (the storage is incomplete).
    case missingNode(MerkleNodeID)

    public var description: String {
        switch self {
        case .indexOutOfRange(let index, let size): "leaf index \(index) is not inside a tree of size \(size)"
        case .sizesOutOfOrder(let first, let second): "tree size \(first) must be between 1 and \(second)"
        case .wrongProofLength(let found): "a proof of \(found) hashes does not fit this leaf position and tree size"
        case .malformedHash(let position): "proof hash \(position) is not 32 bytes"
        case .rootMismatch: "the proof does not lead to the tree head's root hash"
        case .missingNode(let id): "the log has no node \(id)"
        }
    }
}

/// Roots and proofs computed from perfect-subtree hashes, as RFC 9162 §2.1 defines them
/// recursively. `node` returns the hash of a perfect subtree; the pattern of nodes asked for
/// depends only on the sizes and indexes, never on hash values, so a caller may first run a
/// computation with `MerkleTreeView.nodesNeeded` to learn which nodes to fetch in one query.
public struct MerkleTreeView: Sendable {
    public let size: Int
    let node: @Sendable (MerkleNodeID) throws(MerkleProofError) -> MerkleHash

    public init(size: Int, node: @escaping @Sendable (MerkleNodeID) throws(MerkleProofError) -> MerkleHash) {
        self.size = size
        self.node = node
    }

    /// A view over leaf hashes held in memory (tests, the CLI, small logs): perfect nodes are
    /// computed from the leaves.
    public init(leafHashes: [MerkleHash]) {
        self.size = leafHashes.count
        self.node = { id throws(MerkleProofError) in
            let start = id.index << id.level
            let end = start + (1 << id.level)
            guard end <= leafHashes.count else { throw .missingNode(id) }
            return MerkleReference.root(Array(leafHashes[start..<end]))
        }
    }

    /// The perfect nodes a computation over this tree asks for.
    public static func nodesNeeded(size: Int, _ computation: (MerkleTreeView) throws -> Void) -> Set<MerkleNodeID> {
        let recorder = NodeRecorder()
        let view = MerkleTreeView(size: size) { id in
            recorder.add(id)
            return Merkle.emptyRoot
        }
        try? computation(view)
        return recorder.ids
    }

    /// MTH(D[start ..< end]).
    func hash(_ start: Int, _ end: Int) throws(MerkleProofError) -> MerkleHash {
        let n = end - start
        if n == 0 { return Merkle.emptyRoot }
        // A perfect, aligned subtree is one stored node.
        if n & (n - 1) == 0, start % n == 0 {
            return try node(MerkleNodeID(level: n.trailingZeroBitCount, index: start / n))
        }
        let k = Merkle.split(n)
        return Merkle.nodeHash(try hash(start, start + k), try hash(start + k, end))
    }

    /// The root hash of the tree of this view's size.
    public func root() throws(MerkleProofError) -> MerkleHash { try hash(0, size) }

    /// The root hash of the first `size` leaves (size ≤ self.size).
    public func root(ofSize size: Int) throws(MerkleProofError) -> MerkleHash {
        guard size <= self.size else { throw .sizesOutOfOrder(first: size, second: self.size) }
        return try hash(0, size)
    }

    /// PATH(m, D[n]) of RFC 9162 §2.1.3.1: the audit path of leaf `index` in the tree of `size`
    /// leaves (default: the view's size), bottom first.
    public func inclusionProof(index: Int, size: Int? = nil) throws(MerkleProofError) -> [MerkleHash] {
        let size = size ?? self.size
        guard size <= self.size else { throw .sizesOutOfOrder(first: size, second: self.size) }
        guard index >= 0, index < size else { throw .indexOutOfRange(index: index, size: size) }
        return try path(index, 0, size)
    }

    private func path(_ m: Int, _ start: Int, _ end: Int) throws(MerkleProofError) -> [MerkleHash] {
        let n = end - start
        if n == 1 { return [] }
        let k = Merkle.split(n)
        if m < k {
            return try path(m, start, start + k) + [try hash(start + k, end)]
        }
        return try path(m - k, start + k, end) + [try hash(start, start + k)]
    }

    /// PROOF(m, D[n]) of RFC 9162 §2.1.4.1: the consistency proof from the tree of `first` leaves to
    /// the tree of `second` leaves (default: the view's size).
    public func consistencyProof(first: Int, second: Int? = nil) throws(MerkleProofError) -> [MerkleHash] {
        let second = second ?? self.size
        guard second <= self.size, first >= 1, first <= second else {
            throw .sizesOutOfOrder(first: first, second: second)
        }
        return try subproof(first, 0, second, true)
    }

    private func subproof(_ m: Int, _ start: Int, _ end: Int, _ complete: Bool) throws(MerkleProofError) -> [MerkleHash] {
        let n = end - start
        if m == n { return complete ? [] : [try hash(start, end)] }
        let k = Merkle.split(n)
        if m <= k {
            return try subproof(m, start, start + k, complete) + [try hash(start + k, end)]
        }
        return try subproof(m - k, start + k, end, false) + [try hash(start, start + k)]
    }
}

/// Collects node ids during a dry run (synchronous; the lock only makes the closure Sendable).
private final class NodeRecorder: Sendable {
    private let recorded = Mutex<Set<MerkleNodeID>>([])
    var ids: Set<MerkleNodeID> { recorded.withLock { $0 } }
    func add(_ id: MerkleNodeID) { _ = recorded.withLock { $0.insert(id) } }
}

/// Straight-from-the-RFC reference computation over all leaf hashes (recursion on the split point),
/// used for small views and as the independent recomputation in tests.
public enum MerkleReference {
    public static func root(_ leafHashes: ArraySlice<MerkleHash>) -> MerkleHash {
        switch leafHashes.count {
        case 0: return Merkle.emptyRoot
        case 1: return leafHashes[leafHashes.startIndex]
        default:
            let k = Merkle.split(leafHashes.count)
            let mid = leafHashes.startIndex + k
            return Merkle.nodeHash(root(leafHashes[..<mid]), root(leafHashes[mid...]))
        }
    }

    public static func root(_ leafHashes: [MerkleHash]) -> MerkleHash { root(leafHashes[...]) }
}

/// Verification from a tree head and a proof alone (RFC 9162 §2.1.3.2 and §2.1.4.2), what a
/// client such as `oneseal licence proof` runs without trusting the log's arithmetic.
public enum MerkleVerifier {
    /// Checks that `leafHash` is the leaf at `index` of the tree of `size` leaves whose root is `root`.
    public static func verifyInclusion(
        leafHash: MerkleHash, index: Int, size: Int, proof: [MerkleHash], root: MerkleHash
    ) throws(MerkleProofError) {
        guard index >= 0, index < size else { throw .indexOutOfRange(index: index, size: size) }
        for (position, hash) in proof.enumerated() where hash.count != 32 { throw .malformedHash(position: position) }
        var fn = index
        var sn = size - 1
        var r = leafHash
        for p in proof {
            if sn == 0 { throw .wrongProofLength(found: proof.count) }
            if fn & 1 == 1 || fn == sn {
                r = Merkle.nodeHash(p, r)
                if fn & 1 == 0 {
                    while fn & 1 == 0, fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                r = Merkle.nodeHash(r, p)
            }
            fn >>= 1
            sn >>= 1
        }
        guard sn == 0 else { throw .wrongProofLength(found: proof.count) }
        guard r == root else { throw .rootMismatch }
    }

    /// Checks that the tree of `first` leaves with root `firstRoot` is a prefix of the tree of
    /// `second` leaves with root `secondRoot`.
    public static func verifyConsistency(
        first: Int, second: Int, firstRoot: MerkleHash, secondRoot: MerkleHash, proof: [MerkleHash]
    ) throws(MerkleProofError) {
        guard first >= 1, first <= second else { throw .sizesOutOfOrder(first: first, second: second) }
        for (position, hash) in proof.enumerated() where hash.count != 32 { throw .malformedHash(position: position) }
        if first == second {
            guard proof.isEmpty else { throw .wrongProofLength(found: proof.count) }
            guard firstRoot == secondRoot else { throw .rootMismatch }
            return
        }
        guard !proof.isEmpty else { throw .wrongProofLength(found: 0) }
        var path = proof
        // If first is an exact power of two, the old root itself starts the path.
        if first & (first - 1) == 0 { path.insert(firstRoot, at: 0) }
        var fn = first - 1
        var sn = second - 1
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        var fr = path[0]
        var sr = path[0]
        for c in path.dropFirst() {
            if sn == 0 { throw .wrongProofLength(found: proof.count) }
            if fn & 1 == 1 || fn == sn {
                fr = Merkle.nodeHash(c, fr)
                sr = Merkle.nodeHash(c, sr)
                if fn & 1 == 0 {
                    while fn & 1 == 0, fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                sr = Merkle.nodeHash(sr, c)
            }
            fn >>= 1
            sn >>= 1
        }
        guard sn == 0 else { throw .wrongProofLength(found: proof.count) }
        guard fr == firstRoot, sr == secondRoot else { throw .rootMismatch }
    }
}

/// The right edge of the log (its "frontier"): the perfect subtrees whose sizes are the binary
/// digits of the tree size, largest first. Appending a leaf merges equal-sized subtrees, which
/// creates exactly the new perfect nodes to store; the root is the frontier folded right to left.
public struct MerkleFrontier: Sendable, Hashable {
    public private(set) var size: Int
    /// (node id, hash), largest subtree first.
    public private(set) var nodes: [(id: MerkleNodeID, hash: MerkleHash)]

    public static func == (lhs: MerkleFrontier, rhs: MerkleFrontier) -> Bool {
        lhs.size == rhs.size && lhs.nodes.map(\.id) == rhs.nodes.map(\.id) && lhs.nodes.map(\.hash) == rhs.nodes.map(\.hash)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(size)
        for node in nodes { hasher.combine(node.id); hasher.combine(node.hash) }
    }

    public init() {
        self.size = 0
        self.nodes = []
    }

    /// The node ids that make up the frontier of a tree of `size` leaves, largest first.
    public static func ids(forSize size: Int) -> [MerkleNodeID] {
        var ids: [MerkleNodeID] = []
        var start = 0
        for level in stride(from: Int.bitWidth - 2, through: 0, by: -1) where size & (1 << level) != 0 {
            ids.append(MerkleNodeID(level: level, index: start >> level))
            start += 1 << level
        }
        return ids
    }

    /// Rebuilds the frontier of a stored log from its nodes.
    public init(size: Int, hashes: [MerkleNodeID: MerkleHash]) throws(MerkleProofError) {
        self.size = size
        self.nodes = []
        for id in Self.ids(forSize: size) {
            guard let hash = hashes[id] else { throw .missingNode(id) }
            nodes.append((id, hash))
        }
    }

    /// Appends one leaf hash; returns every perfect node this creates (the leaf first).
    @discardableResult
    public mutating func append(_ leafHash: MerkleHash) -> [(id: MerkleNodeID, hash: MerkleHash)] {
        var created = [(id: MerkleNodeID(level: 0, index: size), hash: leafHash)]
        var current = created[0]
        while let last = nodes.last, last.id.level == current.id.level {
            nodes.removeLast()
            current = (MerkleNodeID(level: current.id.level + 1, index: current.id.index >> 1),
                       Merkle.nodeHash(last.hash, current.hash))
            created.append(current)
        }
        nodes.append(current)
        size += 1
        return created
    }

    /// MTH of the whole tree.
    public var root: MerkleHash {
        guard var hash = nodes.last?.hash else { return Merkle.emptyRoot }
        for node in nodes.dropLast().reversed() {
            hash = Merkle.nodeHash(node.hash, hash)
        }
        return hash
    }
}

extension Merkle {
    /// Plain SHA-256 (no prefix), e.g. of licence content for a log entry.
    public static func sha256(_ bytes: [UInt8]) -> [UInt8] { Array(SHA256.hash(data: bytes)) }
}
