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

/// The renewal an application, and then its approval case, is about: the licence version in force
/// when the holder applied, and its window. Carried unchanged from intake to approval to
/// certificate (`oneseal.common.v1.Renewal`), so each service decides with the same dates.
public struct RenewalSubject: Sendable, Hashable, Codable {
    /// Certificate's id of the version being renewed.
    public var licenceID: String
    public var licenceIdentifier: String
    public var licenceNumber: String
    public var licenceTypeCode: String
    public var licenceName: String
    public var window: RenewalWindow
    public var appliedOn: CivilDate

    public init(
        licenceID: String, licenceIdentifier: String, licenceNumber: String, licenceTypeCode: String, licenceName: String,
        window: RenewalWindow, appliedOn: CivilDate
    ) {
        self.licenceID = licenceID
        self.licenceIdentifier = licenceIdentifier
        self.licenceNumber = licenceNumber
        self.licenceTypeCode = licenceTypeCode
        self.licenceName = licenceName
        self.window = window
        self.appliedOn = appliedOn
    }
}

/// What intake knows of the licence a holder asks to renew (Art. 50) or change (Art. 49), read from
/// this node's certificate service.
public struct RenewableLicence: Sendable, Hashable {
    public var licenceID: String
    public var identifier: String
    public var number: String
    public var typeCode: String
    public var name: String
    /// The holder's code as sealed in the licence (unmasked: intake reads it with its service token).
    public var holderCode: String
    /// Whether the licence is in force today (not revoked, cancelled, superseded or expired).
    public var inForce: Bool
    /// Its status in words when not in force ("已撤销" …), for the refusal.
    public var statusText: String
    /// nil = long-term: there is nothing to renew.
    public var validUntil: CivilDate?
    /// The node that issued it; Art. 50 sends a renewal to the agency that granted the licence.
    public var issuingNode: String

    public init(
        licenceID: String, identifier: String, number: String, typeCode: String, name: String, holderCode: String,
        inForce: Bool, statusText: String, validUntil: CivilDate?, issuingNode: String
    ) {
        self.licenceID = licenceID
        self.identifier = identifier
        self.number = number
        self.typeCode = typeCode
        self.name = name
        self.holderCode = holderCode
        self.inForce = inForce
        self.statusText = statusText
        self.validUntil = validUntil
        self.issuingNode = issuingNode
    }
}

/// Whether a renewal application may be received (Art. 50), as one pure check: every problem is a
/// `FieldViolation` on `renewal_of`, so the window can read them all out and nothing is stored.
public enum RenewalEligibility {
    /// Checks the licence against the applicant, the item applied for and the day.
    /// - Parameters:
    ///   - applicantCode: the applicant's normalised ID number or USCC (R1).
    ///   - itemLicenceTypeCode: the licence type the item issues; a renewal is of that type.
    ///   - daysBeforeExpiry: the item's period, nil or 0 = Art. 50's 30.
    ///   - decidingNode: the node that implements the item (the agency that granted it).
    public static func check(
        _ licence: RenewableLicence, applicantCode: String, itemLicenceTypeCode: String, daysBeforeExpiry: Int?,
        decidingNode: String, appliedOn: CivilDate
    ) -> Result<RenewalSubject, FieldViolations> {
        let field = "renewal_of"
        var problems: [FieldViolation] = []
        if licence.holderCode != applicantCode {
            problems.append(FieldViolation(field: field, description: "证照 \(licence.identifier) 的持证主体不是申请人；只有被许可人本人可以申请延续", reason: "renewal.not_holder"))
        }
        if !itemLicenceTypeCode.isEmpty, licence.typeCode.uppercased() != itemLicenceTypeCode.uppercased() {
            problems.append(FieldViolation(field: field, description: "证照类型 \(licence.typeCode) 不是所申请事项颁发的证照类型 \(itemLicenceTypeCode)", reason: "renewal.other_item"))
        }
        if !decidingNode.isEmpty, licence.issuingNode != decidingNode {
            problems.append(FieldViolation(field: field, description: "证照由 \(licence.issuingNode) 颁发；延续申请应当向作出行政许可决定的行政机关（\(licence.issuingNode)）提出（《行政许可法》第五十条）", reason: "renewal.other_agency"))
        }
        if !licence.inForce {
            problems.append(FieldViolation(field: field, description: "证照 \(licence.identifier) \(licence.statusText)，不能延续", reason: "renewal.not_in_force"))
        }
        guard let validUntil = licence.validUntil else {
            problems.append(FieldViolation(field: field, description: "证照 \(licence.identifier) 长期有效，无需延续", reason: "renewal.long_term"))
            return .failure(FieldViolations(problems))
        }
        let days = (daysBeforeExpiry ?? 0) > 0 ? daysBeforeExpiry! : RenewalWindow.statutoryDaysBeforeExpiry
        let window = RenewalWindow(validUntil: validUntil, daysBeforeExpiry: days)
        let timing = window.check(appliedOn: appliedOn)
        switch timing {
        case .inTime: break
        case .late: problems.append(FieldViolation(field: field, description: timing.description, reason: "renewal.late"))
        case .expired: problems.append(FieldViolation(field: field, description: timing.description, reason: "renewal.expired"))
        }
        guard problems.isEmpty else { return .failure(FieldViolations(problems)) }
        return .success(RenewalSubject(
            licenceID: licence.licenceID, licenceIdentifier: licence.identifier, licenceNumber: licence.number,
            licenceTypeCode: licence.typeCode, licenceName: licence.name, window: window, appliedOn: appliedOn))
    }
}
