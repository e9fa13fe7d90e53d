/// Composing queries from parts without ever building SQL from data: a fragment's binds stay
/// binds (renumbered), and only compile-time constant text can be spliced in unbound.
extension SQLQuery.StringInterpolation {
    /// Splices constant SQL text (a column list, a shared clause). `StaticString` keeps it a
    /// literal written in the source: a value from a request cannot get here.
    public mutating func appendInterpolation(unescaped text: StaticString) {
        sql += text.description
    }

    /// Embeds another query as a fragment (e.g. a shared WHERE clause); its `$n` placeholders are
    /// renumbered after the binds already in this query.
    public mutating func appendInterpolation(_ fragment: SQLQuery) {
        let offset = binds.count
        binds += fragment.binds
        sql += SQLQuery.renumber(fragment.sql, by: offset)
    }
}

extension SQLQuery {
    /// `$k` → `$(k + offset)` outside quoted literals and identifiers.
    static func renumber(_ sql: String, by offset: Int) -> String {
        guard offset > 0 else { return sql }
        var out = ""
        out.reserveCapacity(sql.utf8.count + 8)
        var quote: Character?
        var index = sql.startIndex
        while index < sql.endIndex {
            let character = sql[index]
            if let open = quote {
                out.append(character)
                if character == open { quote = nil }
                index = sql.index(after: index)
                continue
            }
            if character == "'" || character == "\"" {
                quote = character
                out.append(character)
                index = sql.index(after: index)
                continue
            }
            if character == "$" {
                var end = sql.index(after: index)
                while end < sql.endIndex, sql[end].isASCII, sql[end].isNumber { end = sql.index(after: end) }
                if end > sql.index(after: index), let number = Int(sql[sql.index(after: index)..<end]) {
                    out += "$\(number + offset)"
                    index = end
                    continue
                }
            }
            out.append(character)
            index = sql.index(after: index)
        }
        return out
    }
}
