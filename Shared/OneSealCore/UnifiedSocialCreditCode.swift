/// Why a text is not a valid unified social credit code.
public enum UnifiedSocialCreditCodeError: Error, Sendable, Hashable, CustomStringConvertible {
    case wrongLength
    /// A character outside `0123456789ABCDEFGHJKLMNPQRTUWXY` (no I, O, S, V, Z); 1-based.
    case invalidCharacter(position: Int)
    case checksumMismatch(expected: Character, found: Character)

    public var description: String {
        switch self {
        case .wrongLength:
            "a unified social credit code has 18 characters"
        case .invalidCharacter(let position):
            "character \(position) of the unified social credit code is not one of 0–9 or A–Y without I, O, S, V, Z"
        case .checksumMismatch(let expected, let found):
            "the check character of the unified social credit code is \(found) but should be \(expected); a character was probably mistyped"
        }
    }
}

/// A validated unified social credit code (统一社会信用代码, GB 32100-2015): registration
/// authority, entity type, 6-digit division code, 9-character organisation code, check character.
public struct UnifiedSocialCreditCode: Sendable, Hashable, CustomStringConvertible {
    /// The 18 characters, upper-cased.
    public let value: String
    /// True when the check character is wrong but the code is on the node's allow-list of early
    /// pilot codes that were issued that way and are real.
    public let isAllowListedException: Bool

    public static let alphabet: [Character] = Array("0123456789ABCDEFGHJKLMNPQRTUWXY")
    static let weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]

    /// Validates `text` (lower case is accepted and upper-cased). `allowList` holds codes, upper
    /// case, that fail the check yet must be accepted; configured per node.
    public init(_ text: String, allowList: Set<String> = []) throws(UnifiedSocialCreditCodeError) {
        let normalized = text.uppercased()
        let characters = Array(normalized)
        guard characters.count == 18 else { throw .wrongLength }
        var values: [Int] = []
        for (index, character) in characters.enumerated() {
            guard let value = Self.value(of: character) else { throw .invalidCharacter(position: index + 1) }
            values.append(value)
        }
        let expected = Self.checkCharacter(values: Array(values.prefix(17)))
        var exception = false
        if expected != characters[17] {
            guard allowList.contains(normalized) else {
                throw .checksumMismatch(expected: expected, found: characters[17])
            }
            exception = true
        }
        self.value = normalized
        self.isAllowListedException = exception
    }

    /// The check character for 17 code characters, or nil if any is outside the alphabet.
    public static func checkCharacter(forFirst17 first17: String) -> Character? {
        let characters = Array(first17.uppercased())
        guard characters.count == 17 else { return nil }
        var values: [Int] = []
        for character in characters {
            guard let value = value(of: character) else { return nil }
            values.append(value)
        }
        return checkCharacter(values: values)
    }

    private static func value(of character: Character) -> Int? {
        alphabet.firstIndex(of: character)
    }

    private static func checkCharacter(values: [Int]) -> Character {
        let sum = zip(values, weights).reduce(0) { $0 + $1.0 * $1.1 }
        let check = 31 - sum % 31
        return alphabet[check == 31 ? 0 : check]
    }

    /// Character 1: the registering authority class (1 机构编制, 5 民政, 9 工商 …).
    public var registrationAuthority: Character { Array(value)[0] }
    /// Character 2: the entity type within that authority.
    public var entityType: Character { Array(value)[1] }
    /// Characters 3–8: the GB/T 2260 division of the registering authority.
    public var divisionCode: String { String(Array(value)[2..<8]) }
    /// Characters 9–17: the organisation code (GB 11714).
    public var organizationCode: String { String(Array(value)[8..<17]) }

    public var description: String { value }
}
