/// Text into HTML. Every value a page shows passes through `escape`, so nothing a citizen types or
/// a service returns can become markup (the pages are built as strings, not templates).
public enum HTML {
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    /// A list's `total_size` as a page shows it. The services count a list's matches up to 10,000
    /// and answer 10,001 for "more" (PROTOCOL.md, "Lists"), so a broad list on a big node reads
    /// "10000+" rather than a figure that is not a count.
    public static func total(_ total: Int64) -> String {
        total > 10_000 ? "10000+" : String(total)
    }
}
