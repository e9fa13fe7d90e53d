import Crypto
import Foundation
import OneSealCore

/// One published version of an item: what a case pins so that a later catalogue change never
/// changes the rules of a running case. `(implementationCode, version)` identifies it;
/// `contentHash` says whether a new publication actually changed anything.
public struct ItemVersion: Sendable, Hashable, Codable {
    public let implementationCode: String
    /// 1 for the first publication.
    public let version: Int
    /// SHA-256 (hex) of the item's canonical JSON (`CatalogueItem.canonicalJSON`).
    public let contentHash: String

    public init(implementationCode: String, version: Int, contentHash: String) {
        self.implementationCode = implementationCode
        self.version = version
        self.contentHash = contentHash
    }

    /// The result of publishing an item over the current version.
    public struct Publication: Sendable, Hashable {
        public let version: ItemVersion
        /// False when the content equals the current version's: nothing new is stored (UpsertItem's
        /// `created_new_version`).
        public let createdNewVersion: Bool
    }

    /// Publishing rule: a first publication is version 1; a changed item is the current version + 1;
    /// an unchanged one is a no-op that returns the current version. Refuses (FAILED_PRECONDITION) a
    /// `current` that belongs to another item, which would mean the caller looked up the wrong row.
    public static func publishing(_ item: CatalogueItem, over current: ItemVersion?) throws(IntakeRuleError) -> Publication {
        let hash = item.contentHash
        guard let current else {
            return Publication(version: ItemVersion(implementationCode: item.implementationCode, version: 1, contentHash: hash), createdNewVersion: true)
        }
        guard current.implementationCode == item.implementationCode else {
            throw .failedPrecondition("item \(item.implementationCode) cannot be published over a version of item \(current.implementationCode)")
        }
        if current.contentHash == hash {
            return Publication(version: current, createdNewVersion: false)
        }
        return Publication(
            version: ItemVersion(implementationCode: item.implementationCode, version: current.version + 1, contentHash: hash),
            createdNewVersion: true)
    }
}

extension CatalogueItem {
    /// The item as JSON with sorted keys and no white space: the same content always gives the
    /// same bytes, on any host, so its hash can decide whether a publication changed anything.
    public var canonicalJSON: Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain strings, integers, booleans and arrays of them cannot fail.
        return try! encoder.encode(self)
    }

    /// SHA-256 (hex) of `canonicalJSON`.
    public var contentHash: String { ContentHash.hex(canonicalJSON) }
}

/// The content hash of item versions: SHA-256 from swift-crypto, as 64 lower-case hex characters
/// (stored in `catalogue_versions.content_hash`, so the spelling must never change).
enum ContentHash {
    static func hex(_ message: some DataProtocol) -> String {
        Hex.lowercase(Crypto.SHA256.hash(data: message))
    }
}
