import ApprovalContracts
import ApprovalRules
import Foundation
import OneSealCore
import OneSealProto
import OneSealServiceKit
import SwiftProtobuf

// Conversions between ApprovalRules' values and the approval.v1 messages.

extension Common_ActorRef {
    init(_ actor: CaseActor) {
        self.init()
        subject = actor.subject
        role = actor.role
        name = actor.name
        node = actor.node
        if !actor.department.isEmpty { department = Common_DepartmentRef.with { $0.code = actor.department; $0.node = actor.node } }
    }

    var actor: CaseActor { CaseActor(subject: subject, role: role, name: name, department: department.code, node: node) }
}

extension Common_IssuedDocument {
    init(_ document: Document) {
        self.init()
        documentID = document.id
        number = document.number
        title = document.title
        issuedOn = Common_CivilDate(document.issuedOn)
        issuingAgency = document.agency
        content = Data(document.text.utf8)
        contentType = "text/plain; charset=utf-8"
    }
}

extension ItemSnapshot {
    /// From the item intake pinned at acceptance.
    init(accepted item: Intake_AcceptedItem) {
        self.init(
            implementationCode: item.implementationCode, version: Int(item.itemVersion), name: item.itemName,
            tier: ApprovalTier(proto: item.tier) ?? .section, statutoryDays: Int(item.statutoryDays), promisedDays: Int(item.promisedDays),
            departmentCode: item.competentDepartment.code, departmentName: item.competentDepartment.name, departmentNode: item.competentDepartment.node,
            instantApprovalAllowed: item.instantApprovalAllowed, instantRuleSet: item.instantRuleSet, licenceTypeCode: item.licenceTypeCode,
            licenceName: item.licenceName, licenceValidityMonths: Int(item.licenceValidityMonths), jointHandling: item.jointHandling)
    }

    init(proto item: Approval_ItemSnapshot) {
        self.init(
            implementationCode: item.implementationCode, version: Int(item.version), name: item.name,
            tier: ApprovalTier(proto: item.tier) ?? .section, statutoryDays: Int(item.statutoryDays), promisedDays: Int(item.promisedDays),
            departmentCode: item.competentDepartment.code, departmentName: item.competentDepartment.name, departmentNode: item.competentDepartment.node,
            instantApprovalAllowed: item.instantApprovalAllowed, instantRuleSet: item.instantRuleSet, licenceTypeCode: item.licenceTypeCode,
            licenceName: item.licenceName, licenceValidityMonths: Int(item.licenceValidityMonths), jointHandling: item.jointHandling)
    }

    var proto: Approval_ItemSnapshot {
        Approval_ItemSnapshot.with {
            $0.implementationCode = implementationCode
            $0.version = Int32(version)
            $0.name = name
            $0.tier = tier.proto
            $0.statutoryDays = Int32(statutoryDays)
            $0.promisedDays = Int32(promisedDays)
            $0.competentDepartment = Common_DepartmentRef.with { $0.code = departmentCode; $0.name = departmentName; $0.node = departmentNode }
            $0.instantApprovalAllowed = instantApprovalAllowed
            $0.instantRuleSet = instantRuleSet
            $0.licenceTypeCode = licenceTypeCode
            $0.licenceName = licenceName
            $0.licenceValidityMonths = Int32(licenceValidityMonths)
            $0.jointHandling = jointHandling
        }
    }
}

extension CaseMaterial {
    init(intake material: Intake_ProvidedMaterial) {
        var licenceIdentifier = ""
        var licenceNumber = ""
        var fileID = ""
        switch material.source {
        case .electronicLicence(let licence)?:
            licenceIdentifier = licence.licenceIdentifier.isEmpty ? licence.licenceNumber : licence.licenceIdentifier
            licenceNumber = licence.licenceNumber
        case .fileID(let id)?: fileID = id
        case nil: break
        }
        self.init(
            requirementCode: material.requirementCode, name: material.name, form: "\(material.form)", fileID: fileID, sha256: material.sha256,
            licenceIdentifier: licenceIdentifier, licenceNumber: licenceNumber, licenceVerified: material.licenceVerified)
    }

    var proto: Approval_CaseMaterial {
        Approval_CaseMaterial.with {
            $0.requirementCode = requirementCode
            $0.name = name
            $0.form = form
            $0.fileID = fileID
            $0.sha256 = sha256
            if isElectronicLicence { $0.electronicLicence = Common_LicenceRef.with { $0.licenceIdentifier = licenceIdentifier; $0.licenceNumber = licenceNumber } }
            $0.licenceVerified = licenceVerified
        }
    }
}

extension RuleEvaluation {
    var proto: Approval_RuleEvaluation {
        Approval_RuleEvaluation.with { $0.ruleID = ruleID; $0.description_p = description; $0.passed = passed; $0.detail = detail }
    }
}

extension GrantTerms {
    init(proto grant: Approval_Grant) {
        self.init(
            scope: grant.scope, conditions: grant.conditions, validFrom: grant.hasValidFrom ? grant.validFrom.civilDate : nil,
            validUntil: grant.hasValidUntil ? grant.validUntil.civilDate : nil, place: grant.place, licenceFields: grant.licenceFields)
    }

    var proto: Approval_Grant {
        Approval_Grant.with {
            $0.scope = scope
            $0.conditions = conditions
            if let validFrom { $0.validFrom = Common_CivilDate(validFrom) }
            if let validUntil { $0.validUntil = Common_CivilDate(validUntil) }
            $0.place = place
            $0.licenceFields = licenceFields
        }
    }
}

extension DenialTerms {
    init(proto denial: Approval_Denial) {
        self.init(reasons: denial.reasons, legalBasis: denial.legalBasis, appealRights: denial.appealRights,
                  reconsiderationAgency: denial.reconsiderationAgency, court: denial.court)
    }

    var proto: Approval_Denial {
        Approval_Denial.with {
            $0.reasons = reasons
            $0.legalBasis = legalBasis
            $0.appealRights = appealRights
            $0.reconsiderationAgency = reconsiderationAgency
            $0.court = court
        }
    }
}

extension Step {
    var proto: Approval_Step {
        Approval_Step.with {
            $0.stepID = id
            $0.index = Int32(index)
            $0.role = role.proto
            if let assignee { $0.assignee = Common_ActorRef.with { $0.subject = assignee } }
            $0.status = status.proto
            if let conclusion { $0.conclusion = conclusion.proto }
            $0.opinion = opinion
            if let activatedAt { $0.activatedAt = Google_Protobuf_Timestamp(date: activatedAt) }
            if let completedAt { $0.completedAt = Google_Protobuf_Timestamp(date: completedAt) }
            if let completedBy { $0.completedBy = Common_ActorRef(completedBy) }
            if let delegatedBy { $0.delegatedBy = Common_ActorRef(delegatedBy) }
            $0.delegationReason = delegationReason
            $0.round = Int32(round)
        }
    }
}

extension JointReviewRecord {
    var proto: Approval_JointReview {
        Approval_JointReview.with {
            $0.jointReviewID = id
            $0.kind = kind.proto
            $0.heldAt = Google_Protobuf_Timestamp(date: heldAt)
            $0.location = location
            $0.convenedBy = Common_ActorRef(convenedBy)
            $0.opinions = opinions.map { opinion in
                Approval_ParticipantOpinion.with {
                    $0.participant = Common_ActorRef(opinion.participant)
                    $0.title = opinion.title
                    $0.opinion = opinion.opinion
                    $0.vote = opinion.vote.proto
                }
            }
            $0.conclusion = conclusion
            $0.outcome = outcome.proto
            $0.minutesFileID = minutesFileID
        }
    }
}

extension SuspensionRecord {
    var proto: Approval_Suspension {
        Approval_Suspension.with {
            $0.suspensionID = id
            $0.reason = reason.proto
            $0.expectedDays = Int32(expectedDays)
            $0.noticeText = noticeText
            $0.suspendedOn = Common_CivilDate(suspendedOn)
            if let resumedOn { $0.resumedOn = Common_CivilDate(resumedOn) }
            $0.result = result
            $0.suspendedBy = Common_ActorRef(suspendedBy)
            if let resumedBy { $0.resumedBy = Common_ActorRef(resumedBy) }
            if let notice { $0.notice = Common_IssuedDocument(notice) }
        }
    }
}

extension DecisionRecord {
    var proto: Approval_Decision {
        Approval_Decision.with {
            switch outcome {
            case .grant(let grant): $0.grant = grant.proto
            case .deny(let denial): $0.denial = denial.proto
            }
            $0.decidedOn = Common_CivilDate(decidedOn)
            $0.decidedAt = Google_Protobuf_Timestamp(date: decidedAt)
            $0.decidedBy = Common_ActorRef(decidedBy)
            if let document { $0.document = Common_IssuedDocument(document) }
            $0.instant = instant
            $0.ruleTrace = ruleTrace.map(\.proto)
            $0.onTime = onTime
            $0.workingDaysTaken = Int32(workingDaysTaken)
            $0.deemedRenewal = deemedRenewal ?? false
        }
    }
}

extension RevocationRecord {
    var proto: Approval_Revocation {
        Approval_Revocation.with {
            $0.ground = ground.proto
            $0.facts = facts
            $0.publicInterestAssessment = publicInterestAssessment
            $0.publicInterestSeriouslyHarmed = publicInterestSeriouslyHarmed
            $0.effectiveOn = Common_CivilDate(effectiveOn)
            $0.decidedBy = Common_ActorRef(decidedBy)
            if let document { $0.document = Common_IssuedDocument(document) }
            $0.findingID = findingID
        }
    }
}

extension CancellationRecord {
    var proto: Approval_Cancellation {
        Approval_Cancellation.with {
            $0.ground = ground.proto
            $0.facts = facts
            $0.effectiveOn = Common_CivilDate(effectiveOn)
            $0.decidedBy = Common_ActorRef(decidedBy)
            $0.findingID = findingID
        }
    }
}

extension WithdrawalRecord {
    var proto: Approval_Withdrawal {
        Approval_Withdrawal.with {
            $0.reason = reason
            $0.withdrawnOn = Common_CivilDate(withdrawnOn)
            $0.requestFileID = requestFileID
            $0.recordedBy = Common_ActorRef(recordedBy)
        }
    }
}

extension LicenceInfo {
    var proto: Common_LicenceRef {
        Common_LicenceRef.with { $0.licenceIdentifier = identifier; $0.licenceNumber = number; $0.licenceTypeCode = typeCode; $0.licenceName = name }
    }
}

extension ApprovalAPI {
    /// The wire form of a deadline status.
    func deadline(_ state: CaseState, _ status: DeadlineStatus) -> Common_Deadline {
        Common_Deadline(startedOn: state.acceptedOn, status: status, extensionDays: state.extensionRecord?.days ?? 0, finishedOn: state.finishedOn)
    }

    /// Fields every event carries.
    func header(_ stored: StoredCase) -> Approval_CaseHeader { header(id: stored.id, stored.state) }

    func header(id: UUID, _ state: CaseState) -> Approval_CaseHeader {
        Approval_CaseHeader.with {
            $0.caseID = id.uuidString.lowercased()
            $0.caseNumber = state.caseNumber
            $0.applicationID = state.applicationID
            $0.applicationNumber = state.applicationNumber
            $0.implementationCode = state.item.implementationCode
            $0.itemName = state.item.name
            $0.acceptingNode = Common_NodeRef.with { $0.divisionCode = state.acceptingNode.code; $0.name = state.acceptingNode.name }
            $0.decidingNode = Common_NodeRef.with { $0.divisionCode = state.decidingNode.code; $0.name = state.decidingNode.name }
            $0.department = Common_DepartmentRef.with { $0.code = state.item.departmentCode; $0.name = state.item.departmentName; $0.node = state.item.departmentNode }
            if let officer = state.steps.first(where: { $0.role == .officer && $0.status != .returned })?.assignee
                ?? state.steps.first(where: { $0.role == .officer })?.assignee {
                $0.officer = Common_ActorRef.with { $0.subject = officer; $0.role = "officer"; $0.node = state.decidingNode.code }
            }
        }
    }

    /// The case without the applicant (the caller's view adds it, full or masked).
    func caseProto(_ stored: StoredCase) throws -> Approval_Case {
        let state = stored.state
        var out = Approval_Case()
        out.caseID = stored.id.uuidString.lowercased()
        out.caseNumber = state.caseNumber
        out.applicationID = state.applicationID
        out.applicationNumber = state.applicationNumber
        out.bundleID = state.bundleID
        out.acceptingNode = Common_NodeRef.with { $0.divisionCode = state.acceptingNode.code; $0.name = state.acceptingNode.name }
        out.decidingNode = Common_NodeRef.with { $0.divisionCode = state.decidingNode.code; $0.name = state.decidingNode.name }
        out.item = state.item.proto
        out.acceptanceKind = state.acceptanceKind.proto
        out.acceptedOn = Common_CivilDate(state.acceptedOn)
        out.status = state.status.proto
        out.steps = state.steps.map(\.proto)
        out.currentStepIndex = Int32(state.activeStep?.index ?? -1)
        out.deadline = deadline(state, try state.deadlineStatus(asOf: today, calendar: calendar, warning: settings.warning))
        out.statutoryDeadline = deadline(state, try state.statutoryStatus(asOf: today, calendar: calendar, warning: settings.warning))
        out.suspensions = state.suspensions.map(\.proto)
        if let record = state.extensionRecord {
            out.extension = Approval_Extension.with {
                $0.extensionDays = Int32(record.days)
                $0.reason = record.reason
                $0.approvedBy = Common_ActorRef(record.approvedBy)
                $0.approvedOn = Common_CivilDate(record.approvedOn)
                if let notice = record.notice { $0.notice = Common_IssuedDocument(notice) }
            }
        }
        out.jointReviews = state.jointReviews.map(\.proto)
        if let decision = state.decision { out.decision = decision.proto }
        if let withdrawal = state.withdrawal { out.withdrawal = withdrawal.proto }
        if let revocation = state.revocation { out.revocation = revocation.proto }
        if let cancellation = state.cancellation { out.cancellation = cancellation.proto }
        out.firstReviewOpinion = state.firstReviewOpinion
        out.returns = Int32(state.returns)
        if let licence = state.licence { out.licence = licence.proto }
        out.createdAt = Google_Protobuf_Timestamp(date: stored.createdAt)
        out.updatedAt = Google_Protobuf_Timestamp(date: stored.updatedAt)
        out.revision = stored.revision
        out.materials = state.materials.map(\.proto)
        out.instantAttempts = state.instantAttempts.map { attempt in
            Approval_InstantAttempt.with {
                $0.ruleSet = attempt.ruleSet
                $0.at = Google_Protobuf_Timestamp(date: attempt.at)
                $0.passed = attempt.passed
                $0.trace = attempt.trace.map(\.proto)
                $0.requestedBy = attempt.requestedBy
            }
        }
        out.findings = state.findings.map { finding in
            Approval_FindingRecord.with {
                $0.findingID = finding.id
                $0.kind = Self.findingKindName(finding.kind)
                $0.department = Common_DepartmentRef.with { $0.code = finding.departmentCode; $0.name = finding.departmentName }
                $0.facts = finding.facts
                if let on = finding.occurredOn { $0.occurredOn = Common_CivilDate(on) }
                $0.receivedAt = Google_Protobuf_Timestamp(date: finding.receivedAt)
                $0.effect = finding.effect
            }
        }
        if let review = state.revocationReview {
            out.revocationReview = Approval_RevocationReview.with {
                $0.findingID = review.findingID
                $0.openedOn = Common_CivilDate(review.openedOn)
                $0.state = review.state.rawValue
                $0.closingReason = review.closingReason
                if let closedBy = review.closedBy { $0.closedBy = Common_ActorRef(closedBy) }
            }
        }
        if let role = state.nextRole { out.nextRole = role.proto }
        out.awaitingDecision = state.awaitingDecision
        if let renewal = state.renewal { out.renewal = Common_Renewal(renewal) }
        if let change = state.change { out.change = Common_LicenceChange(change) }
        if let hearing = state.hearing { out.hearing = hearing.proto }
        return out
    }

    /// "LICENCE_WITHDRAWN" for `.licenceWithdrawn`: the supervision proto's name, as integrators read it.
    static func findingKindName(_ kind: FindingKind) -> String {
        var out = ""
        for character in kind.rawValue {
            if character.isUppercase { out += "_" }
            out += character.uppercased()
        }
        return out
    }
}

extension HearingRecord {
    var proto: Approval_Hearing {
        Approval_Hearing.with {
            $0.rightNotifiedOn = Common_CivilDate(rightNotifiedOn)
            $0.lastDayToRequest = Common_CivilDate(lastDayToRequest)
            $0.reason = reason
            if let rightNotice { $0.rightNotice = Common_IssuedDocument(rightNotice) }
            if let requestedOn { $0.requestedOn = Common_CivilDate(requestedOn) }
            $0.requestedBy = requestedBy ?? ""
            if let holdBy { $0.holdBy = Common_CivilDate(holdBy) }
            if let hearingOn { $0.hearingOn = Common_CivilDate(hearingOn) }
            $0.place = place ?? ""
            $0.publicity = publicity?.proto ?? .unspecified
            $0.presidingOfficer = presidingOfficer ?? ""
            if let hearingNotice { $0.hearingNotice = Common_IssuedDocument(hearingNotice) }
            $0.record = record ?? ""
            if let recordClosedOn { $0.recordClosedOn = Common_CivilDate(recordClosedOn) }
            $0.suspensionID = suspensionID ?? ""
        }
    }
}
