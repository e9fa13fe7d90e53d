import ApprovalRules
import Foundation
import OneSealCore

func day(_ text: String) -> CivilDate { CivilDate(text)! }
func noon(_ text: String) -> Date { day(text).startOfDayInstant().addingTimeInterval(12 * 3600) }

let calendar = WorkingDayCalendar.china

enum People {
    static let officer = CaseActor(subject: "officer-li", role: "officer", department: "SC-01", node: "371302")
    static let officer2 = CaseActor(subject: "officer-wang", role: "officer", department: "SC-01", node: "371302")
    static let chief = CaseActor(subject: "chief-zhao", role: "section_chief", department: "SC-01", node: "371302")
    static let chief2 = CaseActor(subject: "chief-qian", role: "section_chief", department: "SC-01", node: "371302")
    static let deputy = CaseActor(subject: "deputy-sun", role: "deputy_director", node: "371302")
    static let director = CaseActor(subject: "director-zhou", role: "director", node: "371302")
    static let otherSection = CaseActor(subject: "officer-wu", role: "officer", department: "SC-09", node: "371302")
    static let clerk = CaseActor(subject: "clerk-07", role: "window_clerk", node: "371302")
}

func item(_ tier: ApprovalTier, promised: Int = 5, instant: Bool = false, ruleSet: String = "", joint: Bool = false) -> ItemSnapshot {
    ItemSnapshot(
        implementationCode: "000117005000371302001", name: "食品经营许可", tier: tier, statutoryDays: 20, promisedDays: promised,
        departmentCode: "SC-01", departmentName: "市场准入科", departmentNode: "371302", instantApprovalAllowed: instant, instantRuleSet: ruleSet,
        licenceTypeCode: "11100000000013338W001", licenceName: "食品经营许可证", licenceValidityMonths: 60, jointHandling: joint)
}

func openCase(_ tier: ApprovalTier, acceptedOn: String = "2026-09-21", promised: Int = 5, assignee: String? = "officer-li",
              materials: [CaseMaterial] = [], kind: AcceptanceKind = .complete, instant: Bool = false, ruleSet: String = "") -> CaseState {
    CaseState(
        caseID: "c-1", caseNumber: "371302-20260921-000001", applicationID: "a-1", applicationNumber: "371302202609210000010",
        acceptingNode: NodeInfo(code: "371302"), decidingNode: NodeInfo(code: "371302"),
        item: item(tier, promised: promised, instant: instant, ruleSet: ruleSet), acceptanceKind: kind, acceptedOn: day(acceptedOn),
        materials: materials, assignee: assignee, openedAt: noon(acceptedOn))
}

let review = "经审查，申请材料齐全，现场核查经营场所布局合理，符合《食品经营许可管理办法》第十一条规定"
let signOff = "已核对承办人审查意见及现场核查记录，设施与布局符合要求，同意准予许可"
let grant = Outcome.grant(GrantTerms(scope: "预包装食品销售，散装食品销售", place: "兰山区解放路1号"))

/// The fields an INVALID_ARGUMENT named (empty when `body` did not fail that way). An untyped
/// closure on purpose: `catch .invalidArgument(let v)` on a typed-throws call crashed the 6.3.1
/// compiler's ownership verifier in a test body.
func violatedFields(_ body: () throws -> Void) -> Set<String> {
    do {
        try body()
        return []
    } catch let error as ApprovalRuleError {
        if case .invalidArgument(let violations) = error { return Set(violations.map(\.field)) }
        return []
    } catch {
        return []
    }
}
