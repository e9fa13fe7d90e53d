import OneSealCore

/// The periods of a hearing (听证, 行政许可法 Arts. 46–48) as plain dates.
///
/// - Art. 47: the applicant and interested parties may request a hearing "within 5 days of being
///   told of the right" (自被告知听证权利之日起五日内). That is the applicant's period, not the
///   agency's, so it runs in calendar days (Art. 82 puts only the agency's periods in working days),
///   the day of the notice not counted (民法典 Art. 201); when its last day is a rest day it ends on
///   the next working day (民法典 Art. 203).
/// - Art. 47: the agency holds the hearing within 20 days of the request; Art. 48 (1): it tells the
///   parties the time and place 7 days before. Both are the agency's periods: working days (Art. 82),
///   the day of the request / of the notice not counted.
/// - Art. 48 (3): public, unless it involves state secrets, business secrets or personal privacy.
/// - Art. 45: the hearing's time is not counted in the statutory period — from the request through
///   the day the hearing record is closed (`suspension`).
public struct HearingTimeline: Sendable, Hashable, Codable {
    /// Art. 47's days to request a hearing.
    public static let requestDays = 5
    /// Art. 47's working days within which it is held.
    public static let holdWithinWorkingDays = StatutoryPeriod.hearingHeld.workingDays
    /// Art. 48's working days of notice before it is held.
    public static let noticeWorkingDays = 7

    /// The day the written notice of the right to a hearing was served.
    public let rightNotifiedOn: CivilDate

    public init(rightNotifiedOn: CivilDate) {
        self.rightNotifiedOn = rightNotifiedOn
    }

    /// The last day a hearing may be requested.
    public func lastDayToRequest(in calendar: WorkingDayCalendar) throws(CalendarError) -> CivilDate {
        try calendar.workingDay(onOrAfter: rightNotifiedOn.adding(days: Self.requestDays))
    }

    /// Whether a request made on `date` is in time.
    public func checkRequest(on date: CivilDate, in calendar: WorkingDayCalendar) throws(CalendarError) -> HearingRequestCheck {
        let last = try lastDayToRequest(in: calendar)
        if date < rightNotifiedOn { return .beforeNotice(notifiedOn: rightNotifiedOn) }
        return date <= last ? .inTime(lastDay: last) : .late(lastDay: last)
    }

    /// The last day the hearing may be held for a request made on `requestedOn`.
    public static func holdBy(requestedOn: CivilDate, in calendar: WorkingDayCalendar) throws(CalendarError) -> CivilDate {
        try calendar.addingWorkingDays(holdWithinWorkingDays, to: requestedOn)
    }

    /// The earliest day a hearing may be held when its notice is sent on `noticeSentOn`.
    public static func earliestHearingDay(noticeSentOn: CivilDate, in calendar: WorkingDayCalendar) throws(CalendarError) -> CivilDate {
        try calendar.addingWorkingDays(noticeWorkingDays, to: noticeSentOn)
    }

    /// Checks a proposed schedule: the notice 7 working days ahead, the hearing within 20 working days
    /// of the request. Returns every problem, each naming the field it concerns.
    public static func checkSchedule(
        requestedOn: CivilDate, noticeSentOn: CivilDate, hearingOn: CivilDate, in calendar: WorkingDayCalendar
    ) throws(CalendarError) -> [FieldViolation] {
        var problems: [FieldViolation] = []
        if noticeSentOn < requestedOn {
            problems.append(FieldViolation(field: "notice_sent_on", description: "the notice (\(noticeSentOn)) cannot precede the request (\(requestedOn))", reason: "range"))
        }
        let earliest = try earliestHearingDay(noticeSentOn: noticeSentOn, in: calendar)
        if hearingOn < earliest {
            problems.append(FieldViolation(
                field: "hearing_on",
                description: "听证应当在举行 \(noticeWorkingDays) 个工作日前通知（通知于 \(noticeSentOn)，最早 \(earliest) 举行；《行政许可法》第四十八条）",
                reason: "notice_period"))
        }
        let latest = try holdBy(requestedOn: requestedOn, in: calendar)
        if hearingOn > latest {
            problems.append(FieldViolation(
                field: "hearing_on",
                description: "听证应当在收到申请之日起 \(holdWithinWorkingDays) 个工作日内组织（申请于 \(requestedOn)，最迟 \(latest)；《行政许可法》第四十七条）",
                reason: "hold_period"))
        }
        return problems
    }

    /// The span the statutory clock stops for (Art. 45): from the request through the day the
    /// hearing record is closed (nil while the hearing is pending).
    public static func suspension(requestedOn: CivilDate, recordClosedOn: CivilDate?) -> ClockSuspension {
        ClockSuspension(reason: .hearing, start: requestedOn, end: recordClosedOn)
    }
}

/// Whether a hearing request is in time (Art. 47).
public enum HearingRequestCheck: Sendable, Hashable, CustomStringConvertible {
    case inTime(lastDay: CivilDate)
    case late(lastDay: CivilDate)
    case beforeNotice(notifiedOn: CivilDate)

    public var isInTime: Bool { if case .inTime = self { true } else { false } }

    public var description: String {
        switch self {
        case .inTime(let last): "听证申请在期限内（最迟 \(last)）"
        case .late(let last): "听证申请应当在被告知听证权利之日起五日内提出（最迟 \(last)）；已逾期，视为放弃听证（《行政许可法》第四十七条）"
        case .beforeNotice(let notified): "听证权利告知于 \(notified)，申请日期不能早于告知日期"
        }
    }
}

/// Whether a hearing is held in public (Art. 48 (3)).
public enum HearingPublicity: String, Sendable, Hashable, Codable, CaseIterable {
    case publicHearing = "public"
    /// 涉及国家秘密
    case stateSecret = "state_secret"
    /// 涉及商业秘密
    case businessSecret = "business_secret"
    /// 涉及个人隐私
    case privacy

    public var isPublic: Bool { self == .publicHearing }

    public var chineseName: String {
        switch self {
        case .publicHearing: "公开举行"
        case .stateSecret: "涉及国家秘密，不公开举行"
        case .businessSecret: "涉及商业秘密，不公开举行"
        case .privacy: "涉及个人隐私，不公开举行"
        }
    }
}
