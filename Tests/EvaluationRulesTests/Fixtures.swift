// Tests of EvaluationRules: plain values and real dates (2025/2026 calendar), no database.
import OneSealCore
import Testing

@testable import EvaluationRules

/// A date literal; traps on a typo so a bad literal cannot pass silently.
func day(_ text: String) -> CivilDate {
    do { return try CivilDate(parsing: text) } catch { fatalError("bad test date \(text): \(error)") }
}

/// The rule error `body` throws, or nil when it succeeds.
func ruleError(_ body: () throws -> Void) -> EvaluationRuleError? {
    do {
        try body()
        return nil
    } catch let error as EvaluationRuleError {
        return error
    } catch {
        Issue.record("unexpected error \(error)")
        return nil
    }
}

func reasons(_ error: EvaluationRuleError?) -> [String] { error?.fieldViolations.map { "\($0.field)=\($0.reason)" } ?? [] }

/// October 2026 at county node 371302: two windows (W1, W2), two items (A001 food business in
/// section SCJG, B002 pharmacy in YPJG). The stream, split by source so tests can interleave it:
///
/// | app  | window | item | submitted | outcome                         | case | decided            | wd | returns |
/// |------|--------|------|-----------|---------------------------------|------|--------------------|----|---------|
/// | app1 | W1     | A001 | 10-09     | accepted 10-09, delivered 10-16 (1 visit) | c1 | 10-14 granted on time | 3 | 0 |
/// | app2 | W1     | A001 | 10-12     | correction 10-12, accepted 10-13, delivered 10-26 (2 visits) | c2 | 10-23 denied on time | 8 | 1 (CaseReturned) |
/// | app3 | W2     | B002 | 10-12     | accepted 10-12                   | c3 | running, due 10-20 → overdue on 10-31 | | |
/// | app4 | W2     | B002 | 10-15     | not accepted 10-15               |      |                    |    |         |
/// | app5 | W2     | B002 | 10-20     | accepted 10-20 (deemed)          | c5 | 10-30 granted late | 12 | 1 (in CaseDecided) |
/// | app6 | W1     | A001 | 09-28     | accepted 09-28                   | c6 | 10-10 granted on time | 6 | 0 |
/// | app7 | W1     | A001 | 10-21     | accepted 10-21                   | c7 | running, suspended, due 10-23 | | |
/// Consultations: two in October (W1, A001), one in September. Node 371300 (the city) has one
/// application of its own on 10-12, which a county-only query must not count.
enum Stream {
    static let county = "371302"
    static let A = FactEvent.AcceptedItem(code: "A001", name: "食品经营许可", department: Department(code: "SCJG", name: "市场准入科"))
    static let B = FactEvent.AcceptedItem(code: "B002", name: "药品零售许可", department: Department(code: "YPJG", name: "药品科"))

    static func header(_ caseID: String, app: String, item: FactEvent.AcceptedItem, officer: String) -> FactEvent.Header {
        var header = FactEvent.Header(caseID: caseID)
        header.caseNumber = "371302-\(caseID)"
        header.applicationID = app
        header.implementationCode = item.code
        header.itemName = item.name
        header.acceptingNode = county
        header.decidingNode = county
        header.department = item.department
        header.officer = StaffRef(subject: officer, name: officer == "o1" ? "王芳" : "李强")
        return header
    }

    static func accepted(_ app: String, _ on: String, _ item: FactEvent.AcceptedItem, window: String, kind: String = "complete", node: String = county) -> FactEvent {
        .applicationAccepted(applicationID: app, number: "N-\(app)", node: node, nodeName: node == county ? "兰山区" : "临沂市", kind: kind, on: day(on), items: [item],
                             windowID: window, acceptedBy: StaffRef(subject: "clerk-\(window)"), applicantIndex: "idx-\(app)")
    }

    static func submitted(_ app: String, _ on: String, _ item: FactEvent.AcceptedItem, window: String, node: String = county) -> FactEvent {
        .applicationSubmitted(applicationID: app, number: "N-\(app)", node: node, items: [item.code], channel: "window", windowID: window, on: day(on))
    }

    static func clock(_ started: String, due: String, suspended: Bool = false) -> FactEvent.Clock {
        FactEvent.Clock(startedOn: day(started), dueOn: day(due), workingDaysTotal: 20, suspended: suspended)
    }

    static var intake: [FactEvent] {
        [
            submitted("app6", "2026-09-28", A, window: "W1"), accepted("app6", "2026-09-28", A, window: "W1"),
            submitted("app1", "2026-10-09", A, window: "W1"), accepted("app1", "2026-10-09", A, window: "W1"),
            submitted("app2", "2026-10-12", A, window: "W1"), .correctionIssued(applicationID: "app2", number: "N-app2", on: day("2026-10-12")),
            submitted("app3", "2026-10-12", B, window: "W2"), accepted("app3", "2026-10-12", B, window: "W2"),
            accepted("app2", "2026-10-13", A, window: "W1"),
            submitted("app4", "2026-10-15", B, window: "W2"), .notAccepted(applicationID: "app4", number: "N-app4", on: day("2026-10-15")),
            .resultDelivered(applicationID: "app1", number: "N-app1", visits: 1, windowID: "W1", caseIDs: ["c1"], on: day("2026-10-16")),
            submitted("app5", "2026-10-20", B, window: "W2"), accepted("app5", "2026-10-20", B, window: "W2", kind: "deemed"),
            submitted("app7", "2026-10-21", A, window: "W1"), accepted("app7", "2026-10-21", A, window: "W1"),
            .resultDelivered(applicationID: "app2", number: "N-app2", visits: 2, windowID: "W1", caseIDs: ["c2"], on: day("2026-10-26")),
            .consultation(ConsultationFact(id: "q1", node: county, implementationCode: "A001", windowID: "W1", on: day("2026-09-30"))),
            .consultation(ConsultationFact(id: "q2", node: county, implementationCode: "A001", windowID: "W1", on: day("2026-10-09"))),
            .consultation(ConsultationFact(id: "q3", node: county, implementationCode: "A001", windowID: "W1", on: day("2026-10-22"))),
            // The city's own application: not the county's.
            submitted("city1", "2026-10-12", A, window: "C1", node: "371300"), accepted("city1", "2026-10-12", A, window: "C1", node: "371300"),
        ]
    }

    static var approval: [FactEvent] {
        [
            .caseOpened(header("c6", app: "app6", item: A, officer: "o1"), acceptedOn: day("2026-09-28"), openedOn: day("2026-09-28"), clock: clock("2026-09-28", due: "2026-11-02")),
            .caseDecided(header("c6", app: "app6", item: A, officer: "o1"), granted: true, decidedOn: day("2026-10-10"), onTime: true, workingDaysTaken: 6, returns: 0, acceptedOn: day("2026-09-28"), applicantIndex: ""),
            .caseOpened(header("c1", app: "app1", item: A, officer: "o1"), acceptedOn: day("2026-10-09"), openedOn: day("2026-10-09"), clock: clock("2026-10-09", due: "2026-11-06")),
            .stepCompleted(header("c1", app: "app1", item: A, officer: "o1")),
            .caseDecided(header("c1", app: "app1", item: A, officer: "o1"), granted: true, decidedOn: day("2026-10-14"), onTime: true, workingDaysTaken: 3, returns: 0, acceptedOn: day("2026-10-09"), applicantIndex: ""),
            .caseOpened(header("c3", app: "app3", item: B, officer: "o2"), acceptedOn: day("2026-10-12"), openedOn: day("2026-10-12"), clock: clock("2026-10-12", due: "2026-10-20")),
            .caseOpened(header("c2", app: "app2", item: A, officer: "o1"), acceptedOn: day("2026-10-13"), openedOn: day("2026-10-13"), clock: clock("2026-10-13", due: "2026-11-10")),
            .caseReturned(header("c2", app: "app2", item: A, officer: "o1"), on: day("2026-10-16")),
            .caseOpened(header("c5", app: "app5", item: B, officer: "o2"), acceptedOn: day("2026-10-20"), openedOn: day("2026-10-20"), clock: clock("2026-10-20", due: "2026-10-28")),
            .caseOpened(header("c7", app: "app7", item: A, officer: "o1"), acceptedOn: day("2026-10-21"), openedOn: day("2026-10-21"), clock: clock("2026-10-21", due: "2026-10-23")),
            .clockChanged(header("c7", app: "app7", item: A, officer: "o1"), clock: clock("2026-10-21", due: "2026-10-23", suspended: true), suspended: true),
            .caseDecided(header("c2", app: "app2", item: A, officer: "o1"), granted: false, decidedOn: day("2026-10-23"), onTime: true, workingDaysTaken: 8, returns: 0, acceptedOn: day("2026-10-13"), applicantIndex: ""),
            .caseDecided(header("c5", app: "app5", item: B, officer: "o2"), granted: true, decidedOn: day("2026-10-30"), onTime: false, workingDaysTaken: 12, returns: 1, acceptedOn: day("2026-10-20"), applicantIndex: ""),
        ]
    }

    static func attribution(window: String, item: FactEvent.AcceptedItem, officer: String) -> Attribution {
        Attribution(node: county, implementationCode: item.code, windowID: window, officer: officer, department: item.department!.code)
    }

    /// Active r1 (5, W1), r2 (2, W1), r4 (4, W2); r3 (1, W2) removed on appeal; r0 in September.
    static var ratings: [RatingFact] {
        [
            RatingFact(id: "r0", attribution: attribution(window: "W1", item: A, officer: "o1"), ratedOn: day("2026-09-29"), level: .dissatisfied, channel: .online),
            RatingFact(id: "r1", attribution: attribution(window: "W1", item: A, officer: "o1"), ratedOn: day("2026-10-16"), level: .verySatisfied, channel: .online),
            RatingFact(id: "r2", attribution: attribution(window: "W1", item: A, officer: "o1"), ratedOn: day("2026-10-23"), level: .dissatisfied, channel: .online),
            RatingFact(id: "r3", attribution: attribution(window: "W2", item: B, officer: "o2"), ratedOn: day("2026-10-15"), level: .veryDissatisfied, channel: .onSite, removed: true),
            RatingFact(id: "r4", attribution: attribution(window: "W2", item: B, officer: "o2"), ratedOn: day("2026-10-30"), level: .satisfied, channel: .online),
        ]
    }

    /// t2 (r2's, due 11-13, open on 10-31), ta (rectified 10-20, due 10-30: on time), tb (due
    /// 10-15, never rectified: overdue), tv (void).
    static var tickets: [RectificationFact] {
        [
            RectificationFact(id: "t2", attribution: attribution(window: "W1", item: A, officer: "o1"), openedOn: day("2026-10-23"), dueOn: day("2026-11-13"), rectifiedOn: nil, void: false),
            RectificationFact(id: "ta", attribution: attribution(window: "W1", item: A, officer: "o1"), openedOn: day("2026-10-09"), dueOn: day("2026-10-30"), rectifiedOn: day("2026-10-20"), void: false),
            RectificationFact(id: "tb", attribution: attribution(window: "W2", item: B, officer: "o2"), openedOn: day("2026-10-10"), dueOn: day("2026-10-15"), rectifiedOn: nil, void: false),
            RectificationFact(id: "tv", attribution: attribution(window: "W2", item: B, officer: "o2"), openedOn: day("2026-10-12"), dueOn: day("2026-11-02"), rectifiedOn: nil, void: true),
        ]
    }

    static func october(_ groupBy: GroupBy = .total, nodes: Set<String> = [county], asOf: String = "2026-11-05") -> FiguresQuery {
        FiguresQuery(from: day("2026-10-01"), to: day("2026-10-31"), asOf: day(asOf), groupBy: groupBy, nodes: nodes)
    }
}
