import Crypto
import OneSealCore
import Foundation

/// The node's data keys for personal data at rest (个人信息保护法): ID and phone numbers are stored
/// sealed, and looked up through a keyed blind index, so a copy of the database alone reveals no
/// one's identity.
///
/// A keyring holds the current key (seals everything new) and any older keys (still open what they
/// sealed), so a key can be rotated without rewriting every row at once. Each key is 32 random
/// bytes; two subkeys are derived from it with HKDF-SHA256 so the cipher key and the index key are
/// never the same bytes.
public struct DataKeyring: Sendable {
    /// One key of the ring: its id (first 4 bytes of SHA-256 of the key, written into every sealed
    /// value so opening picks the right key) and the derived subkeys.
    struct Entry: Sendable {
        let id: [UInt8]
        let cipherKey: SymmetricKey
        let indexKey: SymmetricKey
    }

    let current: Entry
    let older: [Entry]

    /// Loading failed: the message says which line and why, for the operator.
    public struct InvalidKey: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// Keys as base64 text, one per line (the current key first); blank lines and `#` comments are
    /// ignored. This is the format of `ONESEAL_DATA_KEY_FILE` and of `oneseal keys data --out`.
    public init(text: String) throws(InvalidKey) {
        var entries: [Entry] = []
        for (number, line) in text.split(whereSeparator: \.isNewline).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            guard let bytes = Data(base64Encoded: trimmed), bytes.count == 32 else {
                throw InvalidKey(description: "line \(number + 1): not the base64 of 32 bytes")
            }
            entries.append(Self.entry(for: SymmetricKey(data: bytes)))
        }
        guard let first = entries.first else { throw InvalidKey(description: "no key in the key file") }
        self.current = first
        self.older = Array(entries.dropFirst())
        // The index key must be the same for every row ever written, or look-ups would miss rows
        // written before a rotation: the blind index always uses the *oldest* key's index subkey.
        self.indexKey = entries.last!.indexKey
    }

    /// Reads a key file (see `init(text:)`).
    public init(contentsOfFile path: String) throws(InvalidKey) {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw InvalidKey(description: "cannot read \(path)")
        }
        try self.init(text: text)
    }

    /// A new random key as base64 text, for a fresh key file.
    public static func generateKeyText() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() }
    }

    let indexKey: SymmetricKey

    private static func entry(for key: SymmetricKey) -> Entry {
        let id = key.withUnsafeBytes { Array(SHA256.hash(data: Data($0)).prefix(4)) }
        let cipherKey = HKDF<SHA256>.deriveKey(inputKeyMaterial: key, info: Data("oneseal personal data cipher v1".utf8), outputByteCount: 32)
        let indexKey = HKDF<SHA256>.deriveKey(inputKeyMaterial: key, info: Data("oneseal personal data blind index v1".utf8), outputByteCount: 32)
        return Entry(id: id, cipherKey: cipherKey, indexKey: indexKey)
    }

    // MARK: Sealing

    /// Format byte of sealed values, so the layout can change later without guessing.
    static let formatVersion: UInt8 = 1

    /// Seals `plaintext` with AES-256-GCM under the current key. `context` is authenticated but not
    /// stored (e.g. the application id): a sealed value copied onto another row does not open there.
    public func seal(_ plaintext: [UInt8], context: String) throws -> [UInt8] {
        let box = try AES.GCM.seal(plaintext, using: current.cipherKey, authenticating: Array(context.utf8))
        guard let combined = box.combined else { throw PrivacyError.sealFailed }
        return [Self.formatVersion] + current.id + Array(combined)
    }

    /// Opens a value sealed by `seal` with any key of the ring; throws if it was tampered with,
    /// sealed for another context, or sealed with a key no longer in the ring.
    public func open(_ sealed: [UInt8], context: String) throws -> [UInt8] {
        guard sealed.count > 5, sealed[0] == Self.formatVersion else { throw PrivacyError.malformed }
        let id = Array(sealed[1..<5])
        guard let entry = ([current] + older).first(where: { $0.id == id }) else {
            throw PrivacyError.unknownKey(Hex.lowercase(id))
        }
        let box = try AES.GCM.SealedBox(combined: sealed[5...])
        return Array(try AES.GCM.open(box, using: entry.cipherKey, authenticating: Array(context.utf8)))
    }

    /// Seals a `Codable` value as JSON.
    public func seal<Value: Encodable>(json value: Value, context: String) throws -> [UInt8] {
        try seal(Array(JSONEncoder().encode(value)), context: context)
    }

    /// Opens a value sealed by `seal(json:context:)`.
    public func open<Value: Decodable>(json type: Value.Type, _ sealed: [UInt8], context: String) throws -> Value {
        try JSONDecoder().decode(type, from: Data(try open(sealed, context: context)))
    }

    // MARK: Blind index

    /// A keyed hash of an identifier for equality look-ups ("every application of this ID number")
    /// without storing the number in the clear. `purpose` separates index spaces (an ID number and
    /// a phone number that happen to be equal give different indexes). The value is normalised as
    /// identity codes are (`IdentityCode.normalized`: trimmed, full-width forms made ASCII, letters
    /// upper-cased), so a code typed "x" or in 全角 finds what was stored.
    public func blindIndex(_ value: String, purpose: String) -> [UInt8] {
        let normalised = IdentityCode.normalized(value)
        var mac = HMAC<SHA256>(key: indexKey)
        mac.update(data: Array(purpose.utf8) + [0] + Array(normalised.utf8))
        return Array(mac.finalize())
    }
}

/// Why personal data could not be sealed or opened.
public enum PrivacyError: Error, Sendable, Hashable, CustomStringConvertible {
    case sealFailed
    case malformed
    case unknownKey(String)

    public var description: String {
        switch self {
        case .sealFailed: "sealing failed"
        case .malformed: "sealed value is malformed"
        case .unknownKey(let id): "sealed with data key \(id), which is not in the key ring (ONESEAL_DATA_KEY_FILE)"
        }
    }
}
