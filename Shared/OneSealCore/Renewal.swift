/// Renewal of a licence's validity (延续, 行政许可法 Art. 50), as plain dates.
///
/// "被许可人需要延续依法取得的行政许可的有效期的，应当在该行政许可有效期届满三十日前向作出行政许可决定的
/// 行政机关提出申请……行政机关应当根据被许可人的申请，在该行政许可有效期届满前作出是否准予延续的决定；
/// 逾期未作决定的，视为准予延续。"
///
/// Counting follows 民法典 Art. 201 (the day of the act is not counted): an application made on day
/// A is "N days before expiry" when `validUntil − A ≥ N`, so with the statutory 30 days and a licence
/// valid until 2026-12-31 the last day to apply is 2026-12-01. The applicant's period is in calendar
/// days (Art. 82 puts only the agency's periods in working days) and is not moved off a holiday:
/// it is counted backwards from a fixed end, and the online hall takes applications every day.
public struct RenewalWindow: Sendable, Hashable, Codable {
    /// Art. 50's period, unless a law, regulation or rule sets another (the catalogue item says so).
    public static let statutoryDaysBeforeExpiry = 30

    /// The licence's last valid day (`validUntil` of the licence being renewed).
    public let validUntil: CivilDate
    /// Days before expiry the application must come; the item's own period or Art. 50's 30.
    public let daysBeforeExpiry: Int

    public init(validUntil: CivilDate, daysBeforeExpiry: Int = RenewalWindow.statutoryDaysBeforeExpiry) {
        self.validUntil = validUntil
        self.daysBeforeExpiry = max(0, daysBeforeExpiry)
    }

    /// The last day on which a renewal application is in time.
    public var lastDayToApply: CivilDate { validUntil.adding(days: -daysBeforeExpiry) }

    /// The day by which the decision must be made: the last valid day itself ("届满前"). Not moved
    /// off a holiday — the licence would lapse in between; a node decides earlier instead.
    public var decisionDueBy: CivilDate { validUntil }

    /// The first day of the renewed validity (the day after the old one ends, so there is no gap).
    public var renewedFrom: CivilDate { validUntil.next }

    /// Whether an application made on `date` may proceed.
    public func check(appliedOn date: CivilDate) -> RenewalApplicationCheck {
        if date > validUntil { return .expired(validUntil: validUntil) }
        if date > lastDayToApply { return .late(lastDay: lastDayToApply, daysBeforeExpiry: daysBeforeExpiry) }
        return .inTime(daysBeforeExpiry: date.days(until: validUntil))
    }

    /// Whether, with no decision made, the renewal is deemed granted as of `date`: true from the day
    /// after the last valid day (逾期未作决定的，视为准予延续).
    public func isDeemedGranted(undecidedAsOf date: CivilDate) -> Bool { date > decisionDueBy }

    /// The renewed licence's last valid day: the same number of months as the item's validity,
    /// counted from `renewedFrom` (0 months = long-term: nil).
    public func renewedValidUntil(months: Int) -> CivilDate? {
        months > 0 ? renewedFrom.adding(months: months).previous : nil
    }
}

/// The answer to "may this renewal application proceed?", with the reason a refusal states.
public enum RenewalApplicationCheck: Sendable, Hashable, CustomStringConvertible {
    /// In time; the application came this many days before the last valid day.
    case inTime(daysBeforeExpiry: Int)
    /// After the last day to apply: refused (Art. 50); the holder applies for a new licence instead.
    case late(lastDay: CivilDate, daysBeforeExpiry: Int)
    /// The licence already expired: nothing left to renew (Art. 70 (1): it is to be cancelled).
    case expired(validUntil: CivilDate)

    public var isInTime: Bool { if case .inTime = self { true } else { false } }

    public var description: String {
        switch self {
        case .inTime(let days): "在有效期届满 \(days) 日前提出延续申请，符合《行政许可法》第五十条"
        case .late(let lastDay, let days):
            "延续申请应当在有效期届满 \(days) 日前提出（最迟 \(lastDay)）；已逾期，不予受理延续申请，可重新申请行政许可（《行政许可法》第五十条）"
        case .expired(let validUntil): "行政许可有效期已于 \(validUntil) 届满，无法延续；应当依法办理注销（《行政许可法》第七十条）"
        }
    }
}
