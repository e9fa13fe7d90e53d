import Foundation
import OneSealCore

/// The ticket every bad review opens (E6): verify and call back (核实、回访), rectify and feed back
/// (整改、反馈), then the rater rates the fix; due a configurable number of working days after the
/// rating (default 15, docs/law.md#ratings). An upheld appeal voids it.
public struct RectificationTicket: Sendable, Hashable, Codable {
    public enum Status: String, Sendable, Hashable, Codable, CaseIterable {
        /// Opened by the bad review: to verify and call back. Names match the proto enum.
        case open
        case calledBack = "called_back"
        case rectified
        case closed
        case void
    }

    public struct CallBack: Sendable, Hashable, Codable {
        public var on: CivilDate
        public var at: Date
        public var by: String
        public var reached: Bool
        public var summary: String
        public var verifiedFacts: String
        public var justified: Bool

        public init(on: CivilDate, at: Date, by: String, reached: Bool, summary: String, verifiedFacts: String, justified: Bool) {
            self.on = on
            self.at = at
            self.by = by
            self.reached = reached
            self.summary = summary
            self.verifiedFacts = verifiedFacts
            self.justified = justified
        }
    }

    /// Unreached call-back attempts that count as "called back" for a named review (E6).
    public static let attemptsWhenUnreachable = 3

    public private(set) var status: Status
    public let openedOn: CivilDate
    public let workingDays: Int
    public let dueOn: CivilDate
    public let callBackRequired: Bool
    public private(set) var callBacks: [CallBack]
    public private(set) var measures: String
    public private(set) var feedback: String
    public private(set) var rectifiedOn: CivilDate?
    public private(set) var followUpLevel: Rating?
    public private(set) var followUpComment: String
    public private(set) var closedOn: CivilDate?
    public private(set) var voidedOn: CivilDate?

    /// Opens the ticket on the day of the bad review; due `workingDays` working days later (the
    /// day of the rating not counted).
    public static func open(ratedOn: CivilDate, workingDays: Int, callBackRequired: Bool, calendar: WorkingDayCalendar) throws(EvaluationRuleError) -> RectificationTicket {
        guard workingDays > 0 else { throw .failedPrecondition("the rectification period must be at least one working day") }
        let due = try onCalendar { () throws(CalendarError) in try calendar.addingWorkingDays(workingDays, to: ratedOn) }
        return RectificationTicket(
            status: .open, openedOn: ratedOn, workingDays: workingDays, dueOn: due, callBackRequired: callBackRequired, callBacks: [],
            measures: "", feedback: "", rectifiedOn: nil, followUpLevel: nil, followUpComment: "", closedOn: nil, voidedOn: nil)
    }

    public var isFinal: Bool { status == .closed || status == .void }

    /// Rectified (measures fed back) by the end of the due day. nil while not rectified.
    public var onTime: Bool? { rectifiedOn.map { $0 <= dueOn } }

    /// Late: rectified after the due day, or still not rectified after it. Void tickets are never late.
    public func isOverdue(asOf today: CivilDate) -> Bool {
        if status == .void { return false }
        if let rectifiedOn { return rectifiedOn > dueOn }
        return today > dueOn
    }

    /// Records a call-back or verification attempt. Allowed while open or called back. The summary
    /// is required; a reached rater's call also records the verified facts (核实情况). A named
    /// review counts as called back once the rater was reached or after
    /// `attemptsWhenUnreachable` attempts; an anonymous one after its first verification.
    public mutating func recordCallBack(_ callBack: CallBack) throws(EvaluationRuleError) {
        var violations: [FieldViolation] = []
        if callBack.summary.isBlank { violations.append(.required("call_back.summary")) }
        if callBack.reached, callBack.verifiedFacts.isBlank {
            violations.append(FieldViolation(field: "call_back.verified_facts", description: "required when the rater was reached: what was verified (核实情况)", reason: "required"))
        }
        guard violations.isEmpty else { throw .invalidArgument(violations) }
        guard status == .open || status == .calledBack else {
            throw .failedPrecondition("the ticket is \(status.rawValue); call-backs are recorded while it is open or called back")
        }
        guard callBack.on >= openedOn else { throw .failedPrecondition("a call-back cannot predate the bad review (\(openedOn.iso8601))") }
        callBacks.append(callBack)
        if !callBackRequired || callBacks.contains(where: \.reached) || callBacks.count >= Self.attemptsWhenUnreachable {
            status = .calledBack
        }
    }

    /// Records the measures taken (整改措施) and the feedback given to the rater. Only after the
    /// call-back: a fix before the facts are verified is not a fix.
    public mutating func complete(measures: String, feedback: String, on day: CivilDate) throws(EvaluationRuleError) {
        var violations: [FieldViolation] = []
        if measures.isBlank { violations.append(.required("measures")) }
        if feedback.isBlank { violations.append(.required("feedback")) }
        guard violations.isEmpty else { throw .invalidArgument(violations) }
        switch status {
        case .calledBack: break
        case .open:
            let missing = callBackRequired
                ? "the named rater must be reached (or \(Self.attemptsWhenUnreachable) attempts made; \(callBacks.count) so far)"
                : "the review must be verified first (RecordCallBack)"
            throw .failedPrecondition("cannot rectify yet: \(missing)")
        default:
            throw .failedPrecondition("the ticket is \(status.rawValue); it was rectified already or is final")
        }
        self.measures = measures
        self.feedback = feedback
        rectifiedOn = day
        status = .rectified
    }

    /// The rater's rating of the fix; closes the ticket.
    public mutating func rateFix(level: Int, comment: String, on day: CivilDate) throws(EvaluationRuleError) {
        guard let rating = Rating(level: level) else {
            throw .invalidArgument([FieldViolation(field: "level", description: "must be 1–5, got \(level)", reason: "level.range")])
        }
        guard status == .rectified else {
            throw .failedPrecondition("the ticket is \(status.rawValue); the fix can be rated once it is rectified")
        }
        followUpLevel = rating
        followUpComment = comment
        closedOn = day
        status = .closed
    }

    /// An upheld appeal removed the review: the ticket ends void unless it was already closed.
    public mutating func voidByAppeal(on day: CivilDate) {
        guard status != .closed, status != .void else { return }
        status = .void
        voidedOn = day
    }
}

/// An appeal (申诉) against a malicious or mistaken bad review, filed by the rated side and decided
/// by an evaluator or leader (E7).
public struct Appeal: Sendable, Hashable, Codable {
    public enum Status: String, Sendable, Hashable, Codable, CaseIterable {
        case pending, upheld, dismissed
    }

    public private(set) var status: Status
    public let reason: String
    public let filedOn: CivilDate
    public let filedBy: String
    public private(set) var decisionReason: String
    public private(set) var decidedBy: String
    public private(set) var decidedOn: CivilDate?

    /// Files an appeal. The rating must be an active bad review without an earlier appeal (one
    /// appeal per rating; a dismissal is final), filed within `appealWorkingDays` working days of
    /// the rating.
    public static func file(
        reason: String, by subject: String, on day: CivilDate, ratingLevel: Rating, ratingRemoved: Bool, ratedOn: CivilDate,
        earlier: [Appeal], appealWorkingDays: Int, calendar: WorkingDayCalendar
    ) throws(EvaluationRuleError) -> Appeal {
        if reason.isBlank { throw .invalidArgument([.required("reason")]) }
        guard ratingLevel.isBadReview else { throw .failedPrecondition("only bad reviews (level 1–2) can be appealed; this one is level \(ratingLevel.level)") }
        guard !ratingRemoved else { throw .failedPrecondition("the rating was already removed") }
        if let previous = earlier.first {
            throw .failedPrecondition("the rating was already appealed on \(previous.filedOn.iso8601) (\(previous.status.rawValue)); one appeal per rating")
        }
        let lastDay = try onCalendar { () throws(CalendarError) in try calendar.addingWorkingDays(appealWorkingDays, to: ratedOn) }
        guard day <= lastDay else {
            throw .failedPrecondition("appeals are filed within \(appealWorkingDays) working days of the rating (by \(lastDay.iso8601))")
        }
        return Appeal(status: .pending, reason: reason, filedOn: day, filedBy: subject, decisionReason: "", decidedBy: "", decidedOn: nil)
    }

    /// Decides it: upheld removes the rating (and voids its ticket), dismissed lets it stand. The
    /// decider is never the person who appealed.
    public mutating func decide(upheld: Bool, reason: String, by subject: String, on day: CivilDate) throws(EvaluationRuleError) {
        if reason.isBlank { throw .invalidArgument([.required("reason")]) }
        guard status == .pending else { throw .failedPrecondition("the appeal was already decided (\(status.rawValue)) on \(decidedOn?.iso8601 ?? "")") }
        guard subject != filedBy else { throw .failedPrecondition("the person who appealed cannot decide the appeal") }
        status = upheld ? .upheld : .dismissed
        decisionReason = reason
        decidedBy = subject
        decidedOn = day
    }
}
