/// Why a statutory clock stopped (行政许可法 Art. 45: time needed for these is not counted, and
/// the applicant is told in writing how long it will take).
public enum SuspensionReason: String, Sendable, Hashable, Codable, CaseIterable {
    case hearing
    case tender
    case auction
    case inspection
    case siteInspection
    case testing
    case quarantine
    case appraisal
    case expertReview

    /// The term used in written notices to the applicant.
    public var chineseName: String {
        switch self {
        case .hearing: "听证"
        case .tender: "招标"
        case .auction: "拍卖"
        case .inspection: "检验"
        case .siteInspection: "现场核查"
        case .testing: "检测"
        case .quarantine: "检疫"
        case .appraisal: "鉴定"
        case .expertReview: "专家评审"
        }
    }
}

/// A span of days that do not count towards a statutory period. Both ends are inclusive: every
/// working day from `start` through `end` is skipped. `end == nil` means the suspension is still
/// running.
public struct ClockSuspension: Sendable, Hashable, Codable {
    public var reason: SuspensionReason
    public var start: CivilDate
    public var end: CivilDate?

    public init(reason: SuspensionReason, start: CivilDate, end: CivilDate? = nil) {
        self.reason = reason
        self.start = start
        self.end = end
    }

    public var isOpen: Bool { end == nil }

    /// Whether `date` lies inside the suspension (an open one covers every day from `start` on).
    public func contains(_ date: CivilDate) -> Bool {
        date >= start && (end.map { date <= $0 } ?? true)
    }
}
