import Foundation
import OneSealCore

/// Opinions must be specific (docs/law.md#decision-reasons-and-remedies): an officer's review says what was checked and found; a
/// leader's sign-off says why. Empty text, boilerplate ("同意", "已阅", "拟同意", "OK") and text
/// that is nothing but boilerplate repeated are refused.
public enum OpinionCheck {
    /// Characters of substance needed after stripping spaces and punctuation.
    public static let minimumLength = 8

    /// Phrases that say nothing on their own (matched after removing spaces and punctuation).
    public static let boilerplate: [String] = [
        "同意", "不同意", "拟同意", "拟不同意", "已阅", "阅", "可以", "可", "好", "行", "批准", "不批准",
        "准予", "不予", "通过", "不通过", "按规定办理", "按规定办", "请审批", "请审核", "请领导审批", "请批示",
        "无意见", "没意见", "符合要求", "符合条件", "不符合", "ok", "yes", "no", "agree", "approved", "lgtm",
    ]

    /// `boilerplate`, longest first (so "不同意" goes before "同意"), sorted once: every signature
    /// checks its opinion, and sorting and Foundation's `replacingOccurrences` per phrase were
    /// ≈ 4 % of approval's CPU (#21).
    static let boilerplateLongestFirst = boilerplate.sorted { $0.count > $1.count }

    /// The problem with `text` as an opinion, or nil when it is specific enough.
    public static func problem(_ text: String, field: String) -> FieldViolation? {
        let essential = essentialCharacters(text)
        if essential.isEmpty {
            return FieldViolation(field: field, description: "required: a specific opinion (what was checked, what was found, on what legal basis)", reason: "required")
        }
        var rest = essential.lowercased()
        for phrase in boilerplateLongestFirst where rest.contains(phrase) {
            rest = rest.replacing(phrase, with: "")
        }
        if rest.count < 4 || essential.count < minimumLength {
            return FieldViolation(
                field: field,
                description: "“\(text.trimmingCharacters(in: .whitespacesAndNewlines))” is not a specific opinion: say what was checked and found and on what basis (at least \(minimumLength) characters beyond formulas like 同意/已阅)",
                reason: "opinion.too_vague")
        }
        return nil
    }

    static func essentialCharacters(_ text: String) -> String {
        String(text.unicodeScalars.filter { scalar in
            !CharacterSet.whitespacesAndNewlines.contains(scalar) && !CharacterSet.punctuationCharacters.contains(scalar)
                && !CharacterSet.symbols.contains(scalar)
        }.map(Character.init))
    }
}
