import Foundation
import OneSealCore
import Testing

@testable import EvaluationRules

@Suite("Bad-review rectification tickets and appeals")
struct RectificationTests {
    let calendar = WorkingDayCalendar.china

    func callBack(_ on: String, reached: Bool, facts: String = "窗口人员解释不清，情况属实") -> RectificationTicket.CallBack {
        .init(on: day(on), at: Date(timeIntervalSince1970: 0), by: "eval-1", reached: reached, summary: "电话回访", verifiedFacts: reached ? facts : "", justified: true)
    }

    @Test("15 working days across the 2026 National Day holiday")
    func deadline() throws {
        // Rated Tue 09-29 (not counted). 1: 09-30; 10-01…10-07 off; 2: 10-08, 3: 10-09,
        // 4: Sat 10-10 (make-up day), 5: 10-12 … 9: 10-16, 10: 10-19 … 14: 10-23, 15: Mon 10-26.
        let ticket = try RectificationTicket.open(ratedOn: day("2026-09-29"), workingDays: 15, callBackRequired: true, calendar: calendar)
        #expect(ticket.dueOn == day("2026-10-26"))
        #expect(ticket.status == .open)
        // A locality's 5-day rule: 09-30, 10-08, 10-09, 10-10, 10-12.
        #expect(try RectificationTicket.open(ratedOn: day("2026-09-29"), workingDays: 5, callBackRequired: false, calendar: calendar).dueOn == day("2026-10-12"))
        // Spring Festival 2026: rated Thu 02-12 → 1: 02-13, 2: Sat 02-14 (make-up), 02-15…02-23 off,
        // 3: 02-24 … 6: 02-27, 7: Sat 02-28 (make-up).
        #expect(try RectificationTicket.open(ratedOn: day("2026-02-12"), workingDays: 7, callBackRequired: false, calendar: calendar).dueOn == day("2026-02-28"))
        // A year without a notice is an error, never a guess.
        #expect(ruleError { _ = try RectificationTicket.open(ratedOn: day("2026-12-28"), workingDays: 15, callBackRequired: false, calendar: calendar) }
            == .calendar(.yearNotLoaded(2027)))
    }

    @Test("the whole life cycle of a named bad review, on time")
    func lifeCycle() throws {
        var ticket = try RectificationTicket.open(ratedOn: day("2026-09-29"), workingDays: 15, callBackRequired: true, calendar: calendar)
        // Cannot rectify before the call-back.
        #expect(ruleError { try ticket.complete(measures: "加强培训", feedback: "已致歉", on: day("2026-09-30")) }
            == .failedPrecondition("cannot rectify yet: the named rater must be reached (or 3 attempts made; 0 so far)"))
        // The summary is required; a reached rater's facts too.
        #expect(reasons(ruleError { try ticket.recordCallBack(.init(on: day("2026-09-30"), at: Date(), by: "e", reached: true, summary: " ", verifiedFacts: "", justified: true)) })
            == ["call_back.summary=required", "call_back.verified_facts=required"])
        // Two unreached attempts keep it open; the rater reached on the third call.
        try ticket.recordCallBack(callBack("2026-09-30", reached: false))
        try ticket.recordCallBack(callBack("2026-10-08", reached: false))
        #expect(ticket.status == .open)
        try ticket.recordCallBack(callBack("2026-10-09", reached: true))
        #expect(ticket.status == .calledBack)
        #expect(reasons(ruleError { try ticket.complete(measures: "", feedback: " ", on: day("2026-10-20")) }) == ["measures=required", "feedback=required"])
        try ticket.complete(measures: "对窗口人员开展业务培训", feedback: "已电话致歉并说明整改措施", on: day("2026-10-26"))
        #expect(ticket.status == .rectified)
        #expect(ticket.onTime == true)  // on the due day itself
        #expect(!ticket.isOverdue(asOf: day("2026-11-30")))
        #expect(ruleError { try ticket.recordCallBack(callBack("2026-10-27", reached: true)) }
            == .failedPrecondition("the ticket is rectified; call-backs are recorded while it is open or called back"))
        #expect(reasons(ruleError { try ticket.rateFix(level: 0, comment: "", on: day("2026-10-27")) }) == ["level=level.range"])
        try ticket.rateFix(level: 4, comment: "态度好转", on: day("2026-10-27"))
        #expect(ticket.status == .closed)
        #expect(ticket.followUpLevel == .satisfied)
        #expect(ruleError { try ticket.rateFix(level: 5, comment: "", on: day("2026-10-28")) }
            == .failedPrecondition("the ticket is closed; the fix can be rated once it is rectified"))
    }

    @Test("overdue: not rectified after the due day, or rectified late")
    func overdue() throws {
        var ticket = try RectificationTicket.open(ratedOn: day("2026-09-29"), workingDays: 15, callBackRequired: false, calendar: calendar)
        #expect(!ticket.isOverdue(asOf: day("2026-10-26")))
        #expect(ticket.isOverdue(asOf: day("2026-10-27")))
        // An anonymous review is called back (verified) by its first record, reached or not.
        try ticket.recordCallBack(callBack("2026-10-20", reached: false))
        #expect(ticket.status == .calledBack)
        try ticket.complete(measures: "调整排队叫号规则", feedback: "已在大厅公示", on: day("2026-10-27"))
        #expect(ticket.onTime == false)
        #expect(ticket.isOverdue(asOf: day("2026-10-27")))
    }

    @Test("appeals: filed in time on an active bad review, decided by someone else, once")
    func appeals() throws {
        let rated = day("2026-09-29")
        // Five working days: 09-30, 10-08, 10-09, 10-10, 10-12.
        func file(on: String, level: Rating = .veryDissatisfied, removed: Bool = false, earlier: [Appeal] = []) throws -> Appeal {
            try Appeal.file(reason: "评价人误操作，当日已致电说明", by: "clerk-W1", on: day(on), ratingLevel: level, ratingRemoved: removed, ratedOn: rated, earlier: earlier, appealWorkingDays: 5, calendar: calendar)
        }
        #expect(ruleError { _ = try file(on: "2026-10-13") } == .failedPrecondition("appeals are filed within 5 working days of the rating (by 2026-10-12)"))
        #expect(ruleError { _ = try file(on: "2026-10-09", level: .satisfied) } == .failedPrecondition("only bad reviews (level 1–2) can be appealed; this one is level 4"))
        #expect(ruleError { _ = try Appeal.file(reason: "  ", by: "x", on: rated, ratingLevel: .dissatisfied, ratingRemoved: false, ratedOn: rated, earlier: [], appealWorkingDays: 5, calendar: calendar) }
            == .invalidArgument([.required("reason")]))
        var appeal = try file(on: "2026-10-12")
        #expect(appeal.status == .pending)
        #expect(ruleError { _ = try file(on: "2026-10-12", earlier: [appeal]) } == .failedPrecondition("the rating was already appealed on 2026-10-12 (pending); one appeal per rating"))
        #expect(ruleError { try appeal.decide(upheld: true, reason: "监控核实为误评", by: "clerk-W1", on: day("2026-10-13")) }
            == .failedPrecondition("the person who appealed cannot decide the appeal"))
        try appeal.decide(upheld: true, reason: "调取监控核实为误评", by: "eval-1", on: day("2026-10-13"))
        #expect(appeal.status == .upheld)
        #expect(ruleError { try appeal.decide(upheld: false, reason: "x", by: "eval-2", on: day("2026-10-14")) }
            == .failedPrecondition("the appeal was already decided (upheld) on 2026-10-13"))
        // An upheld appeal voids the open ticket; a closed ticket stays closed.
        var ticket = try RectificationTicket.open(ratedOn: rated, workingDays: 15, callBackRequired: false, calendar: calendar)
        ticket.voidByAppeal(on: day("2026-10-13"))
        #expect(ticket.status == .void && ticket.isFinal)
        #expect(!ticket.isOverdue(asOf: day("2026-12-01")))
        #expect(ruleError { try ticket.recordCallBack(callBack("2026-10-14", reached: false)) } != nil)
    }
}
