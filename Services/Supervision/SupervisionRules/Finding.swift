import Foundation
import OneSealCore

/// What a finding becomes in approval.
public enum FindingEffect: String, Sendable, Hashable, Codable, CaseIterable {
    /// Recorded on the case.
    case record
    /// The department withdrew (吊销) the licence: the grant is cancelled (注销, Art. 70 (4)).
    case cancellation
    /// The grant should not have been made (or the commitment was false): a revocation review (Art. 69).
    case revocationReview

    public init(_ kind: FindingKind) {
        switch kind {
        case .licenceWithdrawn: self = .cancellation
        case .revocationRecommended, .commitmentFalse: self = .revocationReview
        case .inspectionResult, .penalty, .commitmentVerified, .other: self = .record
        }
    }
}

public enum InspectionResult: String, Sendable, Hashable, Codable, CaseIterable {
    case compliant, compliantAfterFix, nonCompliant, notFoundAtPlace
}

/// A finding as submitted, before the service files it.
public struct FindingDraft: Sendable, Hashable {
    public var kind: FindingKind?
    public var inspectionResult: InspectionResult?
    public var penaltyDecisionNumber: String
    public var penaltyType: String
    public var penaltyAmountFen: Int64
    public var facts: String
    public var occurredOn: CivilDate?
    /// What it is about: a push, or a case / licence the department was pushed.
    public var pushID: String
    public var caseID: String
    public var hasLicence: Bool

    public init(
        kind: FindingKind?, inspectionResult: InspectionResult? = nil, penaltyDecisionNumber: String = "", penaltyType: String = "",
        penaltyAmountFen: Int64 = 0, facts: String, occurredOn: CivilDate?, pushID: String = "", caseID: String = "", hasLicence: Bool = false
    ) {
        self.kind = kind
        self.inspectionResult = inspectionResult
        self.penaltyDecisionNumber = penaltyDecisionNumber
        self.penaltyType = penaltyType
        self.penaltyAmountFen = penaltyAmountFen
        self.facts = facts
        self.occurredOn = occurredOn
        self.pushID = pushID
        self.caseID = caseID
        self.hasLicence = hasLicence
    }

    /// Every problem with the draft (field paths under `finding.`). Facts must be specific: a finding
    /// that changes a grant (withdrawal, revocation, false commitment) needs at least 10 characters.
    public func validate(today: CivilDate) -> [FieldViolation] {
        var violations: [FieldViolation] = []
        guard let kind else {
            return [FieldViolation(field: "finding.kind", description: "required: inspection_result, penalty, licence_withdrawn, revocation_recommended, commitment_verified, commitment_false or other", reason: "required")]
        }
        if pushID.isBlank && caseID.isBlank && !hasLicence {
            violations.append(FieldViolation(field: "finding.push_id", description: "name the push (or the case or licence) the finding is about", reason: "required"))
        }
        let facts = self.facts.trimmed
        let minimum = FindingEffect(kind) == .record ? 2 : 10
        if facts.isEmpty {
            violations.append(.required("finding.facts"))
        } else if facts.count < minimum {
            violations.append(FieldViolation(field: "finding.facts", description: "state the facts found specifically (at least \(minimum) characters)", reason: "too_short"))
        }
        if let occurredOn {
            if occurredOn > today {
                violations.append(FieldViolation(field: "finding.occurred_on", description: "\(occurredOn) is in the future", reason: "future"))
            }
        } else {
            violations.append(.required("finding.occurred_on"))
        }
        switch kind {
        case .inspectionResult:
            if inspectionResult == nil { violations.append(.required("finding.inspection_result")) }
        case .penalty:
            if penaltyDecisionNumber.isBlank { violations.append(.required("finding.penalty.decision_number")) }
            if penaltyType.isBlank { violations.append(.required("finding.penalty.penalty_type")) }
            if penaltyAmountFen < 0 { violations.append(FieldViolation(field: "finding.penalty.amount_fen", description: "must not be negative", reason: "out_of_range")) }
        case .licenceWithdrawn:
            if penaltyDecisionNumber.isBlank {
                violations.append(FieldViolation(field: "finding.penalty.decision_number", description: "a withdrawal (吊销) is a penalty decision: give its number", reason: "required"))
            }
        case .revocationRecommended, .commitmentVerified, .commitmentFalse, .other:
            break
        }
        return violations
    }

    /// Commitment findings answer 告知承诺 grants only.
    public static func check(kind: FindingKind, against push: PushKind) throws(SupervisionRuleError) {
        if kind == .commitmentVerified || kind == .commitmentFalse, push != .commitment {
            throw .failedPrecondition("a commitment finding answers a 告知承诺 grant; this push is a \(push.rawValue) push")
        }
    }
}
