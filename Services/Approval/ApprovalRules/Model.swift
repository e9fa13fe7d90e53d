import Foundation
import OneSealCore

/// Where a case stands. Granted cases may still become revoked or cancelled; denied, withdrawn,
/// revoked and cancelled are final.
public enum CaseStatus: String, Sendable, Hashable, Codable, CaseIterable {
    case inProgress = "in_progress"
    case suspended
    case granted
    case denied
    case withdrawn
    case revoked
    case cancelled

    /// Still being decided (the clock is counted or stopped).
    public var isOpen: Bool { self == .inProgress || self == .suspended }
}

public enum StepStatus: String, Sendable, Hashable, Codable, CaseIterable {
    case pending, active, completed, returned
}

/// What a signer concluded at a step (拟同意 / 拟不同意).
public enum StepConclusion: String, Sendable, Hashable, Codable, CaseIterable {
    case proposeGrant = "propose_grant"
    case proposeDeny = "propose_deny"
}

/// Who did something: the verified caller of an RPC, a service, or "system" (instant approval,
/// sweeper). `role` is the token role's raw value ("officer", "section_chief" …).
public struct CaseActor: Sendable, Hashable, Codable {
    public var subject: String
    public var role: String
    public var name: String
    public var department: String
    public var node: String

    public init(subject: String, role: String, name: String = "", department: String = "", node: String = "") {
        self.subject = subject
        self.role = role
        self.name = name
        self.department = department
        self.node = node
    }

    /// The approval capacity the token's role gives, if any.
    public var approvalRole: ApprovalRole? {
        switch role {
        case "officer": .officer
        case "section_chief": .sectionChief
        case "deputy_director": .deputyDirector
        case "director": .director
        default: nil
        }
    }

    /// Rules applied automatically (instant approval, findings, sweeper).
    public static func system(_ what: String, node: String) -> CaseActor { CaseActor(subject: what, role: "system", node: node) }
}

extension ApprovalRole {
    /// Seniority for reassignment: a step may be given to someone else by a more senior role.
    public var rank: Int {
        switch self {
        case .officer: 1
        case .sectionChief: 2
        case .deputyDirector: 3
        case .collectiveMeeting: 4
        case .director: 5
        }
    }

    /// Token role value holding this capacity.
    public var tokenRole: String {
        switch self {
        case .officer: "officer"
        case .sectionChief: "section_chief"
        case .deputyDirector: "deputy_director"
        case .director, .collectiveMeeting: "director"
        }
    }
}

/// The catalogue item as pinned when the application was accepted.
public struct ItemSnapshot: Sendable, Hashable, Codable {
    public var implementationCode: String
    public var version: Int
    public var name: String
    public var tier: ApprovalTier
    public var statutoryDays: Int
    public var promisedDays: Int
    public var departmentCode: String
    public var departmentName: String
    public var departmentNode: String
    public var instantApprovalAllowed: Bool
    public var instantRuleSet: String
    public var licenceTypeCode: String
    public var licenceName: String
    public var licenceValidityMonths: Int
    public var jointHandling: Bool

    public init(
        implementationCode: String, version: Int = 1, name: String, tier: ApprovalTier, statutoryDays: Int = 20, promisedDays: Int = 0,
        departmentCode: String = "", departmentName: String = "", departmentNode: String = "",
        instantApprovalAllowed: Bool = false, instantRuleSet: String = "", licenceTypeCode: String = "", licenceName: String = "",
        licenceValidityMonths: Int = 0, jointHandling: Bool = false
    ) {
        self.implementationCode = implementationCode
        self.version = version
        self.name = name
        self.tier = tier
        self.statutoryDays = statutoryDays
        self.promisedDays = promisedDays
        self.departmentCode = departmentCode
        self.departmentName = departmentName
        self.departmentNode = departmentNode
        self.instantApprovalAllowed = instantApprovalAllowed
        self.instantRuleSet = instantRuleSet
        self.licenceTypeCode = licenceTypeCode
        self.licenceName = licenceName
        self.licenceValidityMonths = licenceValidityMonths
        self.jointHandling = jointHandling
    }
}

/// One step of the sign-off chain.
public struct Step: Sendable, Hashable, Codable {
    public var index: Int
    public var role: ApprovalRole
    /// 1 for the first pass; each return starts the next round.
    public var round: Int
    /// Subject of the person the step is with; nil = in the role's queue, unclaimed.
    public var assignee: String?
    /// Who delegated the step to `assignee` (委托), and why.
    public var delegatedBy: CaseActor?
    public var delegationReason: String
    public var status: StepStatus
    public var conclusion: StepConclusion?
    public var opinion: String
    public var activatedAt: Date?
    public var completedAt: Date?
    public var completedBy: CaseActor?

    public init(index: Int, role: ApprovalRole, round: Int, assignee: String? = nil, status: StepStatus) {
        self.index = index
        self.role = role
        self.round = round
        self.assignee = assignee
        self.delegatedBy = nil
        self.delegationReason = ""
        self.status = status
        self.conclusion = nil
        self.opinion = ""
    }

    public var id: String { "s\(index)" }
}

/// Details of one clock suspension (the dates themselves live in the clocks).
public struct SuspensionRecord: Sendable, Hashable, Codable {
    public var id: String
    public var reason: SuspensionReason
    public var expectedDays: Int
    public var noticeText: String
    public var suspendedOn: CivilDate
    public var resumedOn: CivilDate?
    public var result: String
    public var suspendedBy: CaseActor
    public var resumedBy: CaseActor?
    /// The numbered written notice to the applicant (暂停计时告知书, Art. 45); nil on cases
    /// suspended before notices were numbered.
    public var notice: Document?
}

/// The one extension (Art. 42).
public struct ExtensionRecord: Sendable, Hashable, Codable {
    public var days: Int
    public var reason: String
    public var approvedBy: CaseActor
    public var approvedOn: CivilDate
    /// The numbered written notice of the extension and its reason (延长审批期限告知书, Art. 42).
    public var notice: Document?
}

/// Which meeting reviews an item (分级会审), by the item's category: element-review items
/// (section tier) → the section chief convenes the section; bottom-line items (deputy tier) → the
/// deputy director convenes related sections; major items (collective tier) → collective study.
public enum JointReviewKind: String, Sendable, Hashable, Codable, CaseIterable {
    case section
    case deputy
    case collective

    /// The kind docs/law.md#approval-tiers-and-joint-review assigns to a tier; nil for sole approval (decided on the spot).
    public static func required(for tier: ApprovalTier) -> JointReviewKind? {
        switch tier {
        case .sole: nil
        case .section: .section
        case .deputy: .deputy
        case .collective: .collective
        }
    }

    /// Roles that may convene and record this meeting.
    public var conveners: Set<ApprovalRole> {
        switch self {
        case .section: [.sectionChief]
        case .deputy: [.deputyDirector, .director]
        case .collective: [.director]
        }
    }

    public var chineseName: String {
        switch self {
        case .section: "科室会审"
        case .deputy: "分管负责人召集相关科室会审"
        case .collective: "集体研究"
        }
    }
}

public enum Vote: String, Sendable, Hashable, Codable, CaseIterable {
    case agree, disagree, abstain
}

public struct ParticipantOpinion: Sendable, Hashable, Codable {
    public var participant: CaseActor
    public var title: String
    public var opinion: String
    public var vote: Vote

    public init(participant: CaseActor, title: String, opinion: String, vote: Vote) {
        self.participant = participant
        self.title = title
        self.opinion = opinion
        self.vote = vote
    }
}

/// A joint review meeting (会审) with participants, opinions and the resolution.
public struct JointReviewRecord: Sendable, Hashable, Codable {
    public var id: String
    public var kind: JointReviewKind
    public var heldAt: Date
    public var location: String
    public var convenedBy: CaseActor
    public var opinions: [ParticipantOpinion]
    public var conclusion: String
    public var outcome: StepConclusion
    public var minutesFileID: String
    /// The recording call's idempotency key (nil: none given): the same key from the same convener
    /// is the same meeting, so a form sent twice records one (`recorded(key:by:)`).
    public var requestKey: String?

    public init(
        id: String, kind: JointReviewKind, heldAt: Date, location: String, convenedBy: CaseActor, opinions: [ParticipantOpinion],
        conclusion: String, outcome: StepConclusion, minutesFileID: String, requestKey: String? = nil
    ) {
        self.id = id
        self.kind = kind
        self.heldAt = heldAt
        self.location = location
        self.convenedBy = convenedBy
        self.opinions = opinions
        self.conclusion = conclusion
        self.outcome = outcome
        self.minutesFileID = minutesFileID
        self.requestKey = requestKey
    }
}

/// 准予许可: what is permitted, on what conditions, for how long.
public struct GrantTerms: Sendable, Hashable, Codable {
    public var scope: String
    public var conditions: [String]
    public var validFrom: CivilDate?
    /// nil = long-term (长期).
    public var validUntil: CivilDate?
    public var place: String
    public var licenceFields: [String: String]

    public init(scope: String, conditions: [String] = [], validFrom: CivilDate? = nil, validUntil: CivilDate? = nil, place: String = "", licenceFields: [String: String] = [:]) {
        self.scope = scope
        self.conditions = conditions
        self.validFrom = validFrom
        self.validUntil = validUntil
        self.place = place
        self.licenceFields = licenceFields
    }
}

/// 不予许可 (Art. 38 ¶2): reasons and the applicant's remedies.
public struct DenialTerms: Sendable, Hashable, Codable {
    public var reasons: [String]
    public var legalBasis: String
    public var appealRights: String
    public var reconsiderationAgency: String
    public var court: String

    public init(reasons: [String], legalBasis: String, appealRights: String = "", reconsiderationAgency: String = "", court: String = "") {
        self.reasons = reasons
        self.legalBasis = legalBasis
        self.appealRights = appealRights
        self.reconsiderationAgency = reconsiderationAgency
        self.court = court
    }
}

public enum Outcome: Sendable, Hashable, Codable {
    case grant(GrantTerms)
    case deny(DenialTerms)

    public var isGrant: Bool { if case .grant = self { true } else { false } }
}

/// One rule checked by instant approval, kept so the decision can be explained.
public struct RuleEvaluation: Sendable, Hashable, Codable {
    public var ruleID: String
    public var description: String
    public var passed: Bool
    public var detail: String

    public init(ruleID: String, description: String, passed: Bool, detail: String) {
        self.ruleID = ruleID
        self.description = description
        self.passed = passed
        self.detail = detail
    }
}

/// A written document under the agency's seal (决定书 …).
public struct Document: Sendable, Hashable, Codable {
    public var id: String
    public var number: String
    public var title: String
    public var issuedOn: CivilDate
    public var agency: String
    public var text: String

    public init(id: String, number: String, title: String, issuedOn: CivilDate, agency: String, text: String) {
        self.id = id
        self.number = number
        self.title = title
        self.issuedOn = issuedOn
        self.agency = agency
        self.text = text
    }
}

public struct DecisionRecord: Sendable, Hashable, Codable {
    public var outcome: Outcome
    public var decidedOn: CivilDate
    public var decidedAt: Date
    public var decidedBy: CaseActor
    public var document: Document?
    public var instant: Bool
    public var ruleTrace: [RuleEvaluation]
    public var onTime: Bool
    public var workingDaysTaken: Int
    /// A renewal granted by law because nobody decided before the licence expired (Art. 50).
    /// Optional so decisions stored before renewals decode unchanged.
    public var deemedRenewal: Bool? = nil
}

public struct WithdrawalRecord: Sendable, Hashable, Codable {
    public var reason: String
    public var withdrawnOn: CivilDate
    public var requestFileID: String
    public var recordedBy: CaseActor
}

/// Art. 69 grounds (撤销).
public enum RevocationGround: String, Sendable, Hashable, Codable, CaseIterable {
    case abuseOfPower, beyondPowers, illegalProcedure, unqualifiedApplicant, fraudOrBribery, other

    /// ¶2: a licence obtained by fraud or bribery must be revoked, whatever the public interest.
    public var isMandatory: Bool { self == .fraudOrBribery }

    public var chineseText: String {
        switch self {
        case .abuseOfPower: "行政机关工作人员滥用职权、玩忽职守作出准予行政许可决定"
        case .beyondPowers: "超越法定职权作出准予行政许可决定"
        case .illegalProcedure: "违反法定程序作出准予行政许可决定"
        case .unqualifiedApplicant: "对不具备申请资格或者不符合法定条件的申请人准予行政许可"
        case .fraudOrBribery: "被许可人以欺骗、贿赂等不正当手段取得行政许可"
        case .other: "依法可以撤销行政许可的其他情形"
        }
    }
}

public struct RevocationRecord: Sendable, Hashable, Codable {
    public var ground: RevocationGround
    public var facts: String
    public var publicInterestAssessment: String
    public var publicInterestSeriouslyHarmed: Bool
    public var effectiveOn: CivilDate
    public var decidedBy: CaseActor
    public var findingID: String
    public var document: Document?
}

/// Art. 70 grounds (注销), plus the holder's own request kept apart for statistics.
public enum CancellationGround: String, Sendable, Hashable, Codable, CaseIterable {
    case expiredNotRenewed, holderDiedOrIncapable, legalPersonTerminated, revokedWithdrawnOrSuspended, forceMajeure, other, holderRequest

    public var chineseText: String {
        switch self {
        case .expiredNotRenewed: "行政许可有效期届满未延续"
        case .holderDiedOrIncapable: "赋予公民特定资格的行政许可，该公民死亡或者丧失行为能力"
        case .legalPersonTerminated: "法人或者其他组织依法终止"
        case .revokedWithdrawnOrSuspended: "行政许可依法被撤销、撤回，或者行政许可证件依法被吊销"
        case .forceMajeure: "因不可抗力导致行政许可事项无法实施"
        case .other: "法律、法规规定的应当注销行政许可的其他情形"
        case .holderRequest: "被许可人申请注销"
        }
    }
}

public struct CancellationRecord: Sendable, Hashable, Codable {
    public var ground: CancellationGround
    public var facts: String
    public var effectiveOn: CivilDate
    public var decidedBy: CaseActor
    public var findingID: String
}

/// An accepted material as intake recorded it (a reference, never the content).
public struct CaseMaterial: Sendable, Hashable, Codable {
    public var requirementCode: String
    public var name: String
    public var form: String
    public var fileID: String
    public var sha256: String
    /// Electronic licence offered instead of an upload: its identifier, and whether intake verified it.
    public var licenceIdentifier: String
    public var licenceNumber: String
    public var licenceVerified: Bool

    public init(requirementCode: String, name: String, form: String, fileID: String = "", sha256: String = "",
                licenceIdentifier: String = "", licenceNumber: String = "", licenceVerified: Bool = false) {
        self.requirementCode = requirementCode
        self.name = name
        self.form = form
        self.fileID = fileID
        self.sha256 = sha256
        self.licenceIdentifier = licenceIdentifier
        self.licenceNumber = licenceNumber
        self.licenceVerified = licenceVerified
    }

    public var isElectronicLicence: Bool { !licenceIdentifier.isEmpty }
}

public struct InstantAttempt: Sendable, Hashable, Codable {
    public var ruleSet: String
    public var at: Date
    public var passed: Bool
    public var trace: [RuleEvaluation]
    public var requestedBy: String
}

public struct FindingRecord: Sendable, Hashable, Codable {
    public var id: String
    public var kind: FindingKind
    public var departmentCode: String
    public var departmentName: String
    public var facts: String
    public var occurredOn: CivilDate?
    public var receivedAt: Date
    public var effect: String

    public init(id: String, kind: FindingKind, departmentCode: String, departmentName: String, facts: String, occurredOn: CivilDate?, receivedAt: Date, effect: String) {
        self.id = id
        self.kind = kind
        self.departmentCode = departmentCode
        self.departmentName = departmentName
        self.facts = facts
        self.occurredOn = occurredOn
        self.receivedAt = receivedAt
        self.effect = effect
    }
}

public struct RevocationReview: Sendable, Hashable, Codable {
    public enum State: String, Sendable, Hashable, Codable { case open, revoked, dismissed }
    public var findingID: String
    public var openedOn: CivilDate
    public var state: State
    public var closingReason: String
    public var closedBy: CaseActor?
}

public struct LicenceInfo: Sendable, Hashable, Codable {
    public var identifier: String
    public var number: String
    public var typeCode: String
    public var name: String

    public init(identifier: String, number: String, typeCode: String, name: String) {
        self.identifier = identifier
        self.number = number
        self.typeCode = typeCode
        self.name = name
    }
}

public struct NodeInfo: Sendable, Hashable, Codable {
    public var code: String
    public var name: String
    public init(code: String, name: String = "") {
        self.code = code
        self.name = name
    }
}

