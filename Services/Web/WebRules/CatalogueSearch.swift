import Foundation

/// The public item catalogue pages (办事指南, issue #18 item 4): what a browser may ask. A search is a
/// name or code fragment; an item is named in the path by its implementation code. Both are checked
/// here, before intake is asked, like every other input of the front (W8).
public enum CatalogueSearch {
    public static let queryField = "q"
    /// Items listed per page of results.
    public static let pageSize = 20
    /// An implementation code is 21 digits today (`000117005000371302001`); 64 leaves room for the
    /// province's longer codes without letting a path carry anything else.
    public static let maximumCodeCharacters = 64

    /// The search text as intake gets it (trimmed, inner runs of white space as one space), or the
    /// error to show next to the field, in Chinese.
    public static func query(_ raw: String) -> (text: String, error: String?) {
        let text = raw.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        if text.count > WebLimits.maximumFieldCharacters {
            return (String(text.prefix(WebLimits.maximumFieldCharacters)), "请输入不超过\(WebLimits.maximumFieldCharacters)个字的事项名称或编码")
        }
        if text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0.properties.generalCategory == .format }) {
            return ("", "事项名称或编码中含有不可见字符，请重新输入")
        }
        return (text, nil)
    }

    /// Whether `code` may name an item in a path: ASCII letters and digits only.
    public static func isItemCode(_ code: String) -> Bool {
        !code.isEmpty && code.count <= maximumCodeCharacters && code.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }
    }

    /// A fee in fen as the guide prints it: "不收费", "10元", "12.50元".
    public static func yuan(fen: Int64) -> String {
        guard fen > 0 else { return "不收费" }
        return fen % 100 == 0 ? "\(fen / 100)元" : String(format: "%lld.%02lld元", fen / 100, fen % 100)
    }
}
