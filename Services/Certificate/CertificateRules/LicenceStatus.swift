import OneSealCore

/// A licence's status as verification reports it on a day.
public enum LicenceStatus: String, Sendable, Hashable, Codable, CaseIterable {
    /// 有效
    case valid
    /// 已撤销 (Art. 69)
    case revoked
    /// 已注销 (Art. 70, including a department's withdrawal 吊销)
    case cancelled
    /// 已过期: the validity end passed (derived from the date, never stored)
    case expired
    /// 已换发: a later version replaced it
    case superseded

    public var chineseName: String {
        switch self {
        case .valid: "有效"
        case .revoked: "已撤销"
        case .cancelled: "已注销"
        case .expired: "已过期"
        case .superseded: "已换发"
        }
    }
}

/// What is stored about a licence's standing: an act (revocation, cancellation, replacement) with the
/// day it takes effect. Expiry is never stored; it follows from the validity end.
public enum LicenceAct: String, Sendable, Hashable, Codable, CaseIterable {
    case revoked
    case cancelled
    case superseded

    public var status: LicenceStatus {
        switch self {
        case .revoked: .revoked
        case .cancelled: .cancelled
        case .superseded: .superseded
        }
    }
}

/// Why a status change is refused.
public enum LicenceStatusError: Error, Sendable, Hashable, CustomStringConvertible {
    case alreadyEnded(LicenceAct)
    case effectiveBeforeIssue(effective: CivilDate, issued: CivilDate)

    public var description: String {
        switch self {
        case .alreadyEnded(let act): "the licence is already \(act.status.chineseName) (\(act.rawValue)); its status cannot change again"
        case .effectiveBeforeIssue(let effective, let issued): "the change cannot take effect (\(effective)) before the licence was issued (\(issued))"
        }
    }
}

/// The standing of a licence over time: its validity period and the act that ended it, if any.
public struct LicenceStanding: Sendable, Hashable, Codable {
    public var issuedOn: CivilDate
    public var validFrom: CivilDate
    /// nil = long-term (长期).
    public var validUntil: CivilDate?
    public private(set) var act: LicenceAct?
    public private(set) var effectiveOn: CivilDate?

    public init(issuedOn: CivilDate, validFrom: CivilDate, validUntil: CivilDate?, act: LicenceAct? = nil, effectiveOn: CivilDate? = nil) {
        self.issuedOn = issuedOn
        self.validFrom = validFrom
        self.validUntil = validUntil
        self.act = act
        self.effectiveOn = effectiveOn
    }

    /// The status on `date`: an act counts from its effective day; otherwise the licence is expired
    /// after its last valid day, else valid. (A revoked licence stays revoked after its end date:
    /// the act is the stronger fact.)
    public func status(on date: CivilDate) -> LicenceStatus {
        if let act, let effectiveOn, effectiveOn <= date { return act.status }
        if let validUntil, date > validUntil { return .expired }
        return .valid
    }

    /// Records revocation, cancellation or replacement. Revoked and cancelled licences are final;
    /// a superseded version can still be revoked or cancelled (the grant behind it ends), and an
    /// expired one can be cancelled (Art. 70 (1)) or revoked.
    public mutating func apply(_ act: LicenceAct, effectiveOn: CivilDate) throws(LicenceStatusError) {
        if let current = self.act, current != .superseded { throw .alreadyEnded(current) }
        if self.act == .superseded, act == .superseded { throw .alreadyEnded(.superseded) }
        guard effectiveOn >= issuedOn else { throw .effectiveBeforeIssue(effective: effectiveOn, issued: issuedOn) }
        self.act = act
        self.effectiveOn = effectiveOn
    }
}

/// Art. 44: the licence is issued within 10 working days of the grant. Issuance normally follows the
/// decision within seconds; the clock is kept anyway so a stuck issuance shows up yellow and red.
public enum IssueDeadline {
    public static let workingDays = 10

    public static func clock(decidedOn: CivilDate) -> StatutoryClock {
        StatutoryClock(actDate: decidedOn, workingDays: workingDays)
    }

    /// Working days from the decision to `issuedOn` (0 on the day itself).
    public static func workingDaysTaken(decidedOn: CivilDate, issuedOn: CivilDate, calendar: WorkingDayCalendar) throws -> Int {
        try clock(decidedOn: decidedOn).workingDaysUsed(asOf: issuedOn, in: calendar)
    }
}
