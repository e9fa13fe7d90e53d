import ApprovalRules
import Foundation
import OneSealCore
import Testing

/// A renewal case (延续, Art. 50) with real dates: decided by the licence's last valid day, or granted
/// by law the day after — here across the 2026 National Day holiday.
@Suite("Renewal cases (Art. 50)")
struct RenewalCaseTests {
    static let renewal = RenewalSubject(
        licenceID: "l-1", licenceIdentifier: "1.2.156.3005.2.11100000000013338W001.11371302MB2850286Q.2021000001.001.K",
        licenceNumber: "JY33713020000001", licenceTypeCode: "11100000000013338W001", licenceName: "食品经营许可证",
        window: RenewalWindow(validUntil: day("2026-10-03")), appliedOn: day("2026-08-31"))

    func renewalCase(acceptedOn: String = "2026-09-01") -> CaseState {
        CaseState(
            caseID: "c-r", caseNumber: "371302-20260901-000009", applicationID: "a-r", applicationNumber: "371302202609010000090",
            acceptingNode: NodeInfo(code: "371302"), decidingNode: NodeInfo(code: "371302"),
            item: item(.sole), acceptanceKind: .complete, acceptedOn: day(acceptedOn), assignee: "officer-li", openedAt: noon(acceptedOn),
            renewal: Self.renewal)
    }

    @Test("undecided on the last valid day (a holiday): nothing yet; the day after, granted by law with the renewed validity")
    func deemedAcrossHoliday() throws {
        #expect(try !calendar.isWorkingDay(day("2026-10-03")))
        var state = renewalCase()
        let sweeper = CaseActor.system("renewal-sweeper", node: "371302")
        #expect(try !state.deemRenewalGranted(on: day("2026-10-03"), at: noon("2026-10-03"), by: sweeper, calendar: calendar))
        #expect(state.status == .inProgress)
        #expect(try state.deemRenewalGranted(on: day("2026-10-04"), at: noon("2026-10-04"), by: sweeper, calendar: calendar))
        #expect(state.status == .granted)
        let decision = try #require(state.decision)
        #expect(decision.deemedRenewal == true)
        #expect(decision.onTime == false)
        #expect(decision.decidedBy.subject == "renewal-sweeper")
        #expect(decision.decidedOn == day("2026-10-04"))
        guard case .grant(let terms) = decision.outcome else { Issue.record("not a grant"); return }
        #expect(terms.validFrom == day("2026-10-04"))
        #expect(terms.validUntil == day("2031-10-03"))  // the item's 60 months from the day after
        // Once decided there is nothing left to deem (a second sweep, another replica).
        #expect(try !state.deemRenewalGranted(on: day("2026-10-05"), at: noon("2026-10-05"), by: sweeper, calendar: calendar))
    }

    @Test("a suspended renewal is still granted by law; the suspension ends on the last valid day")
    func deemedWhileSuspended() throws {
        var state = renewalCase()
        try state.suspend(reason: .inspection, expectedDays: 10, noticeText: "需现场核查经营场所，预计10个工作日，期间不计入办理时限", on: day("2026-09-28"), by: People.officer, id: "sp1")
        #expect(try state.deemRenewalGranted(on: day("2026-10-04"), at: noon("2026-10-04"), by: .system("renewal-sweeper", node: "371302"), calendar: calendar))
        #expect(state.suspensions.first?.resumedOn == day("2026-10-03"))
        #expect(state.status == .granted)
    }

    @Test("an officer's grant continues the licence without a gap; deciding after the last valid day is refused")
    func decidedInTime() throws {
        var state = renewalCase()
        try state.sign(stepID: "s0", conclusion: .proposeGrant, opinion: review, by: People.officer, at: noon("2026-09-22"), asOfficer: true)
        var late = state
        #expect(throws: ApprovalRuleError.self) {
            try late.decide(grant, by: People.officer, on: day("2026-10-04"), at: noon("2026-10-04"), calendar: calendar, defaultAppealRights: "")
        }
        try state.decide(grant, by: People.officer, on: day("2026-09-22"), at: noon("2026-09-22"), calendar: calendar, defaultAppealRights: "")
        guard case .grant(let terms)? = state.decision?.outcome else { Issue.record("not a grant"); return }
        #expect(terms.validFrom == day("2026-10-04"))
        #expect(terms.validUntil == day("2031-10-03"))
        #expect(state.decision?.deemedRenewal == nil)
    }

    @Test("a case stored before renewals existed decodes with no renewal")
    func oldStateDecodes() throws {
        let encoder = JSONEncoder()
        var json = try JSONSerialization.jsonObject(with: try encoder.encode(openCase(.sole))) as! [String: Any]
        json.removeValue(forKey: "renewal")
        let decoded = try JSONDecoder().decode(CaseState.self, from: try JSONSerialization.data(withJSONObject: json))
        #expect(decoded.renewal == nil)
    }
}

@Suite("Change cases (Art. 49)")
struct ChangeCaseTests {
    func changeCase(_ change: LicenceChangeRequest) -> CaseState {
        CaseState(
            caseID: "c-c", caseNumber: "371302-20260921-000010", applicationID: "a-c", applicationNumber: "371302202609210000100",
            acceptingNode: NodeInfo(code: "371302"), decidingNode: NodeInfo(code: "371302"),
            item: item(.section), acceptanceKind: .complete, acceptedOn: day("2026-09-21"), assignee: nil, openedAt: noon("2026-09-21"),
            change: change)
    }

    @Test("a recorded-only change is granted as it opens, by the change register, with the chain unsigned")
    func recorded() throws {
        var state = changeCase(LicenceChangeRequest(licenceID: "l-1", licenceIdentifier: "x", legalRepresentative: "赵六"))
        let register = CaseActor.system("change-register", node: "371302")
        #expect(try state.recordChange(on: day("2026-09-21"), at: noon("2026-09-21"), by: register, calendar: calendar))
        #expect(state.status == .granted)
        #expect(state.decision?.decidedBy == register)
        #expect(state.steps.allSatisfy { $0.status != .completed })
        guard case .grant(let terms)? = state.decision?.outcome else { Issue.record("not a grant"); return }
        #expect(terms.scope == "变更登记：法定代表人 → 赵六")
        #expect(try !state.recordChange(on: day("2026-09-22"), at: noon("2026-09-22"), by: register, calendar: calendar))
    }

    @Test("a change with a reviewed matter waits for the chain")
    func reviewed() throws {
        var state = changeCase(LicenceChangeRequest(licenceID: "l-1", licenceIdentifier: "x", scope: "排放生活污水", reviewed: ["scope"]))
        #expect(try !state.recordChange(on: day("2026-09-21"), at: noon("2026-09-21"), by: .system("change-register", node: "371302"), calendar: calendar))
        #expect(state.status == .inProgress)
        #expect(state.nextRole == .officer)
    }
}
