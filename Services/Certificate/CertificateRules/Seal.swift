import Crypto
import Foundation
import OneSealCore

/// The signature algorithm of a seal. The national electronic seal is SM2 with SM3 (GB/T 38540);
/// where it is not available the node signs with Ed25519. Verifiers dispatch on this value, so
/// SM2 can be added without changing a stored licence or the wire.
public enum SealAlgorithm: String, Sendable, Hashable, Codable, CaseIterable {
    case ed25519
    case sm2Sm3 = "sm2_sm3"
}

/// What a seal signature is over. Each purpose prefixes its own label and a zero byte to the bytes
/// signed, so a signature made for a tree head can never be replayed as one over licence content.
public enum SealPurpose: String, Sendable, Hashable {
    case licence = "OneSeal licence v1"
    case treeHead = "OneSeal tree head v1"

    public func message(_ bytes: [UInt8]) -> [UInt8] { Array(rawValue.utf8) + [0] + bytes }
}

/// Why a seal key cannot be used or a signature does not verify.
public enum SealError: Error, Sendable, Hashable, CustomStringConvertible {
    case unsupportedAlgorithm(SealAlgorithm)
    case malformedKey(line: Int, reason: String)
    case noKeys
    case malformedPublicKey(String)
    case badSignature(keyID: String)
    case unreadableFile(String)

    public var description: String {
        switch self {
        case .unsupportedAlgorithm(let algorithm): "signature algorithm \(algorithm.rawValue) is not available on this node"
        case .malformedKey(let line, let reason): "seal key file line \(line): \(reason)"
        case .noKeys: "the seal key file holds no key (one `ed25519:<base64 private key>` per line, the current key first)"
        case .malformedPublicKey(let reason): "public key: \(reason)"
        case .badSignature(let keyID): "the signature does not verify with key \(keyID): the content was altered or the seal forged"
        case .unreadableFile(let path): "cannot read the seal key file \(path)"
        }
    }
}

/// A public seal key: what a trust list publishes and a verifier checks signatures with.
public struct SealPublicKey: Sendable, Hashable {
    public let algorithm: SealAlgorithm
    public let rawRepresentation: [UInt8]

    public init(algorithm: SealAlgorithm, rawRepresentation: [UInt8]) throws(SealError) {
        switch algorithm {
        case .ed25519:
            guard rawRepresentation.count == 32, (try? Curve25519.Signing.PublicKey(rawRepresentation: rawRepresentation)) != nil else {
                throw .malformedPublicKey("an Ed25519 public key is 32 bytes, got \(rawRepresentation.count)")
            }
        case .sm2Sm3:
            // Accepted into a trust list (a peer may sign with SM2); verification reports it unsupported.
            guard rawRepresentation.count == 65, rawRepresentation.first == 0x04 else {
                throw .malformedPublicKey("an SM2 public key is an uncompressed point of 65 bytes starting 0x04")
            }
        }
        self.algorithm = algorithm
        self.rawRepresentation = rawRepresentation
    }

    /// The first 16 hex digits of SHA-256 over the raw key: names the key in signatures and trust lists.
    public var keyID: String {
        Hex.lowercase(SHA256.hash(data: rawRepresentation).prefix(8))
    }

    /// Checks `signature` over `bytes` signed for `purpose`.
    public func verify(_ signature: [UInt8], over bytes: [UInt8], purpose: SealPurpose) throws(SealError) {
        switch algorithm {
        case .ed25519:
            guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: rawRepresentation),
                  key.isValidSignature(signature, for: purpose.message(bytes)) else {
                throw .badSignature(keyID: keyID)
            }
        case .sm2Sm3:
            throw .unsupportedAlgorithm(.sm2Sm3)
        }
    }
}

/// A private seal key. Never printed: `description` shows only the key id.
public struct SealKey: Sendable, CustomStringConvertible {
    public let algorithm: SealAlgorithm
    private let ed25519: Curve25519.Signing.PrivateKey
    public let publicKey: SealPublicKey

    public init(ed25519 key: Curve25519.Signing.PrivateKey) {
        self.algorithm = .ed25519
        self.ed25519 = key
        // A key the library just produced is 32 valid bytes.
        self.publicKey = try! SealPublicKey(algorithm: .ed25519, rawRepresentation: Array(key.publicKey.rawRepresentation))
    }

    public static func generate() -> SealKey { SealKey(ed25519: Curve25519.Signing.PrivateKey()) }

    public var keyID: String { publicKey.keyID }

    /// Signs `bytes` for `purpose` (the label is prepended, see `SealPurpose`).
    public func sign(_ bytes: [UInt8], purpose: SealPurpose) -> [UInt8] {
        // Curve25519 signing only fails on a broken platform RNG/backend; nothing to recover there.
        Array(try! ed25519.signature(for: purpose.message(bytes)))
    }

    /// The key file line for this key (`ed25519:<base64 of the 32-byte private key>`).
    public var fileLine: String { "ed25519:" + ed25519.rawRepresentation.base64EncodedString() }

    public var description: String { "SealKey(\(algorithm.rawValue), id \(keyID))" }
}

/// The node's seal keys from ONESEAL_SEAL_KEY_FILE: one `ed25519:<base64>` per line, the current
/// (signing) key first, earlier keys after it. Rotation = put a new key on the first line; earlier
/// licences stay valid because their keys remain in the trust list (the service records every key it
/// has seen there, with the time it stopped signing).
public struct SealKeyring: Sendable, CustomStringConvertible {
    public let current: SealKey
    public let earlier: [SealKey]

    public init(keys: [SealKey]) throws(SealError) {
        guard let first = keys.first else { throw .noKeys }
        self.current = first
        self.earlier = Array(keys.dropFirst())
    }

    public init(text: String) throws(SealError) {
        var keys: [SealKey] = []
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let parts = line.split(separator: ":", maxSplits: 1).map(String.init)
            let (algorithm, body) = parts.count == 2 ? (parts[0].lowercased(), parts[1]) : ("ed25519", parts[0])
            switch algorithm {
            case "ed25519":
                guard let data = Data(base64Encoded: body), data.count == 32,
                      let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: data) else {
                    throw .malformedKey(line: number + 1, reason: "not the base64 of a 32-byte Ed25519 private key")
                }
                keys.append(SealKey(ed25519: key))
            case "sm2", "sm2_sm3":
                throw .unsupportedAlgorithm(.sm2Sm3)
            default:
                throw .malformedKey(line: number + 1, reason: "unknown algorithm '\(algorithm)' (ed25519)")
            }
        }
        try self.init(keys: keys)
    }

    public init(contentsOfFile path: String) throws(SealError) {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw .unreadableFile(path) }
        try self.init(text: text)
    }

    public var all: [SealKey] { [current] + earlier }

    /// Never the private keys.
    public var description: String { "SealKeyring(current \(current.keyID), \(earlier.count) earlier)" }
}
