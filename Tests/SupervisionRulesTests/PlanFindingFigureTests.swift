import Foundation
import OneSealCore
import Testing
@testable import SupervisionRules

@Suite("Push plans, findings, quarterly figures")
struct PlanFindingFigureTests {
    typealias D = Dates
    static let food = "000117005000371302001"

    static let boundary = BoundaryList([
        BoundaryEntry(implementationCode: food, departments: [
            SupervisingDepartment(code: "SCJG-371302", responsibility: "辖区食品经营监管"),
            SupervisingDepartment(code: "WJW-371300", responsibility: "从业人员健康"),
        ])
    ])

    @Test("one push per responsible department; the subject key makes two reports of one revocation one push")
    func plans() {
        let grant = PushPlanner.plan(PushSource(fact: .grant(commitment: false), caseID: "c1", implementationCode: Self.food), boundary: Self.boundary)
        #expect(grant.map(\.department.code) == ["SCJG-371302", "WJW-371300"])
        #expect(grant.allSatisfy { $0.kind == .grant && $0.subjectKey == "grant:c1" })
        #expect(PushSource(fact: .grant(commitment: true), caseID: "c1", implementationCode: Self.food).kind == .commitment)
        #expect(PushSource(fact: .licenceIssued(licenceIdentifier: "L", version: "001"), caseID: "c1", implementationCode: Self.food).kind == .licence)
        #expect(PushSource(fact: .licenceIssued(licenceIdentifier: "L", version: "002"), caseID: "c1", implementationCode: Self.food).kind == .change)
        // Approval's GrantRevoked and certificate's LicenceStatusChanged about case c1: the same key.
        #expect(PushSource(fact: .revoked, caseID: "c1", implementationCode: Self.food).subjectKey == "revocation:c1")
        #expect(PushPlanner.plan(PushSource(fact: .notPushed(reason: "denial"), caseID: "c1", implementationCode: Self.food), boundary: Self.boundary).isEmpty)
        #expect(PushPlanner.plan(PushSource(fact: .cancelled, caseID: "c1", implementationCode: "000105008000371302004"), boundary: Self.boundary).isEmpty)
    }

    @Test("feedback kinds: withdrawal → cancellation, should-not-have-been-granted and false commitment → revocation review, the rest recorded")
    func effects() {
        #expect(FindingEffect(.licenceWithdrawn) == .cancellation)
        #expect(FindingEffect(.revocationRecommended) == .revocationReview)
        #expect(FindingEffect(.commitmentFalse) == .revocationReview)
        for kind in [FindingKind.inspectionResult, .penalty, .commitmentVerified, .other] { #expect(FindingEffect(kind) == .record) }
    }

    @Test("finding drafts: every problem at once; specific facts for findings that change a grant")
    func drafts() {
        let today = D.day(2026, 11, 23)
        #expect(FindingDraft(kind: nil, facts: "", occurredOn: nil).validate(today: today).map(\.field) == ["finding.kind"])
        let bad = FindingDraft(kind: .licenceWithdrawn, facts: "无证", occurredOn: D.day(2026, 11, 24))
        #expect(bad.validate(today: today).map(\.field) == ["finding.push_id", "finding.facts", "finding.occurred_on", "finding.penalty.decision_number"])
        let penalty = FindingDraft(kind: .penalty, penaltyAmountFen: -1, facts: "超范围经营", occurredOn: today, pushID: "p")
        #expect(penalty.validate(today: today).map(\.field) == ["finding.penalty.decision_number", "finding.penalty.penalty_type", "finding.penalty.amount_fen"])
        #expect(FindingDraft(kind: .inspectionResult, facts: "现场检查", occurredOn: today, pushID: "p").validate(today: today).map(\.field) == ["finding.inspection_result"])
        #expect(FindingDraft(kind: .revocationRecommended, facts: "申请人提交的场所证明系伪造，不符合法定条件", occurredOn: today, caseID: "c").validate(today: today).isEmpty)
        #expect(throws: SupervisionRuleError.self) { try FindingDraft.check(kind: .commitmentFalse, against: .grant) }
        #expect(throws: Never.self) { try FindingDraft.check(kind: .commitmentFalse, against: .commitment) }
    }

    @Test("working hours skip weekends and holidays")
    func workingHours() throws {
        // Friday 16:00 → Monday 09:00: 8 h on Friday + 9 h on Monday.
        #expect(try WorkingHours.between(D.at(2026, 11, 20, 16), D.at(2026, 11, 23, 9), calendar: D.calendar) == 17)
        // 2026-09-30 20:00 → 2026-10-08 02:00: 4 h + the National Day week not counted + 2 h.
        #expect(try WorkingHours.between(D.at(2026, 9, 30, 20), D.at(2026, 10, 8, 2), calendar: D.calendar) == 6)
        #expect(try WorkingHours.between(D.at(2026, 11, 23, 9), D.at(2026, 11, 23, 9), calendar: D.calendar) == 0)
    }

    @Test("quarterly figures: pushed, on time, median and worst latency, rejected, re-routed, overdue, findings, accuracy")
    func figures() throws {
        let quarter = Quarter(year: 2026, quarter: 4)!
        #expect(quarter.firstDay == D.day(2026, 10, 1) && quarter.lastDay == D.day(2026, 12, 31))
        #expect(Quarter(containing: D.day(2026, 11, 23)) == quarter)
        #expect(Quarter(year: 2026, quarter: 5) == nil)
        func push(_ code: String, at: Date, status: PushStatus, claimed: Date? = nil, onTime: Bool = false, rejected: Bool = false) -> PushFacts {
            PushFacts(departmentCode: code, pushedAt: at, pushedOnTime: true, status: status, claimedAt: claimed, claimedOnTime: onTime, rejected: rejected, claimDue: Quarter(containing: CivilDate(at)).lastDay < D.day(2026, 11, 23) ? CivilDate(at) : D.day(2026, 11, 23))
        }
        let pushes = [
            // Market regulation: claimed after 1 h, 3 h, 17 h (Friday → Monday), one still pending past its day.
            push("SCJG", at: D.at(2026, 11, 16, 9), status: .claimed, claimed: D.at(2026, 11, 16, 10), onTime: true),
            push("SCJG", at: D.at(2026, 11, 17, 9), status: .claimed, claimed: D.at(2026, 11, 17, 12), onTime: true),
            push("SCJG", at: D.at(2026, 11, 20, 16), status: .claimed, claimed: D.at(2026, 11, 23, 9), onTime: true),
            PushFacts(departmentCode: "SCJG", pushedAt: D.at(2026, 11, 20, 10), pushedOnTime: false, status: .pending, claimedAt: nil, claimedOnTime: false, rejected: false, claimDue: D.day(2026, 11, 23)),
            // Transport: rejected and re-routed.
            push("JT", at: D.at(2026, 11, 18, 9), status: .rerouted, rejected: true),
            // Last quarter: not counted.
            push("SCJG", at: D.at(2026, 9, 30, 9), status: .claimed, claimed: D.at(2026, 9, 30, 10), onTime: true),
        ]
        let (departments, total) = try QuarterlyFigures.compute(quarter: quarter, pushes: pushes, findings: ["SCJG": 2, "WJW": 1], now: D.at(2026, 11, 24, 9), calendar: D.calendar)
        #expect(departments.map(\.departmentCode) == ["JT", "SCJG", "WJW"])
        let market = departments[1]
        #expect(market.pushed == 4 && market.pushedOnTime == 3 && market.claimed == 3 && market.claimedOnTime == 3)
        #expect(market.claimOnTimeRate == 0.75)
        #expect(market.latencyMedianHours == 3 && market.latencyWorstHours == 17 && market.latencyMeanHours == 7 && market.latencyP90Hours == 17)
        #expect(market.unclaimedOverdue == 1 && market.findings == 2 && market.accuracy == 1)
        let transport = departments[0]
        #expect(transport.pushed == 1 && transport.rejected == 1 && transport.rerouted == 1 && transport.accuracy == 0)
        #expect(departments[2].pushed == 0 && departments[2].findings == 1 && departments[2].claimOnTimeRate == 0)
        #expect(total.pushed == 5 && total.rejected == 1 && total.findings == 3 && total.latencyWorstHours == 17)
        #expect(QuarterlyFigures.median([1, 3, 5, 17]) == 4)
    }
}
