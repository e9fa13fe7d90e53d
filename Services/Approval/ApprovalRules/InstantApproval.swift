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
