/// ISO/IEC 7064 check-character systems used by national identifiers.
public enum ISO7064 {
    static let alphanumerics: [Character] = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")

    /// The value of `character` in the 0–9, A–Z alphabet (A = 10 … Z = 35; lower case allowed).
    static func alphanumericValue(_ character: Character) -> Int? {
        if let index = alphanumerics.firstIndex(of: character) { return index }
        return character.isASCII ? alphanumerics.firstIndex(of: Character(character.uppercased())) : nil
    }

    /// The MOD 37,36 check character of `text` (hybrid system, M = 36): p = 36; for each
    /// character p = (p + v) mod 36, 0 → 36, then p = 2p mod 37; the check value a satisfies
    /// (p + a) mod 36 = 1. Returns nil when `text` is empty or holds anything but 0–9 and A–Z.
    public static func mod37_36CheckCharacter(for text: some StringProtocol) -> Character? {
        guard !text.isEmpty else { return nil }
        var p = 36
        for character in text {
            guard let value = alphanumericValue(character) else { return nil }
            p = (p + value) % 36
            if p == 0 { p = 36 }
            p = (2 * p) % 37
        }
        let a = ((1 - p) % 36 + 36) % 36
        return alphanumerics[a]
    }
}
