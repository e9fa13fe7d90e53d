import CertificateRules
import Foundation
import Testing

/// RFC 9162 hashing, inclusion and consistency proofs: known answers from the Certificate
/// Transparency test data (the eight-leaf tree used by certificate-transparency's merkle tests and
/// transparency-dev/merkle's reference tests), then every proof of every tree of 1–70 leaves
/// against an independent recomputation.
@Suite("Merkle log (RFC 9162)")
struct MerkleTests {
    static let leaves: [[UInt8]] = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"].map(hex)
    static let roots = [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]

    static func view(_ count: Int) -> MerkleTreeView {
        MerkleTreeView(leafHashes: leaves.prefix(count).map(Merkle.leafHash))
    }

    @Test("tree heads of 0…8 leaves match the CT test vectors")
    func knownRoots() throws {
        for size in 0...8 {
            #expect(hexString(try Self.view(size).root()) == Self.roots[size], "size \(size)")
            var frontier = MerkleFrontier()
            for leaf in Self.leaves.prefix(size) { frontier.append(Merkle.leafHash(leaf)) }
            #expect(hexString(frontier.root) == Self.roots[size], "frontier size \(size)")
        }
    }

    @Test("inclusion proofs match the transparency-dev reference vectors")
    func knownInclusionProofs() throws {
        let vectors: [(size: Int, index: Int, proof: [String])] = [
            (1, 0, []),
            (2, 0, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"]),
            (2, 1, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"]),
            (3, 2, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
            (5, 1, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
            (8, 0, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
            (8, 5, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
        ]
        for vector in vectors {
            let proof = try Self.view(vector.size).inclusionProof(index: vector.index)
            #expect(proof.map(hexString) == vector.proof, "size \(vector.size) index \(vector.index)")
            try MerkleVerifier.verifyInclusion(
                leafHash: Merkle.leafHash(Self.leaves[vector.index]), index: vector.index, size: vector.size,
                proof: vector.proof.map(hex), root: hex(Self.roots[vector.size]))
        }
    }

    @Test("consistency proofs match the transparency-dev reference vectors")
    func knownConsistencyProofs() throws {
        let vectors: [(first: Int, second: Int, proof: [String])] = [
            (1, 1, []),
            (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
            (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
            (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
        ]
        for vector in vectors {
            let proof = try Self.view(vector.second).consistencyProof(first: vector.first)
            #expect(proof.map(hexString) == vector.proof, "\(vector.first) → \(vector.second)")
            try MerkleVerifier.verifyConsistency(
                first: vector.first, second: vector.second, firstRoot: hex(Self.roots[vector.first]),
                secondRoot: hex(Self.roots[vector.second]), proof: vector.proof.map(hex))
        }
    }

    @Test("every inclusion and consistency proof of trees of 1…70 leaves, from stored nodes, against a naive recomputation")
    func exhaustive() throws {
        let leafHashes = (0..<70).map { Merkle.leafHash(Array("licence-\($0)".utf8)) }
        // The log's way: a frontier appended leaf by leaf, keeping every perfect node it creates.
        var frontier = MerkleFrontier()
        var stored: [MerkleNodeID: MerkleHash] = [:]
        var storedRoots: [MerkleHash] = [Merkle.emptyRoot]
        for hash in leafHashes {
            for node in frontier.append(hash) { stored[node.id] = node.hash }
            storedRoots.append(frontier.root)
        }
        let nodes = stored
        for size in 1...70 {
            let naive = Naive(leaves: Array(leafHashes.prefix(size)))
            let view = MerkleTreeView(size: size) { id throws(MerkleProofError) in
                guard let hash = nodes[id] else { throw .missingNode(id) }
                return hash
            }
            let root = try view.root()
            #expect(root == naive.root(0, size), "root \(size)")
            #expect(root == storedRoots[size])
            #expect(try MerkleFrontier(size: size, hashes: nodes).root == root)
            for index in 0..<size {
                let proof = try view.inclusionProof(index: index)
                #expect(proof == naive.path(index, 0, size), "inclusion \(index) of \(size)")
                try MerkleVerifier.verifyInclusion(leafHash: leafHashes[index], index: index, size: size, proof: proof, root: root)
                // The proof is bound to its leaf, its index and its root.
                #expect(throws: MerkleProofError.self) {
                    try MerkleVerifier.verifyInclusion(leafHash: leafHashes[(index + 1) % 70], index: index, size: size, proof: proof, root: root)
                }
                if size > 1 {
                    #expect(throws: MerkleProofError.self) {
                        try MerkleVerifier.verifyInclusion(leafHash: leafHashes[index], index: (index + 1) % size, size: size, proof: proof, root: root)
                    }
                }
                // Stored nodes needed: at most two per level.
                let needed = MerkleTreeView.nodesNeeded(size: size) { _ = try $0.inclusionProof(index: index) }
                #expect(needed.count <= 2 * (Int.bitWidth - size.leadingZeroBitCount) + 1)
            }
            for first in 1...size {
                let proof = try view.consistencyProof(first: first)
                #expect(proof == naive.consistency(first, size), "consistency \(first) → \(size)")
                try MerkleVerifier.verifyConsistency(first: first, second: size, firstRoot: storedRoots[first], secondRoot: root, proof: proof)
                if first < size {
                    // A different old root, or a proof missing a hash, fails.
                    #expect(throws: MerkleProofError.self) {
                        try MerkleVerifier.verifyConsistency(first: first, second: size, firstRoot: storedRoots[first - 1], secondRoot: root, proof: proof)
                    }
                    #expect(throws: MerkleProofError.self) {
                        try MerkleVerifier.verifyConsistency(first: first, second: size, firstRoot: storedRoots[first], secondRoot: root, proof: Array(proof.dropLast()))
                    }
                }
            }
        }
    }

    @Test("malformed proofs are refused, not crashed on")
    func malformed() {
        let root = hex(Self.roots[8])
        #expect(throws: MerkleProofError.indexOutOfRange(index: 8, size: 8)) {
            try MerkleVerifier.verifyInclusion(leafHash: root, index: 8, size: 8, proof: [], root: root)
        }
        #expect(throws: MerkleProofError.malformedHash(position: 0)) {
            try MerkleVerifier.verifyInclusion(leafHash: root, index: 0, size: 8, proof: [[1, 2, 3]], root: root)
        }
        #expect(throws: MerkleProofError.wrongProofLength(found: 0)) {
            try MerkleVerifier.verifyConsistency(first: 3, second: 8, firstRoot: root, secondRoot: root, proof: [])
        }
        #expect(throws: MerkleProofError.sizesOutOfOrder(first: 9, second: 8)) {
            try MerkleVerifier.verifyConsistency(first: 9, second: 8, firstRoot: root, secondRoot: root, proof: [])
        }
        #expect(throws: MerkleProofError.self) {
            try MerkleVerifier.verifyInclusion(leafHash: root, index: 0, size: 8, proof: Array(repeating: root, count: 9), root: root)
        }
    }
}

/// RFC 9162 §2.1 written out over the list of leaf hashes, with no stored nodes and no sharing
/// with the code under test beyond the two hash functions.
struct Naive {
    let leaves: [MerkleHash]

    func root(_ start: Int, _ end: Int) -> MerkleHash {
        let n = end - start
        if n == 0 { return Merkle.emptyRoot }
        if n == 1 { return leaves[start] }
        let k = Self.k(n)
        return Merkle.nodeHash(root(start, start + k), root(start + k, end))
    }

    func path(_ m: Int, _ start: Int, _ end: Int) -> [MerkleHash] {
        let n = end - start
        if n == 1 { return [] }
        let k = Self.k(n)
        return m < k ? path(m, start, start + k) + [root(start + k, end)] : path(m - k, start + k, end) + [root(start, start + k)]
    }

    func consistency(_ m: Int, _ n: Int) -> [MerkleHash] { subproof(m, 0, n, true) }

    func subproof(_ m: Int, _ start: Int, _ end: Int, _ b: Bool) -> [MerkleHash] {
        let n = end - start
        if m == n { return b ? [] : [root(start, end)] }
        let k = Self.k(n)
        return m <= k ? subproof(m, start, start + k, b) + [root(start + k, end)] : subproof(m - k, start + k, end, false) + [root(start, start + k)]
    }

    static func k(_ n: Int) -> Int {
        var k = 1
        while k * 2 < n { k *= 2 }
        return k
    }
}

func hex(_ text: String) -> [UInt8] {
    var bytes: [UInt8] = []
    var index = text.startIndex
    while index < text.endIndex {
        let next = text.index(index, offsetBy: 2)
        bytes.append(UInt8(text[index..<next], radix: 16)!)
        index = next
    }
    return bytes
}

func hexString(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
