import Foundation

/// Where a page of a list ordered by (a timestamp, the row's id) ends, carried as the opaque page
/// token: the last row's timestamp to the microsecond and its id. The next page starts after that
/// key (keyset paging), so the 20,000th page costs what the first does on an index in the list's
/// order, and a row written meanwhile neither repeats a row nor skips one. An `OFFSET` did both,
/// and sorted every match to find the page (25 s at 1,000,000 applications; docs/benchmarks.md).
///
/// The timestamp travels as whole microseconds since 1970 (PostgreSQL's own precision), so the
/// key compares equal to the stored value: a `Date` read from the row and bound back rounds to the
/// same microsecond (`PostgresTimestamp`).
public struct InstantPageKey: Sendable, Hashable {
    /// Microseconds since 1970-01-01T00:00:00Z.
    public var microseconds: Int64
    public var id: UUID

    /// The token's version prefix: a token of another shape (an old offset, another list's key) is
    /// refused as "not a token from a previous page".
    static let prefix = "t1."
    /// 0001-01-01 .. 9999-12-31, the years a `timestamptz` here can hold; anything outside is not
    /// a key this service wrote.
    static let range: ClosedRange<Int64> = -62_135_596_800_000_000 ... 253_402_300_799_999_999

    public init(at date: Date, id: UUID) {
        self.microseconds = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        self.id = id
    }

    /// The instant to bind: formats back to exactly `microseconds`.
    public var at: Date { Date(timeIntervalSince1970: Double(microseconds) / 1_000_000) }

    /// `t1.<microseconds>.<id>`: plain ASCII, at most 60 characters.
    public var token: String { "\(Self.prefix)\(microseconds).\(id.uuidString.lowercased())" }

    /// The key a token names, or nil when the text is not one this service issued. Checked here,
    /// before anything reaches SQL, so a made-up token is a clear `page.page_token` error.
    public init?(token: String) {
        guard token.utf8.count <= 80, token.hasPrefix(Self.prefix) else { return nil }
        let parts = token.dropFirst(Self.prefix.count).split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].utf8.count <= 20,
              parts[0].utf8.allSatisfy({ ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: "-") }),
              let micros = Int64(parts[0]), Self.range.contains(micros),
              parts[1].utf8.count == 36, let id = UUID(uuidString: String(parts[1])) else { return nil }
        self.microseconds = micros
        self.id = id
    }
}

/// How a list answers its `total_size`: counted exactly up to `cap` matches and no further. A
/// broad list on a node with a million rows counted every match on every page (162–517 ms at
/// 1,000,000 cases); a count that stops at `cap + 1` costs what `cap` rows cost, whatever the table
/// holds. `common.PageResponse.total_size` already says a total may be an estimate on very large
/// lists: here `cap + 1` means "more than `cap`", and screens show it as "10,000+".
public enum ListTotal {
    public static let cap = 10_000

    /// `SELECT count(*) AS n` of the rows of `table` matching `filter`, stopping at `cap + 1`.
    public static func query(from table: StaticString, where filter: SQLQuery) -> SQLQuery {
        "SELECT count(*)::int8 AS n FROM (SELECT 1 FROM \(unescaped: table) WHERE \(filter) LIMIT \(cap + 1)) AS capped"
    }

    /// True when a total from `query` means "more than `cap`".
    public static func isCapped(_ total: Int64) -> Bool { total > Int64(cap) }
}
