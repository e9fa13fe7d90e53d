import Foundation

/// An `application/x-www-form-urlencoded` body or query string as name → value (first value wins;
/// `+` is a space). Kept here rather than Hummingbird's decoder so the limits and the Chinese field
/// errors are pure and tested.
public enum FormBody {
    public static func parse(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = decode(parts[0]) else { continue }
            let value = parts.count == 2 ? decode(parts[1]) ?? "" : ""
            if fields[name] == nil { fields[name] = value }
        }
        return fields
    }

    /// Every value of a repeated field (check boxes), in order.
    public static func values(_ text: String, name: String) -> [String] {
        text.split(separator: "&", omittingEmptySubsequences: true).compactMap { pair -> String? in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard decode(parts[0]) == name else { return nil }
            return parts.count == 2 ? decode(parts[1]) ?? "" : ""
        }
    }

    static func decode(_ text: Substring) -> String? {
        String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}
