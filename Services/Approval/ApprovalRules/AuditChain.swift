import Crypto
import Foundation
import OneSealCore

/// One entry of the node's hash-chained audit log. Every act on a case appends one; the entry's
/// hash covers the previous entry's hash and this entry's canonical bytes, so editing, deleting or
/// reordering any stored row breaks the chain from that row on.
public struct AuditRecord: Sendable, Hashable, Codable {
    /// Position in the node's chain, from 1, without gaps.
    public var sequence: Int64
    public var caseID: String
    /// e.g. "case.opened", "step.signed", "clock.suspended", "case.decided".
    public var action: String
    public var actorSubject: String
    public var actorRole: String
    public var actorNode: String
    /// Microseconds since 1970 (what PostgreSQL keeps of a timestamp), so a stored row re-hashes exactly.
    public var atMicros: Int64
    /// The act's details as canonical JSON (sorted keys), hashed as stored text.
    public var detailsJSON: String
    public var previousHash: [UInt8]
    public var entryHash: [UInt8]

    public init(
        sequence: Int64, caseID: String, action: String, actorSubject: String, actorRole: String, actorNode: String, atMicros: Int64,
        detailsJSON: String, previousHash: [UInt8], entryHash: [UInt8] = []
    ) {
        self.sequence = sequence
        self.caseID = caseID
        self.action = action
        self.actorSubject = actorSubject
        self.actorRole = actorRole
        self.actorNode = actorNode
        self.atMicros = atMicros
        self.detailsJSON = detailsJSON
        self.previousHash = previousHash
        self.entryHash = entryHash
    }

    /// The previous hash of the first entry: 32 zero bytes.
    public static let genesis = [UInt8](repeating: 0, count: 32)

    /// "oneseal-audit/1" followed by each field as a 4-byte big-endian length and its UTF-8 bytes,
    /// in this order: sequence, case id, action, actor subject, actor role, actor node, at (µs),
    /// details JSON. Length prefixes make the encoding unambiguous whatever the fields contain.
    public var canonicalBytes: [UInt8] {
        var out = Array("oneseal-audit/1".utf8)
        for field in [String(sequence), caseID, action, actorSubject, actorRole, actorNode, String(atMicros), detailsJSON] {
            let bytes = Array(field.utf8)
            let count = UInt32(bytes.count)
            out += [UInt8(count >> 24), UInt8((count >> 16) & 0xff), UInt8((count >> 8) & 0xff), UInt8(count & 0xff)]
            out += bytes
        }
        return out
    }

    /// SHA-256(previous hash ‖ canonical bytes).
    public var computedHash: [UInt8] {
        var hasher = SHA256()
        hasher.update(data: previousHash)
        hasher.update(data: canonicalBytes)
        return Array(hasher.finalize())
    }

    /// The next entry of a chain whose last entry is `previous` (nil: the first entry).
    public static func next(
        after previous: (sequence: Int64, hash: [UInt8])?, caseID: String, action: String, actorSubject: String, actorRole: String,
        actorNode: String, atMicros: Int64, detailsJSON: String
    ) -> AuditRecord {
        var record = AuditRecord(
            sequence: (previous?.sequence ?? 0) + 1, caseID: caseID, action: action, actorSubject: actorSubject, actorRole: actorRole,
            actorNode: actorNode, atMicros: atMicros, detailsJSON: detailsJSON, previousHash: previous?.hash ?? genesis)
        record.entryHash = record.computedHash
        return record
    }

    /// Canonical JSON of string details (sorted keys, no extra white space).
    public static func details(_ values: [String: String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: encoder.encode(values), as: UTF8.self)) ?? "{}"
    }
}

/// The verdict on a chain: intact, or the first row that does not fit and why.
public struct AuditVerification: Sendable, Hashable {
    public var intact: Bool
    public var entriesChecked: Int
    /// Sequence of the first bad row (0 when intact). For a deleted row, the row after the gap.
    public var firstBrokenSequence: Int64
    public var headHash: [UInt8]
    public var message: String
}

public enum AuditChain {
    /// Verifies entries read in sequence order from the start of the chain (sequence 1), and, when
    /// given, that the chain ends where the separately stored head says (a deleted tail).
    public static func verify(_ entries: [AuditRecord], expectedHead: (sequence: Int64, hash: [UInt8])? = nil) -> AuditVerification {
        var verifier = AuditChainVerifier()
        for entry in entries where verifier.feed(entry) {}
        return verifier.finish(expectedHead: expectedHead)
    }

    /// Checks entries that are a subset of a chain (one case's entries, as in a case file): each
    /// entry's hash must match its content and stored previous hash. Links between entries of other
    /// cases are not in the subset; the node-wide `verify` covers them.
    public static func verifyEach(_ entries: [AuditRecord]) -> AuditVerification {
        var checked = 0
        var last: [UInt8] = []
        for entry in entries {
            if entry.computedHash != entry.entryHash {
                return AuditVerification(intact: false, entriesChecked: checked, firstBrokenSequence: entry.sequence, headHash: last, message: "entry \(entry.sequence): entry_hash does not match its content")
            }
            checked += 1
            last = entry.entryHash
        }
        return AuditVerification(intact: true, entriesChecked: checked, firstBrokenSequence: 0, headHash: last, message: "\(checked) entries, each intact")
    }
}

/// Verifies a chain entry by entry, so a node's whole log can be checked page by page without
/// holding it in memory. Feed entries in sequence order from sequence 1; stop at the first failure.
public struct AuditChainVerifier: Sendable {
    private var previousSequence: Int64 = 0
    private var previousHash: [UInt8] = AuditRecord.genesis
    public private(set) var checked = 0
    public private(set) var failure: AuditVerification?

    public init() {}

    /// Checks the next entry; false once the chain is broken (the failure names the row).
    @discardableResult
    public mutating func feed(_ entry: AuditRecord) -> Bool {
        guard failure == nil else { return false }
        let expectedSequence = previousSequence + 1
        func broken(_ why: String) -> Bool {
            failure = AuditVerification(
                intact: false, entriesChecked: checked, firstBrokenSequence: entry.sequence, headHash: checked == 0 ? [] : previousHash,
                message: "entry \(entry.sequence): \(why)")
            return false
        }
        if entry.sequence != expectedSequence {
            return broken(entry.sequence > expectedSequence
                ? "entries \(expectedSequence)…\(entry.sequence - 1) are missing (deleted rows)"
                : "sequence out of order after \(previousSequence) (reordered or duplicated rows)")
        }
        if entry.previousHash != previousHash {
            return broken("previous_hash does not match entry \(expectedSequence - 1)'s hash (a row was replaced, reordered or deleted)")
        }
        if entry.computedHash != entry.entryHash {
            return broken("entry_hash does not match its content (the row was edited)")
        }
        checked += 1
        previousSequence = entry.sequence
        previousHash = entry.entryHash
        return true
    }

    /// The verdict; with `expectedHead`, also that the chain ends where the stored head says.
    public func finish(expectedHead: (sequence: Int64, hash: [UInt8])? = nil) -> AuditVerification {
        if let failure { return failure }
        let headHash = checked == 0 ? [] : previousHash
        if let head = expectedHead, previousSequence != head.sequence || (head.sequence != 0 && previousHash != head.hash) {
            return AuditVerification(
                intact: false, entriesChecked: checked, firstBrokenSequence: min(previousSequence + 1, max(head.sequence, 1)), headHash: headHash,
                message: "the chain ends at entry \(previousSequence) but the recorded head is entry \(head.sequence) (rows at the end were deleted or the head was altered)")
        }
        return AuditVerification(intact: true, entriesChecked: checked, firstBrokenSequence: 0, headHash: headHash, message: "\(checked) entries, chain intact")
    }
}

extension Array where Element == UInt8 {
    public var hexString: String { Hex.lowercase(self) }
}
