import Foundation
import OneSealCore

/// A case's hearing (听证, 行政许可法 Arts. 46–48) as the rules keep it: the written notice of the right,
/// the request, the schedule with its notice, and the record the decision rests on. The periods are
/// `HearingTimeline`'s; the clock stops through the suspension this record names (Art. 45).
public struct HearingRecord: Sendable, Hashable, Codable {
    public var rightNotifiedOn: CivilDate
    public var lastDayToRequest: CivilDate
    /// Why the decision affects major interests (重大利益关系).
    public var reason: String
    public var notifiedBy: CaseActor
    /// 听证权利告知书.
    public var rightNotice: Document?
    public var requestedOn: CivilDate?
    public var requestedBy: String?
    /// The latest day it may be held (20 working days after the request).
    public var holdBy: CivilDate?
    /// The suspension that keeps the hearing's days out of the statutory period.
    public var suspensionID: String?
    public var hearingOn: CivilDate?
    public var place: String?
    public var publicity: HearingPublicity?
    public var presidingOfficer: String?
    /// 听证通知书.
    public var hearingNotice: Document?
    /// 听证笔录.
    public var record: String?
    public var recordClosedOn: CivilDate?
    public var recordedBy: CaseActor?

    public var timeline: HearingTimeline { HearingTimeline(rightNotifiedOn: rightNotifiedOn) }
}

extension CaseState {
    /// The written notice of the right to request a hearing (Art. 47), once per case, by the staff
    /// handling it, before the decision. `reason` says which major interests are affected.
    public mutating func notifyHearingRight(
        reason: String, on date: CivilDate, by actor: CaseActor, calendar: WorkingDayCalendar,
        notice: (CaseState, HearingRecord) -> Document? = { _, _ in nil }
    ) throws(ApprovalRuleError) {
        if let problem = OpinionCheck.problem(reason, field: "reason") { throw .invalidArgument([problem]) }
        try requireOpen("notified of a hearing right")
        if let hearing {
            throw .failedPrecondition("case \(caseNumber) was told of its hearing right on \(hearing.rightNotifiedOn); the notice is given once")
        }
        try requireHandler(actor)
        let last = try ApprovalRuleError.clock { try HearingTimeline(rightNotifiedOn: date).lastDayToRequest(in: calendar) }
        var record = HearingRecord(rightNotifiedOn: date, lastDayToRequest: last, reason: reason.trimmed, notifiedBy: actor)
        record.rightNotice = notice(self, record)
        hearing = record
    }

    /// The applicant's (or an interested party's) request on `date`: made by the applicant with
    /// their own token (`actor.role == "applicant"`, whom the service has matched to the case's
    /// applicant) or recorded by the staff handling the case from a written request. In time → the
    /// clock stops from that day for the hearing (Art. 45); late → refused with the law's words
    /// (the right is deemed waived).
    public mutating func requestHearing(
        by requester: String, on date: CivilDate, recordedBy actor: CaseActor, calendar: WorkingDayCalendar, suspensionID: String,
        notice: (CaseState, SuspensionRecord) -> Document? = { _, _ in nil }
    ) throws(ApprovalRuleError) {
        if requester.isBlank { throw .invalidArgument([.required("requested_by")]) }
        guard var record = hearing else {
            throw .failedPrecondition("case \(caseNumber) has no hearing notice; a hearing is requested after being told of the right (Art. 47)")
        }
        if let requested = record.requestedOn { throw .failedPrecondition("a hearing of case \(caseNumber) was already requested on \(requested)") }
        let check = try ApprovalRuleError.clock { try record.timeline.checkRequest(on: date, in: calendar) }
        guard check.isInTime else { throw .failedPrecondition(check.description) }
        let holdBy = try ApprovalRuleError.clock { try HearingTimeline.holdBy(requestedOn: date, in: calendar) }
        try requireRunning("suspended for a hearing")
        if actor.role != "applicant" { try requireHandler(actor) }
        try openSuspension(
            .hearing, expectedDays: HearingTimeline.holdWithinWorkingDays,
            noticeText: "\(requester.trimmed)申请听证，本机关将于\(holdBy.iso8601)前组织听证；听证所需时间不计算在审批期限内（《行政许可法》第四十五条、第四十七条）",
            on: date, by: actor, id: suspensionID, notice: notice)
        record.requestedOn = date
        record.requestedBy = requester.trimmed
        record.holdBy = holdBy
        record.suspensionID = suspensionID
        hearing = record
    }

    /// Fixes the hearing's day, place, publicity and presiding officer, with its notice sent on `date`
    /// (Art. 48: 7 working days ahead; Art. 47: within 20 working days of the request). The presiding
    /// officer is not one of the staff who reviewed the application (Art. 48 (3)).
    public mutating func scheduleHearing(
        on hearingOn: CivilDate, place: String, publicity: HearingPublicity?, presidingOfficer: String, noticeSentOn date: CivilDate,
        by actor: CaseActor, calendar: WorkingDayCalendar, notice: (CaseState, HearingRecord) -> Document? = { _, _ in nil }
    ) throws(ApprovalRuleError) {
        guard var record = hearing, let requestedOn = record.requestedOn else {
            throw .failedPrecondition("case \(caseNumber) has no hearing request to schedule")
        }
        if let closed = record.recordClosedOn { throw .failedPrecondition("the hearing of case \(caseNumber) was held; its record closed on \(closed)") }
        var problems: [FieldViolation] = []
        if place.isBlank { problems.append(.required("place")) }
        if publicity == nil { problems.append(FieldViolation(field: "publicity", description: "required: public, or why not (state_secret, business_secret, privacy)", reason: "required")) }
        let reviewers = Set(steps.compactMap { $0.completedBy?.subject } + steps.compactMap(\.assignee))
        if presidingOfficer.isBlank {
            problems.append(.required("presiding_officer"))
        } else if reviewers.contains(presidingOfficer.trimmed) {
            problems.append(FieldViolation(field: "presiding_officer", description: "\(presidingOfficer) reviewed this application; the hearing is presided over by someone else (《行政许可法》第四十八条第一款第（三）项)", reason: "reviewer"))
        }
        problems += try ApprovalRuleError.clock {
            try HearingTimeline.checkSchedule(requestedOn: requestedOn, noticeSentOn: date, hearingOn: hearingOn, in: calendar)
        }
        if !problems.isEmpty { throw .invalidArgument(problems) }
        try requireHandler(actor)
        record.hearingOn = hearingOn
        record.place = place.trimmed
        record.publicity = publicity
        record.presidingOfficer = presidingOfficer.trimmed
        record.hearingNotice = notice(self, record)
        hearing = record
    }

    /// Closes the hearing record on or after the hearing day; the hearing's suspension ends that day
    /// (counting restarts the day after, A9), and the decision rests on this record (Art. 48 ¶2).
    public mutating func recordHearing(_ text: String, on date: CivilDate, by actor: CaseActor) throws(ApprovalRuleError) {
        guard var record = hearing, let hearingOn = record.hearingOn else {
            throw .failedPrecondition("case \(caseNumber) has no scheduled hearing to record")
        }
        if let closed = record.recordClosedOn { throw .failedPrecondition("the hearing record of case \(caseNumber) was closed on \(closed)") }
        if text.trimmed.count < OpinionCheck.minimumLength {
            throw .invalidArgument([FieldViolation(field: "record", description: "the hearing record (听证笔录): who took part, what each side stated, the evidence examined", reason: text.isBlank ? "required" : "too_short")])
        }
        guard date >= hearingOn else { throw .failedPrecondition("the hearing of case \(caseNumber) is on \(hearingOn); its record is made when it has been held") }
        try resume(suspensionID: record.suspensionID ?? "", result: "听证已于\(hearingOn.iso8601)举行，听证笔录已制作", on: date, by: actor)
        record.record = text.trimmed
        record.recordClosedOn = date
        record.recordedBy = actor
        hearing = record
    }

    /// Art. 47–48: with a hearing notified, the case is decided only once the applicant's days to ask
    /// for it have passed unused, or on the closed record of the hearing they asked for.
    func requireHearingSettled(on date: CivilDate) throws(ApprovalRuleError) {
        guard let hearing else { return }
        if hearing.requestedOn == nil, date <= hearing.lastDayToRequest {
            throw .failedPrecondition("the applicant of case \(caseNumber) may request a hearing until \(hearing.lastDayToRequest) (《行政许可法》第四十七条); decide after that day")
        }
        if hearing.requestedOn != nil, hearing.recordClosedOn == nil {
            throw .failedPrecondition("case \(caseNumber) is decided on the hearing record (《行政许可法》第四十八条第二款); the hearing is not recorded yet")
        }
    }
}
