import CertificateContracts
import CertificateRules
import Foundation
import OneSealCore
import OneSealProto
import OneSealServiceKit
import OneSealStore
import SwiftProtobuf

/// The node's transparency log in PostgreSQL: entries queue in `log_pending` inside the transaction
/// that issues or changes a licence; `integrate` appends them as leaves in batches (storing every
/// perfect node it creates) and signs a new tree head. Proofs read only the O(log n) nodes they need.
enum TransparencyLog {
    /// Serializes integrations across replicas (pg_advisory_xact_lock key).
    static let lockKey: Int64 = 0x0_5E41_C0DE

    /// The entry for an issuance or a status change (its deterministic serialization is the leaf).
    static func entry(kind: Certificate_LogEntry.Kind, identifier: String, content: LicenceContent, signature: [UInt8], status: LicenceStatus, at: Date) -> Certificate_LogEntry {
        var entry = Certificate_LogEntry()
        entry.kind = kind
        entry.licenceIdentifier = identifier
        entry.contentSha256 = Data(Merkle.sha256(content.canonicalBytes))
        entry.signature = Data(signature)
        entry.status = status.proto
        entry.loggedAt = Google_Protobuf_Timestamp(date: Date(timeIntervalSince1970: (at.timeIntervalSince1970 * 1000).rounded(.down) / 1000))
        return entry
    }

    static func serialize(_ entry: Certificate_LogEntry) throws -> [UInt8] {
        var options = BinaryEncodingOptions()
        options.useDeterministicOrdering = true
        return try entry.serializedBytes(options: options)
    }

    static func enqueue(_ entry: Certificate_LogEntry, licence: UUID, in transaction: PostgresConnection) async throws {
        let kind = entry.kind == .issued ? "issued" : "status_changed"
        try await transaction.execute("""
            INSERT INTO log_pending (licence_id, identifier, kind, entry)
            VALUES (\(licence), \(entry.licenceIdentifier), \(kind), \(try serialize(entry)))
            """)
    }

    /// Integrates up to `batchSize` queued entries and signs the new head; returns how many.
    /// Safe with replicas: one integrator at a time holds the advisory lock; the others return 0.
    static func integrate(on database: PostgresClient, node: String, key: SealKey, batchSize: Int, now: @Sendable () -> Date) async throws -> Int {
        try await database.withTransaction { transaction in
            let locked = try await transaction.query("SELECT pg_try_advisory_xact_lock(\(lockKey)) AS locked").one().decode("locked", as: Bool.self)
            guard locked else { return 0 }
            let pending = try await transaction.query("""
                SELECT id, licence_id, identifier, kind, entry FROM log_pending ORDER BY id LIMIT \(batchSize)
                """)
            let size = try await currentSize(on: transaction)
            guard !pending.isEmpty else {
                if size == 0, try await latestHead(on: transaction) == nil {
                    try await storeHead(SignedTreeHead(signing: TreeHead(logID: node, size: 0, rootHash: Merkle.emptyRoot, timestampMilliseconds: milliseconds(now())), with: key), on: transaction)
                }
                return 0
            }
            var frontier = try await loadFrontier(size: size, on: transaction)
            let integratedAt = now()
            var integratedIDs: [Int64] = []
            var leaves = IntegratedLeaves()
            var nodes = CreatedNodes()
            for row in pending {
                let entry = try row.decode("entry", as: [UInt8].self)
                let leafHash = Merkle.leafHash(entry)
                leaves.append(
                    index: Int64(frontier.size), hash: leafHash, entry: entry, licenceID: try row.decode("licence_id", as: UUID.self),
                    identifier: try row.decode("identifier", as: String.self), kind: try row.decode("kind", as: String.self))
                for created in frontier.append(leafHash) { nodes.append(created) }
                integratedIDs.append(try row.decode("id", as: Int64.self))
            }
            // The batch's leaves, its issued licences' log positions and the perfect nodes it
            // made, one statement each whatever the batch's size (#21: a statement per leaf, per
            // issued licence and per node was ≈ 3 statements per case at a county).
            try await transaction.execute("""
                INSERT INTO log_leaves (leaf_index, leaf_hash, entry, licence_id, identifier, kind, integrated_at)
                SELECT leaf_index, leaf_hash, entry, licence_id, identifier, kind, \(integratedAt)
                FROM unnest(\(SQLArray(leaves.indexes))::int8[], \(SQLArray(leaves.hashes))::bytea[], \(SQLArray(leaves.entries))::bytea[],
                            \(SQLArray(leaves.licenceIDs))::uuid[], \(SQLArray(leaves.identifiers))::text[], \(SQLArray(leaves.kinds))::text[])
                     AS l(leaf_index, leaf_hash, entry, licence_id, identifier, kind)
                """)
            let issued = leaves.issued
            if !issued.licenceIDs.isEmpty {
                try await transaction.execute("""
                    UPDATE licences SET log_index = l.leaf_index
                    FROM unnest(\(SQLArray(issued.licenceIDs))::uuid[], \(SQLArray(issued.indexes))::int8[]) AS l(licence_id, leaf_index)
                    WHERE licences.id = l.licence_id AND licences.log_index IS NULL
                    """)
            }
            if !nodes.levels.isEmpty {
                try await transaction.execute("""
                    INSERT INTO log_nodes (level, idx, hash)
                    SELECT * FROM unnest(\(SQLArray(nodes.levels))::int4[], \(SQLArray(nodes.indexes))::int8[], \(SQLArray(nodes.hashes))::bytea[])
                    """)
            }
            // Exactly the rows integrated: an issuing transaction with a smaller id may commit later.
            let ids = integratedIDs.map(String.init).joined(separator: ",")
            try await transaction.execute("DELETE FROM log_pending WHERE id = ANY(string_to_array(\(ids), ',')::bigint[])")
            let head = TreeHead(logID: node, size: frontier.size, rootHash: frontier.root, timestampMilliseconds: milliseconds(integratedAt))
            try await storeHead(SignedTreeHead(signing: head, with: key), on: transaction)
            return pending.count
        }
    }

    /// One integration's leaves as columns, for one multi-row INSERT.
    struct IntegratedLeaves {
        var indexes: [Int64] = []
        var hashes: [[UInt8]] = []
        var entries: [[UInt8]] = []
        var licenceIDs: [UUID] = []
        var identifiers: [String] = []
        var kinds: [String] = []

        mutating func append(index: Int64, hash: [UInt8], entry: [UInt8], licenceID: UUID, identifier: String, kind: String) {
            indexes.append(index)
            hashes.append(hash)
            entries.append(entry)
            licenceIDs.append(licenceID)
            identifiers.append(identifier)
            kinds.append(kind)
        }

        /// The issuances among them (a status change's licence already has its position), each
        /// licence at its first leaf.
        var issued: (licenceIDs: [UUID], indexes: [Int64]) {
            var seen = Set<UUID>()
            var out: (licenceIDs: [UUID], indexes: [Int64]) = ([], [])
            for position in kinds.indices where kinds[position] == "issued" && seen.insert(licenceIDs[position]).inserted {
                out.licenceIDs.append(licenceIDs[position])
                out.indexes.append(indexes[position])
            }
            return out
        }
    }

    /// The perfect nodes an integration made, as columns.
    struct CreatedNodes {
        var levels: [Int] = []
        var indexes: [Int64] = []
        var hashes: [[UInt8]] = []

        mutating func append(_ node: (id: MerkleNodeID, hash: [UInt8])) {
            levels.append(node.id.level)
            indexes.append(Int64(node.id.index))
            hashes.append(node.hash)
        }
    }

    static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded(.down)) }

    static func currentSize(on connection: PostgresConnection) async throws -> Int {
        try await connection.query("SELECT COALESCE(MAX(leaf_index) + 1, 0) AS size FROM log_leaves").one().decode("size", as: Int.self)
    }

    static func loadFrontier(size: Int, on connection: PostgresConnection) async throws -> MerkleFrontier {
        let ids = MerkleFrontier.ids(forSize: size)
        let hashes = try await nodes(Set(ids), on: connection)
        return try MerkleFrontier(size: size, hashes: hashes)
    }

    /// Fetches stored perfect nodes in one query.
    static func nodes(_ ids: Set<MerkleNodeID>, on connection: PostgresConnection) async throws -> [MerkleNodeID: MerkleHash] {
        guard !ids.isEmpty else { return [:] }
        let sorted = ids.sorted()
        let levels = sorted.map { String($0.level) }.joined(separator: ",")
        let indexes = sorted.map { String($0.index) }.joined(separator: ",")
        var out: [MerkleNodeID: MerkleHash] = [:]
        for row in try await connection.query("""
            SELECT n.level, n.idx, n.hash FROM log_nodes n
            JOIN unnest(string_to_array(\(levels), ',')::int[], string_to_array(\(indexes), ',')::bigint[]) AS want(level, idx)
              ON n.level = want.level AND n.idx = want.idx
            """) {
            out[MerkleNodeID(level: try row.decode("level", as: Int.self), index: Int(try row.decode("idx", as: Int64.self)))] = try row.decode("hash", as: [UInt8].self)
        }
        return out
    }

    /// A view of the stored tree of `size` leaves with the nodes `computation` needs fetched.
    static func view(size: Int, for computation: (MerkleTreeView) throws -> Void, on connection: PostgresConnection) async throws -> MerkleTreeView {
        let needed = MerkleTreeView.nodesNeeded(size: size, computation)
        let hashes = try await nodes(needed, on: connection)
        return MerkleTreeView(size: size) { id throws(MerkleProofError) in
            guard let hash = hashes[id] else { throw .missingNode(id) }
            return hash
        }
    }

    static func storeHead(_ head: SignedTreeHead, on connection: PostgresConnection) async throws {
        try await connection.execute("""
            INSERT INTO tree_heads (tree_size, root_hash, timestamp_ms, algorithm, key_id, signature)
            VALUES (\(Int64(head.head.size)), \(head.head.rootHash), \(head.head.timestampMilliseconds), \(head.algorithm.rawValue), \(head.keyID), \(head.signature))
            ON CONFLICT (tree_size) DO NOTHING
            """)
    }

    static func decodeHead(_ row: PostgresRow, logID: String) throws -> SignedTreeHead {
        SignedTreeHead(
            head: TreeHead(logID: logID, size: Int(try row.decode("tree_size", as: Int64.self)), rootHash: try row.decode("root_hash", as: [UInt8].self),
                           timestampMilliseconds: try row.decode("timestamp_ms", as: Int64.self)),
            algorithm: SealAlgorithm(rawValue: try row.decode("algorithm", as: String.self)) ?? .ed25519,
            keyID: try row.decode("key_id", as: String.self), signature: try row.decode("signature", as: [UInt8].self))
    }

    static func latestHead(on connection: PostgresConnection, logID: String = "") async throws -> SignedTreeHead? {
        try await connection.query("SELECT tree_size, root_hash, timestamp_ms, algorithm, key_id, signature FROM tree_heads ORDER BY tree_size DESC LIMIT 1")
            .first.map { try decodeHead($0, logID: logID) }
    }

    static func head(size: Int, on connection: PostgresConnection, logID: String) async throws -> SignedTreeHead? {
        try await connection.query("SELECT tree_size, root_hash, timestamp_ms, algorithm, key_id, signature FROM tree_heads WHERE tree_size = \(Int64(size))")
            .first.map { try decodeHead($0, logID: logID) }
    }

    struct Leaf {
        var index: Int
        var hash: [UInt8]
        var entry: [UInt8]
    }

    static func leaf(index: Int, on connection: PostgresConnection) async throws -> Leaf? {
        try await connection.query("SELECT leaf_index, leaf_hash, entry FROM log_leaves WHERE leaf_index = \(Int64(index))").first.map(decodeLeaf)
    }

    static func leaf(hash: [UInt8], on connection: PostgresConnection) async throws -> Leaf? {
        try await connection.query("SELECT leaf_index, leaf_hash, entry FROM log_leaves WHERE leaf_hash = \(hash) ORDER BY leaf_index LIMIT 1").first.map(decodeLeaf)
    }

    static func issuanceLeaf(identifier: String, on connection: PostgresConnection) async throws -> Leaf? {
        try await connection.query("SELECT leaf_index, leaf_hash, entry FROM log_leaves WHERE identifier = \(identifier) AND kind = 'issued' ORDER BY leaf_index LIMIT 1").first.map(decodeLeaf)
    }

    static func decodeLeaf(_ row: PostgresRow) throws -> Leaf {
        Leaf(index: Int(try row.decode("leaf_index", as: Int64.self)), hash: try row.decode("leaf_hash", as: [UInt8].self), entry: try row.decode("entry", as: [UInt8].self))
    }
}
