/// ISO 8601 weekday numbering (Monday = 1 … Sunday = 7), the numbering used on Chinese calendars
/// (星期一 … 星期日).
public enum Weekday: Int, Sendable, Hashable, Codable, CaseIterable {
    case monday = 1, tuesday, wednesday, thursday, friday, saturday, sunday

    /// Ordinary rest days before a year's notice moves any of them.
    public var isWeekend: Bool { self == .saturday || self == .sunday }

    /// The name shown to clerks and applicants.
    public var chineseName: String {
        switch self {
        case .monday: "星期一"
        case .tuesday: "星期二"
        case .wednesday: "星期三"
        case .thursday: "星期四"
        case .friday: "星期五"
        case .saturday: "星期六"
        case .sunday: "星期日"
        }
    }
}
