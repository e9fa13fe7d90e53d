import Foundation
import OneSealCore

/// One declared condition of an instant-approval rule set (智能审批). Every condition is checked
/// against data the case holds or facts supplied with the request; a condition that cannot be
/// verified fails, so anything uncertain goes to a human.
public enum InstantCondition: Sendable, Hashable, Codable {
    /// Accepted with complete materials (not on deficiency or commitment terms).
    case acceptedComplete
    /// Every material is an electronic licence that intake verified (no uploads to read).
    case allMaterialsVerifiedElectronicLicences
    /// At least one material, and each of these requirement codes is present as a verified electronic licence.
    case verifiedElectronicLicences([String])
    /// A fact equals a value ("applicant_kind" = "legal_person").
    case factEquals(String, String)
    /// A fact is one of the values.
    case factIn(String, [String])
    /// A numeric fact is at least / at most a bound.
    case factAtLeast(String, Double)
    case factAtMost(String, Double)
    /// A fact is present and not blank.
    case factPresent(String)
}

/// A named rule with its condition.
public struct InstantRule: Sendable, Hashable, Codable {
    public var id: String
    public var description: String
    public var condition: InstantCondition

    public init(id: String, description: String, condition: InstantCondition) {
        self.id = id
        self.description = description
        self.condition = condition
    }
}

/// A declared rule set: the item's catalogue entry names it (`instant_rule_set`); a grant follows
/// only when every rule passes. Nodes declare their own sets as JSON (node_settings
/// `approval.instant_rule_set.<name>`); `builtIn` holds the examples shipped with OneSeal.
public struct InstantRuleSet: Sendable, Hashable, Codable {
    public var name: String
    public var rules: [InstantRule]
    /// Printed as the licence scope on an instant grant ("{item}" is replaced by the item name).
    public var scope: String

    public init(name: String, rules: [InstantRule], scope: String = "{item}") {
        self.name = name
        self.rules = rules
        self.scope = scope
    }

    public static let builtIn: [String: InstantRuleSet] = [
        "e-licence-complete": InstantRuleSet(name: "e-licence-complete", rules: [
            InstantRule(id: "acceptance.complete", description: "材料齐全受理（非容缺、非告知承诺）", condition: .acceptedComplete),
            InstantRule(id: "materials.e-licences", description: "全部材料均为已核验的电子证照", condition: .allMaterialsVerifiedElectronicLicences),
        ]),
    ]

    /// Evaluates every rule (all of them, so the trace explains every failure at once).
    public func evaluate(_ state: CaseState, facts: [String: String]) -> [RuleEvaluation] {
        rules.map { rule in
            let (passed, detail) = Self.check(rule.condition, state: state, facts: facts)
            return RuleEvaluation(ruleID: rule.id, description: rule.description, passed: passed, detail: detail)
        }
    }

    static func check(_ condition: InstantCondition, state: CaseState, facts: [String: String]) -> (Bool, String) {
        func fact(_ name: String) -> String? {
            guard let value = facts[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
            return value
        }
        switch condition {
        case .acceptedComplete:
            return (state.acceptanceKind == .complete, "acceptance kind: \(state.acceptanceKind.rawValue)")
        case .allMaterialsVerifiedElectronicLicences:
            guard !state.materials.isEmpty else { return (false, "no materials recorded; nothing can be verified") }
            let unverified = state.materials.filter { !($0.isElectronicLicence && $0.licenceVerified) }
            return unverified.isEmpty
                ? (true, "\(state.materials.count) materials, all verified electronic licences")
                : (false, "not verified electronic licences: \(unverified.map { "\($0.requirementCode) \($0.name)" }.joined(separator: ", "))")
        case .verifiedElectronicLicences(let codes):
            let missing = codes.filter { code in !state.materials.contains { $0.requirementCode == code && $0.isElectronicLicence && $0.licenceVerified } }
            return missing.isEmpty ? (true, "verified: \(codes.joined(separator: ", "))") : (false, "missing or unverified: \(missing.joined(separator: ", "))")
        case .factEquals(let name, let expected):
            guard let value = fact(name) else { return (false, "\(name): not supplied") }
            return (value == expected, "\(name) = \(value) (needs \(expected))")
        case .factIn(let name, let values):
            guard let value = fact(name) else { return (false, "\(name): not supplied") }
            return (values.contains(value), "\(name) = \(value) (needs one of \(values.joined(separator: ", ")))")
        case .factAtLeast(let name, let bound):
            guard let text = fact(name), let value = Double(text) else { return (false, "\(name): not supplied as a number") }
            return (value >= bound, "\(name) = \(text) (needs ≥ \(bound))")
        case .factAtMost(let name, let bound):
            guard let text = fact(name), let value = Double(text) else { return (false, "\(name): not supplied as a number") }
            return (value <= bound, "\(name) = \(text) (needs ≤ \(bound))")
        case .factPresent(let name):
            return fact(name) == nil ? (false, "\(name): not supplied") : (true, "\(name) supplied")
        }
    }
}

extension CaseState {
    /// Instant approval: when the item allows it, the case is still at the officer's first step and
    /// every rule of the item's set passes, the case is granted by the rules with the trace stored;
    /// otherwise the attempt (and why it failed) is recorded and the case stays with the officer.
    /// Returns whether it granted.
    @discardableResult
    public mutating func instantApprove(
        ruleSet: InstantRuleSet?, facts: [String: String], requestedBy: String, on date: CivilDate, at instant: Date,
        calendar: WorkingDayCalendar, document: (CaseState, DecisionRecord) -> Document? = { _, _ in nil }
    ) throws(ApprovalRuleError) -> (granted: Bool, trace: [RuleEvaluation]) {
        guard item.instantApprovalAllowed else {
            throw .failedPrecondition("\(item.name) (\(item.implementationCode)) does not allow instant approval; an officer decides it")
        }
        try requireRunning("instantly approved")
        guard returns == 0, let active = activeStep, active.index == 0, active.status == .active else {
            throw .failedPrecondition("instant approval applies only to a case not yet reviewed; case \(caseNumber) is past its first step")
        }
        guard let ruleSet else {
            let trace = [RuleEvaluation(ruleID: "rule_set", description: "规则集已声明", passed: false, detail: "rule set '\(item.instantRuleSet)' is not declared on this node")]
            instantAttempts.append(InstantAttempt(ruleSet: item.instantRuleSet, at: instant, passed: false, trace: trace, requestedBy: requestedBy))
            return (false, trace)
        }
        let trace = ruleSet.evaluate(self, facts: facts)
        let passed = !trace.isEmpty && trace.allSatisfy(\.passed)
        instantAttempts.append(InstantAttempt(ruleSet: ruleSet.name, at: instant, passed: passed, trace: trace, requestedBy: requestedBy))
        guard passed else { return (false, trace) }
        let scope = ruleSet.scope.replacingOccurrences(of: "{item}", with: item.name)
        let outcome = try Self.validated(.grant(GrantTerms(scope: scope)), on: date, item: item, defaultAppealRights: "")
        let system = CaseActor.system("instant-approval:\(ruleSet.name)", node: decidingNode.code)
        for index in steps.indices where steps[index].status != .completed {
            steps[index].status = .completed
            steps[index].conclusion = .proposeGrant
            steps[index].opinion = "智能审批：规则集 \(ruleSet.name) 全部 \(trace.count) 项规则通过"
            steps[index].completedAt = instant
            steps[index].completedBy = system
        }
        try close(with: outcome, by: system, on: date, at: instant, calendar: calendar, instant: true, trace: trace, document: document)
        return (true, trace)
    }
}
