import EvaluationRules
import Foundation
import OneSealCore
import OneSealProto
import SwiftProtobuf

/// Turns a delivered event into what evaluation keeps (E2, E8): the payload with personal data
/// removed, and the fact the fold reads. The same function reads a stored payload on a rebuild,
/// so a rebuild folds exactly what the live consumer folded.
enum EventFiling {
    /// An applicant ID number replaced by its blind index is written `bi:<hex>`.
    static let indexMarker = "bi:"

    struct Filed: Sendable {
        var payload: [UInt8]
        var fact: FactEvent
        /// false: evaluation does not know the type (or could not parse it); kept without effect.
        var filed: Bool
        var note: String
    }

    /// - Parameters:
    ///   - occurredOn: the day the event is dated when its payload carries no date of its own
    ///     (the day it was first received, stored with it).
    ///   - index: the applicant blind index function (hex).
    static func file(type: String, payload: [UInt8], sourceNode: String, occurredOn: CivilDate, index: (String) -> String) -> Filed {
        do {
            return try fileOrThrow(type: type, payload: payload, sourceNode: sourceNode, occurredOn: occurredOn, index: index)
        } catch {
            return Filed(payload: payload, fact: .other, filed: false, note: "unreadable \(type) payload: \(error)")
        }
    }

    static func date(_ date: Common_CivilDate, _ fallback: CivilDate) -> CivilDate { date.civilDate ?? fallback }
    static func date(_ timestamp: Google_Protobuf_Timestamp, set: Bool, _ fallback: CivilDate) -> CivilDate { set ? CivilDate(timestamp) : fallback }

    static func department(_ ref: Common_DepartmentRef) -> Department? { ref.code.isEmpty ? nil : Department(code: ref.code, name: ref.name) }
    static func actor(_ ref: Common_ActorRef) -> StaffRef? { ref.subject.isEmpty ? nil : StaffRef(subject: ref.subject, name: ref.name) }

    static func header(_ h: Approval_CaseHeader, sourceNode: String) -> FactEvent.Header {
        var out = FactEvent.Header(caseID: h.caseID)
        out.caseNumber = h.caseNumber
        out.applicationID = h.applicationID
        out.applicationNumber = h.applicationNumber
        out.implementationCode = h.implementationCode
        out.itemName = h.itemName
        out.acceptingNode = h.acceptingNode.divisionCode
        out.acceptingNodeName = h.acceptingNode.name
        out.decidingNode = h.decidingNode.divisionCode.isEmpty ? sourceNode : h.decidingNode.divisionCode
        out.decidingNodeName = h.decidingNode.name
        out.department = department(h.department)
        out.officer = actor(h.officer)
        return out
    }

    static func clock(_ d: Common_Deadline) -> FactEvent.Clock? {
        guard d.hasDueOn else { return nil }
        return FactEvent.Clock(startedOn: d.startedOn.civilDate, dueOn: d.dueOn.civilDate, workingDaysTotal: Int(d.workingDaysTotal),
                               suspended: d.suspended, extensionDays: Int(d.extensionWorkingDays))
    }

    /// The applicant with everything but its kind removed and the ID number replaced by its index.
    static func stripped(_ applicant: Common_Applicant, index: (String) -> String) -> Common_Applicant {
        var out = Common_Applicant()
        out.kind = applicant.kind
        out.idType = applicant.idType
        let hex = index(applicant.idNumber)
        if !hex.isEmpty { out.idNumber = indexMarker + hex }
        return out
    }

    static func enumName(_ value: some Any) -> String {
        let text = "\(value)"
        return text.hasPrefix(".") ? String(text.dropFirst()) : text
    }

    static func fileOrThrow(type: String, payload: [UInt8], sourceNode: String, occurredOn on: CivilDate, index: (String) -> String) throws -> Filed {
        func keep<M: SwiftProtobuf.Message>(_ message: M, _ fact: FactEvent) throws -> Filed {
            Filed(payload: try message.serializedBytes(), fact: fact, filed: true, note: "")
        }
        switch type {
        // MARK: intake
        case Intake_ApplicationSubmitted.protoMessageName:
            let m = try Intake_ApplicationSubmitted(serializedBytes: payload)
            return try keep(m, .applicationSubmitted(
                applicationID: m.applicationID, number: m.applicationNumber, node: m.acceptingNode.isEmpty ? sourceNode : m.acceptingNode,
                items: m.implementationCodes, channel: enumName(m.channel), windowID: m.windowID, on: date(m.submittedAt, set: m.hasSubmittedAt, on)))
        case Intake_ApplicationAccepted.protoMessageName:
            var m = try Intake_ApplicationAccepted(serializedBytes: payload)
            m.applicant = stripped(m.applicant, index: index)
            return try keep(m, accepted(m, sourceNode: sourceNode, on: on))
        case Intake_CorrectionNoticeIssued.protoMessageName:
            let m = try Intake_CorrectionNoticeIssued(serializedBytes: payload)
            return try keep(m, .correctionIssued(applicationID: m.applicationID, number: m.applicationNumber, on: date(m.notice.issuedOn, on)))
        case Intake_ApplicationNotAccepted.protoMessageName:
            let m = try Intake_ApplicationNotAccepted(serializedBytes: payload)
            return try keep(m, .notAccepted(applicationID: m.applicationID, number: m.applicationNumber, on: date(m.notice.issuedOn, on)))
        case Intake_ApplicationWithdrawn.protoMessageName:
            let m = try Intake_ApplicationWithdrawn(serializedBytes: payload)
            return try keep(m, .applicationWithdrawn(applicationID: m.applicationID, on: date(m.withdrawnAt, set: m.hasWithdrawnAt, on)))
        case Intake_ApplicationForwarded.protoMessageName:
            var m = try Intake_ApplicationForwarded(serializedBytes: payload)
            m.accepted.applicant = stripped(m.accepted.applicant, index: index)
            return try keep(m, .applicationForwarded(applicationID: m.accepted.applicationID, on: date(m.forwarding.forwardedAt, set: m.forwarding.hasForwardedAt, on)))
        case Intake_ResultDelivered.protoMessageName:
            var m = try Intake_ResultDelivered(serializedBytes: payload)
            m.delivery.clearRecipient()
            return try keep(m, .resultDelivered(
                applicationID: m.applicationID, number: m.applicationNumber, visits: Int(m.visits), windowID: m.windowID, caseIDs: m.caseIds,
                on: date(m.delivery.deliveredAt, set: m.delivery.hasDeliveredAt, on)))
        case Intake_ConsultationRecorded.protoMessageName:
            let m = try Intake_ConsultationRecorded(serializedBytes: payload)
            return try keep(m, .consultation(ConsultationFact(id: m.consultationID, node: sourceNode, implementationCode: m.implementationCode, windowID: m.windowID, on: date(m.at, set: m.hasAt, on))))

        // MARK: approval
        case Approval_CaseOpened.protoMessageName:
            let m = try Approval_CaseOpened(serializedBytes: payload)
            // Opened when its clock started (acceptance here, or arrival at the city for a forwarded
            // case); the day of receipt only when approval sent no clock.
            let opened = (m.deadline.hasStartedOn ? m.deadline.startedOn.civilDate : nil) ?? m.acceptedOn.civilDate ?? on
            return try keep(m, .caseOpened(header(m.header, sourceNode: sourceNode), acceptedOn: m.acceptedOn.civilDate, openedOn: opened, clock: clock(m.deadline)))
        case Approval_StepCompleted.protoMessageName:
            let m = try Approval_StepCompleted(serializedBytes: payload)
            return try keep(m, .stepCompleted(header(m.header, sourceNode: sourceNode)))
        case Approval_CaseReturned.protoMessageName:
            let m = try Approval_CaseReturned(serializedBytes: payload)
            return try keep(m, .caseReturned(header(m.header, sourceNode: sourceNode), on: on))
        case Approval_ClockSuspended.protoMessageName:
            let m = try Approval_ClockSuspended(serializedBytes: payload)
            return try keep(m, .clockChanged(header(m.header, sourceNode: sourceNode), clock: nil, suspended: true))
        case Approval_ClockResumed.protoMessageName:
            let m = try Approval_ClockResumed(serializedBytes: payload)
            return try keep(m, .clockChanged(header(m.header, sourceNode: sourceNode), clock: clock(m.deadline), suspended: false))
        case Approval_DeadlineExtended.protoMessageName:
            let m = try Approval_DeadlineExtended(serializedBytes: payload)
            return try keep(m, .clockChanged(header(m.header, sourceNode: sourceNode), clock: clock(m.deadline), suspended: m.deadline.suspended))
        case Approval_CaseWarningChanged.protoMessageName:
            let m = try Approval_CaseWarningChanged(serializedBytes: payload)
            return try keep(m, .clockChanged(header(m.header, sourceNode: sourceNode), clock: clock(m.deadline), suspended: m.deadline.suspended))
        case Approval_CaseDecided.protoMessageName:
            var m = try Approval_CaseDecided(serializedBytes: payload)
            m.applicant = stripped(m.applicant, index: index)
            var granted = false
            if case .grant? = m.decision.outcome { granted = true }
            return try keep(m, .caseDecided(
                header(m.header, sourceNode: sourceNode), granted: granted, decidedOn: date(m.decision.decidedOn, on), onTime: m.decision.onTime,
                workingDaysTaken: Int(m.decision.workingDaysTaken), returns: Int(m.returns), acceptedOn: m.acceptedOn.civilDate,
                applicantIndex: m.applicant.idNumber.hasPrefix(indexMarker) ? String(m.applicant.idNumber.dropFirst(indexMarker.count)) : ""))
        case Approval_CaseWithdrawn.protoMessageName:
            let m = try Approval_CaseWithdrawn(serializedBytes: payload)
            return try keep(m, .caseWithdrawn(header(m.header, sourceNode: sourceNode), on: date(m.withdrawal.withdrawnOn, on)))
        case Approval_GrantRevoked.protoMessageName:
            let m = try Approval_GrantRevoked(serializedBytes: payload)
            return try keep(m, .grantRevoked(header(m.header, sourceNode: sourceNode), on: on))
        case Approval_GrantCancelled.protoMessageName:
            let m = try Approval_GrantCancelled(serializedBytes: payload)
            return try keep(m, .grantCancelled(header(m.header, sourceNode: sourceNode), on: on))

        // MARK: certificate
        case Certificate_LicenceIssued.protoMessageName:
            let full = try Certificate_LicenceIssued(serializedBytes: payload)
            // Only what the figures need: the holder and the rest of the licence stay with certificate.
            var m = Certificate_LicenceIssued()
            m.acceptingNode = full.acceptingNode
            m.applicationID = full.applicationID
            m.workingDaysAfterDecision = full.workingDaysAfterDecision
            m.licence.licenceID = full.licence.licenceID
            m.licence.content.caseID = full.licence.content.caseID
            m.licence.content.caseNumber = full.licence.content.caseNumber
            m.licence.content.implementationCode = full.licence.content.implementationCode
            m.licence.content.licenceNumber = full.licence.content.licenceNumber
            m.licence.content.issueDate = full.licence.content.issueDate
            if full.licence.hasIssuedAt { m.licence.issuedAt = full.licence.issuedAt }
            let issued = full.licence.content.issueDate.civilDate ?? (full.licence.hasIssuedAt ? CivilDate(full.licence.issuedAt) : on)
            return try keep(m, .licenceIssued(caseID: full.licence.content.caseID, applicationID: full.applicationID, implementationCode: full.licence.content.implementationCode,
                                               on: issued, workingDaysAfterDecision: Int(full.workingDaysAfterDecision)))
        case Certificate_LicenceStatusChanged.protoMessageName:
            var m = try Certificate_LicenceStatusChanged(serializedBytes: payload)
            m.holderName = ""
            return try keep(m, .other)

        // MARK: supervision
        case Supervision_PushCreated.protoMessageName:
            var m = try Supervision_PushCreated(serializedBytes: payload)
            m.push.clearHolder()
            return try keep(m, push(m.push, .created, sourceNode: sourceNode, on: date(m.push.pushedAt, set: m.push.hasPushedAt, on)))
        case Supervision_PushClaimed.protoMessageName:
            var m = try Supervision_PushClaimed(serializedBytes: payload)
            m.push.clearHolder()
            return try keep(m, push(m.push, .claimed, sourceNode: sourceNode, on: date(m.push.claimedAt, set: m.push.hasClaimedAt, on)))
        case Supervision_PushRejected.protoMessageName:
            var m = try Supervision_PushRejected(serializedBytes: payload)
            m.push.clearHolder()
            return try keep(m, push(m.push, .rejected, sourceNode: sourceNode, on: on))
        case Supervision_PushClaimOverdue.protoMessageName:
            var m = try Supervision_PushClaimOverdue(serializedBytes: payload)
            m.push.clearHolder()
            return try keep(m, push(m.push, .claimOverdue, sourceNode: sourceNode, on: on))
        case Supervision_FindingSubmitted.protoMessageName:
            let full = try Supervision_FindingSubmitted(serializedBytes: payload)
            var m = Supervision_FindingSubmitted()
            m.finding.findingID = full.finding.findingID
            m.finding.kind = full.finding.kind
            m.finding.pushID = full.finding.pushID
            m.finding.caseID = full.finding.caseID
            m.finding.department = full.finding.department
            m.finding.occurredOn = full.finding.occurredOn
            return try keep(m, .finding(pushID: full.finding.pushID))

        // MARK: evaluation (a county's, passed up): known, stored, not folded (E13)
        case Evaluation_RatingSubmitted.protoMessageName, Evaluation_RectificationOpened.protoMessageName,
             Evaluation_RectificationClosed.protoMessageName, Evaluation_AppealDecided.protoMessageName,
             Evaluation_WindowFlagged.protoMessageName:
            return Filed(payload: payload, fact: .other, filed: true, note: "a lower node's evaluation event; its figures are read from that node")

        default:
            return Filed(payload: payload, fact: .other, filed: false, note: "evaluation does not fold \(type); kept")
        }
    }

    static func accepted(_ m: Intake_ApplicationAccepted, sourceNode: String, on: CivilDate) -> FactEvent {
        .applicationAccepted(
            applicationID: m.applicationID, number: m.applicationNumber,
            node: m.acceptingNode.divisionCode.isEmpty ? sourceNode : m.acceptingNode.divisionCode, nodeName: m.acceptingNode.name,
            kind: enumName(m.acceptanceKind), on: date(m.acceptedOn, on),
            items: m.items.map { FactEvent.AcceptedItem(code: $0.implementationCode, name: $0.itemName, department: department($0.competentDepartment)) },
            windowID: m.windowID, acceptedBy: actor(m.acceptedBy),
            applicantIndex: m.applicant.idNumber.hasPrefix(indexMarker) ? String(m.applicant.idNumber.dropFirst(indexMarker.count)) : "")
    }

    static func push(_ p: Supervision_Push, _ change: FactEvent.PushChange, sourceNode: String, on: CivilDate) -> FactEvent {
        .push(id: p.pushID, node: p.sourceNode.isEmpty ? sourceNode : p.sourceNode, department: department(p.department), implementationCode: p.implementationCode,
              caseID: p.caseID, on: on, claimDueOn: p.claimDeadline.hasDueOn ? p.claimDeadline.dueOn.civilDate : nil, change: change)
    }
}
