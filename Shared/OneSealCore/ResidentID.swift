/// Sex as encoded in digit 17 of a resident ID number (odd = male).
public enum Sex: String, Sendable, Hashable, Codable {
    case male
    case female

    public var chineseName: String { self == .male ? "男" : "女" }
}

/// Why a text is not a valid resident identity number, in words a window clerk can read out.
public enum ResidentIDError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Not 18 characters (15-digit first-generation numbers are no longer valid documents).
    case wrongLength
    /// A character that may not stand at this position (1-based): digits 1–17 must be 0–9, the
    /// 18th 0–9 or X.
    case invalidCharacter(position: Int)
    /// Digits 7–14 are not a real date, or a date after the day of checking.
    case invalidBirthDate
    /// The 18th character does not match the one computed from the first 17.
    case checksumMismatch(expected: Character, found: Character)

    public var description: String {
        switch self {
        case .wrongLength:
            "a resident ID number has 18 characters"
        case .invalidCharacter(let position):
            position == 18
                ? "character 18 of the resident ID number must be a digit or X"
                : "character \(position) of the resident ID number must be a digit"
        case .invalidBirthDate:
            "the birth date in the resident ID number (characters 7–14) is not a real past date"
        case .checksumMismatch(let expected, let found):
            "the check character of the resident ID number is \(found) but should be \(expected); a character was probably mistyped"
        }
    }
}

/// A validated citizen identity number (公民身份号码, GB 11643-1999): 6-digit address code,
/// 8-digit birth date, 3-digit sequence (odd = male), ISO 7064 MOD 11-2 check character.
///
/// Applicants are validated at intake so that a mistyped number is caught at the window, not when
/// the licence is already issued to the wrong holder code.
public struct ResidentID: Sendable, Hashable, CustomStringConvertible {
    /// The 18 characters, with a lower-case x normalised to X.
    public let value: String
    public let birthDate: CivilDate
    public let sex: Sex

    static let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    static let checkCharacters: [Character] = Array("10X98765432")

    /// Validates `text`; `today` is the date of checking (Beijing time) so that a birth date in
    /// the future is rejected without reading the system clock.
    public init(_ text: String, today: CivilDate) throws(ResidentIDError) {
        let characters = Array(text)
        guard characters.count == 18 else { throw .wrongLength }
        var digits: [Int] = []
        for (index, character) in characters.prefix(17).enumerated() {
            guard character.isASCII, let digit = character.wholeNumberValue else {
                throw .invalidCharacter(position: index + 1)
            }
            digits.append(digit)
        }
        var found = characters[17]
        if found == "x" { found = "X" }
        guard found == "X" || (found.isASCII && found.isWholeNumber) else {
            throw .invalidCharacter(position: 18)
        }
        func number(_ range: Range<Int>) -> Int { digits[range].reduce(0) { $0 * 10 + $1 } }
        guard let birth = CivilDate(year: number(6..<10), month: number(10..<12), day: number(12..<14)),
              birth.year >= 1800, birth <= today
        else { throw .invalidBirthDate }
        let expected = Self.checkCharacter(digits: digits)
        guard expected == found else { throw .checksumMismatch(expected: expected, found: found) }

        self.value = String(characters.prefix(17)) + String(found)
        self.birthDate = birth
        self.sex = digits[16] % 2 == 1 ? .male : .female
    }

    /// The check character for 17 digits, or nil when `first17` is not 17 ASCII digits. Useful to
    /// build test numbers and to tell a clerk which character would be right.
    public static func checkCharacter(forFirst17 first17: String) -> Character? {
        let characters = Array(first17)
        guard characters.count == 17 else { return nil }
        var digits: [Int] = []
        for character in characters {
            guard character.isASCII, let digit = character.wholeNumberValue else { return nil }
            digits.append(digit)
        }
        return checkCharacter(digits: digits)
    }

    private static func checkCharacter(digits: [Int]) -> Character {
        let sum = zip(digits, weights).reduce(0) { $0 + $1.0 * $1.1 }
        return checkCharacters[sum % 11]
    }

    /// The administrative division code of the place of first registration (digits 1–6).
    public var addressCode: String { String(value.prefix(6)) }

    /// The number as shown on screens, receipts and logs: first 6 and last 4 kept, e.g.
    /// `110105********002X`, so that staff can match a person without exposing the birth date.
    public var masked: String { ResidentID.mask(value) }

    /// Masks any identity-like text the same way (first 6, last 4 kept), for values that were
    /// never validated, such as a number echoed back in an error.
    public static func mask(_ text: String) -> String {
        let characters = Array(text)
        guard characters.count > 10 else { return String(repeating: "*", count: characters.count) }
        return String(characters.prefix(6)) + String(repeating: "*", count: characters.count - 10)
            + String(characters.suffix(4))
    }

    /// Masked, so that printing a value in a log never leaks the full number.
    public var description: String { masked }
}
