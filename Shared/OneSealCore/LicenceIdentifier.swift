/// Why a text or a set of parts is not a valid electronic licence identifier.
public enum LicenceIdentifierError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Does not start with the fixed OID arc `1.2.156.3005.2.`.
    case wrongPrefix
    /// After the prefix there must be five dot-separated fields.
    case wrongFieldCount(found: Int)
    /// Type code: the defining agency's 18-character USCC followed by 3 digits.
    case invalidTypeCode(String)
    /// Issuer: an 18-character unified social credit code.
    case invalidIssuer(String)
    /// Serial: 1–64 characters of 0–9 and A–Z.
    case invalidSerial(String)
    /// Version: exactly 3 digits, 001–999.
    case invalidVersion(String)
    /// The last field is not one character of 0–9, A–Z.
    case invalidCheckCharacter(String)
    /// The check character does not match the rest: the identifier was mistyped or altered.
    case checkCharacterMismatch(expected: Character, found: Character)

    public var description: String {
        switch self {
        case .wrongPrefix: "a licence identifier starts with \(LicenceIdentifier.prefix)."
        case .wrongFieldCount(let found):
            "a licence identifier has type code, issuer, serial, version and check character after the prefix; found \(found) fields"
        case .invalidTypeCode(let text): "licence type code “\(text)” is not an 18-character agency code followed by 3 digits"
        case .invalidIssuer(let text): "licence issuer “\(text)” is not an 18-character unified social credit code"
        case .invalidSerial(let text): "licence serial “\(text)” must be 1–64 characters of 0–9 and A–Z"
        case .invalidVersion(let text): "licence version “\(text)” must be three digits from 001 to 999"
        case .invalidCheckCharacter(let text): "licence check character “\(text)” must be a single 0–9 or A–Z"
        case .checkCharacterMismatch(let expected, let found):
            "the licence identifier's check character is \(found) but should be \(expected); it was mistyped or altered"
        }
    }
}

/// The identifier of an electronic licence (电子证照标识, GB/T 36903 style):
/// `1.2.156.3005.2.{type code}.{issuer USCC}.{serial}.{version}.{check}`.
///
/// The check character (ISO/IEC 7064 MOD 37,36 over type code + issuer + serial + version) lets a
/// verifier reject a mistyped or altered identifier before any look-up.
public struct LicenceIdentifier: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The fixed OID arc for electronic licences.
    public static let prefix = "1.2.156.3005.2"

    /// The licence type: the defining agency's USCC + a 3-digit number (21 characters).
    public let typeCode: String
    /// The issuing authority's unified social credit code.
    public let issuer: String
    /// The issuer's own serial number for the licence.
    public let serial: String
    /// 1…999; a changed licence keeps its serial and gets a new version.
    public let version: Int
    public let checkCharacter: Character

    /// Builds an identifier and computes its check character. Parts are upper-cased.
    ///
    /// The issuer and agency codes are checked for shape (18 characters of the USCC alphabet),
    /// not for their own check character, because pilot codes with a wrong one are real; validate
    /// them with `UnifiedSocialCreditCode` and the node's allow-list first.
    public init(typeCode: String, issuer: String, serial: String, version: Int) throws(LicenceIdentifierError) {
        let typeCode = typeCode.uppercased()
        let issuer = issuer.uppercased()
        let serial = serial.uppercased()
        guard Self.isTypeCode(typeCode) else { throw .invalidTypeCode(typeCode) }
        guard Self.isCodeShaped(issuer) else { throw .invalidIssuer(issuer) }
        guard Self.isSerial(serial) else { throw .invalidSerial(serial) }
        guard (1...999).contains(version) else { throw .invalidVersion(String(version)) }
        self.typeCode = typeCode
        self.issuer = issuer
        self.serial = serial
        self.version = version
        self.checkCharacter = ISO7064.mod37_36CheckCharacter(
            for: typeCode + issuer + serial + Self.versionText(version))!
    }

    /// Parses and verifies an identifier. Lower case is accepted; the value is upper-cased.
    public init(parsing text: String) throws(LicenceIdentifierError) {
        let text = text.uppercased()
        guard text.hasPrefix(Self.prefix + ".") else { throw .wrongPrefix }
        let fields = text.dropFirst(Self.prefix.count + 1).split(separator: ".", omittingEmptySubsequences: false)
        guard fields.count == 5 else { throw .wrongFieldCount(found: fields.count) }
        let versionText = String(fields[3])
        guard versionText.count == 3, versionText.allSatisfy({ $0.isASCII && $0.isWholeNumber }),
              let version = Int(versionText), (1...999).contains(version)
        else { throw .invalidVersion(versionText) }
        let built = try LicenceIdentifier(
            typeCode: String(fields[0]), issuer: String(fields[1]), serial: String(fields[2]), version: version)
        let checkField = fields[4]
        guard checkField.count == 1, let found = checkField.first, ISO7064.alphanumericValue(found) != nil else {
            throw .invalidCheckCharacter(String(checkField))
        }
        guard found == built.checkCharacter else {
            throw .checkCharacterMismatch(expected: built.checkCharacter, found: found)
        }
        self = built
    }

    /// The full identifier text.
    public var description: String {
        "\(Self.prefix).\(typeCode).\(issuer).\(serial).\(Self.versionText(version)).\(checkCharacter)"
    }

    /// Encoded as its text; decoding verifies the check character.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            self = try LicenceIdentifier(parsing: text)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    static func versionText(_ version: Int) -> String {
        version < 10 ? "00\(version)" : version < 100 ? "0\(version)" : String(version)
    }

    private static func isCodeShaped(_ text: String) -> Bool {
        text.count == 18 && text.allSatisfy { UnifiedSocialCreditCode.alphabet.contains($0) }
    }

    private static func isTypeCode(_ text: String) -> Bool {
        text.count == 21 && isCodeShaped(String(text.prefix(18)))
            && text.suffix(3).allSatisfy { $0.isASCII && $0.isWholeNumber }
    }

    private static func isSerial(_ text: String) -> Bool {
        (1...64).contains(text.count) && text.allSatisfy { ISO7064.alphanumericValue($0) != nil }
    }
}
