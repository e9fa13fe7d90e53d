import OneSealCore

/// The director's dashboard (效能看板, #19 screen 4, W41): who opens it and which month's report a
/// link may ask for. Pure values: the page and its tests share them.
extension StaffRole {
    /// The posts that read the node's figures: the bureau's leading posts (科长, 分管, 局长) for
    /// their own hall, the efficiency supervisors and the leaders reading reports. Evaluation's
    /// policy admits exactly these roles to figures, warnings, flags and reports.
    public var readsFigures: Bool {
        switch self {
        case .sectionChief, .deputyDirector, .director, .evaluator, .leader: true
        default: false
        }
    }
}

/// The month of a monthly report in a link (`?month=2026-11`): a real month, not before the
/// system's era and not after this one (a future month has no figures to show).
public struct ReportMonth: Sendable, Hashable {
    public let year: Int
    public let month: Int

    public static let field = "month"

    public init?(year: Int, month: Int) {
        guard (2000...2999).contains(year), (1...12).contains(month) else { return nil }
        self.year = year
        self.month = month
    }

    /// The month `today` falls in.
    public init(containing today: CivilDate) {
        self.year = today.year
        self.month = today.month
    }

    /// Reads `yyyy-mm`; nil text is this month. A message for the person otherwise.
    public static func parse(_ text: String?, today: CivilDate) -> Result<ReportMonth, ReportMonthError> {
        guard let text, !text.isEmpty else { return .success(ReportMonth(containing: today)) }
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard text.utf8.count == 7, parts.count == 2, parts[0].utf8.count == 4, parts[1].utf8.count == 2,
            parts.allSatisfy({ $0.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }),
            let year = Int(parts[0]), let month = Int(parts[1]), let chosen = ReportMonth(year: year, month: month)
        else { return .failure(.notAMonth) }
        guard chosen <= ReportMonth(containing: today) else { return .failure(.future) }
        return .success(chosen)
    }

    /// The month before (December of the year before January).
    public var previous: ReportMonth? { month == 1 ? ReportMonth(year: year - 1, month: 12) : ReportMonth(year: year, month: month - 1) }

    /// `2026-11`, as links carry it.
    public var text: String { "\(year)-" + (month < 10 ? "0" : "") + "\(month)" }

    /// The first day of the month.
    public var firstDay: CivilDate { CivilDate(year: year, month: month, day: 1)! }
}

extension ReportMonth: Comparable {
    public static func < (lhs: ReportMonth, rhs: ReportMonth) -> Bool { (lhs.year, lhs.month) < (rhs.year, rhs.month) }
}

public enum ReportMonthError: Error, Sendable, Hashable {
    case notAMonth
    case future

    /// As the page says it, by the month field.
    public var message: String {
        switch self {
        case .notAMonth: "月份应写成 2026-11 这样的年-月"
        case .future: "该月尚未开始，没有数据"
        }
    }
}
