/// Identity codes (resident ID numbers, unified social credit codes) as people type them, made
/// into the one code that is checked, stored, indexed and compared.
///
/// Every place a code enters — intake's applicant, agent and collector, approval's manually opened
/// case, certificate's holder and holder look-up, the blind indexes of every service, token subjects
/// compared with stored codes, the CLI — passes it through `normalized(_:)` before checking it, so
/// "91371302ma3c1234x7 ", "９１３７１３０２ＭＡ３Ｃ１２３４Ｘ７" and "91371302MA3C1234X7" are one
/// company with one code and one blind index (issue #20 item 6, decision R1).
public enum IdentityCode {
    /// The code as stored: surrounding whitespace (also the ideographic space U+3000) removed,
    /// full-width ASCII forms (U+FF01–U+FF5E, what a Chinese input method in 全角 mode types) turned
    /// into their ASCII characters, letters upper-cased (GB 11643's check character X and GB 32100's
    /// letters are upper case).
    ///
    /// Nothing else is changed: inner spaces, a letter O for a zero or any other character stay, so
    /// the validator names the bad position instead of the code silently becoming another one.
    public static func normalized(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if (0xFF01...0xFF5E).contains(scalar.value), let ascii = Unicode.Scalar(scalar.value - 0xFEE0) {
                scalars.append(ascii)
            } else if scalar.value == 0x3000 {
                scalars.append(" ")
            } else {
                scalars.append(scalar)
            }
        }
        var out = ""
        for character in String(scalars).trimmingWhitespace() {
            out += character.isASCII ? character.uppercased() : String(character)
        }
        return out
    }
}

extension String {
    /// Without leading and trailing whitespace and line breaks (Unicode's `White_Space`), without
    /// Foundation.
    fileprivate func trimmingWhitespace() -> Substring {
        let isSpace: (Character) -> Bool = { $0.unicodeScalars.allSatisfy(\.properties.isWhitespace) }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return self[first...last]
    }
}
