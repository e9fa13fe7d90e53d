import Foundation
import IntakeContracts
import IntakeRules
import OneSealCore
import OneSealPrivacy
import OneSealProto
import OneSealServiceKit
import SwiftProtobuf

// Applications between the wire (`intake.v1`) and the rules (`IntakeRules`).

extension Applicant {
    init(proto applicant: Common_Applicant) {
        self.init(
            kind: ApplicantKind(proto: applicant.kind), name: applicant.name, idType: IdType(proto: applicant.idType),
            idNumber: applicant.idNumber.trimmingCharacters(in: .whitespaces), phone: applicant.phone, address: applicant.address,
            legalRepresentative: applicant.legalRepresentative, contactName: applicant.contactName,
            contactPhone: applicant.contactPhone, email: applicant.email
        )
    }
}

extension Common_Applicant {
    /// The name as the public progress look-up prints it ("张*", "临沂**有限公司"): anyone holding a
    /// slip sees it, so even a company's registered name is shortened (beyond `Disclosure.masked`).
    var maskedName: String {
        kind == .legalPerson ? Masking.organisationName(name) : Masking.personName(name)
    }
}

extension ProvidedMaterial {
    init(proto material: Intake_ProvidedMaterial) {
        var licence: LicenceRef?
        var fileID: String?
        switch material.source {
        case .electronicLicence(let ref)?:
            licence = LicenceRef(proto: ref)
        case .fileID(let id)?:
            fileID = id
        case nil:
            break
        }
        self.init(
            requirementCode: material.requirementCode, implementationCodes: material.implementationCodes, name: material.name,
            form: MaterialForm(proto: material.form), copies: Int(material.copies), fileID: fileID, electronicLicence: licence,
            // Verification is intake's own finding, never the caller's claim.
            licenceVerified: false, licenceVerificationDetail: ""
        )
    }

    var proto: Intake_ProvidedMaterial {
        var out = Intake_ProvidedMaterial()
        out.requirementCode = requirementCode
        out.implementationCodes = implementationCodes
        out.name = name
        out.form = form?.proto ?? .unspecified
        out.copies = Int32(copies)
        if let licence = electronicLicence {
            out.electronicLicence = licence.proto
        } else if let fileID {
            out.fileID = fileID
            // A material store file is named by its hash (SubmitApplication refuses any other).
            if MaterialUpload.isSHA256(fileID) { out.sha256 = fileID }
        }
        out.licenceVerified = licenceVerified
        out.licenceVerificationDetail = licenceVerificationDetail
        return out
    }
}

extension MaterialProblem {
    init(proto problem: Intake_MaterialProblem) {
        self.init(
            implementationCode: problem.implementationCode, requirementCode: problem.requirementCode,
            materialName: problem.materialName, kind: MaterialProblemKind(proto: problem.kind) ?? .other, howToFix: problem.howToFix)
    }

    var proto: Intake_MaterialProblem {
        Intake_MaterialProblem.with {
            $0.implementationCode = implementationCode
            $0.requirementCode = requirementCode
            $0.materialName = materialName
            $0.kind = kind.proto
            $0.howToFix = howToFix
        }
    }
}


// MARK: - The application's wire record, rendered from its one state

extension StoredApplication {
    /// `intake.v1.Application` (without applicant and agent, which are sealed apart) as the rules'
    /// state and the row say it. Nothing of it is stored: it is drawn afresh on every read.
    func record(calendar: WorkingDayCalendar) -> Intake_Application {
        var record = Intake_Application()
        record.applicationID = id.uuidString.lowercased()
        record.applicationNumber = number
        record.queryCode = queryCode
        if let node = state.acceptingNode { record.acceptingNode = node.proto }
        record.items = zip(state.items, state.itemTracks).map { pinned, track in
            var item = track.proto
            item.itemVersion = Int32(pinned.version.version)
            item.itemName = pinned.item.name
            return item
        }
        record.materials = state.materials.map(\.proto)
        record.channel = Applicant.channel(named: channel)
        record.windowID = windowID
        record.status = status.proto
        record.outcome = state.outcome?.proto ?? .unspecified
        record.submittedAt = Google_Protobuf_Timestamp(date: submittedAt)
        record.submittedOn = Common_CivilDate(state.receivedOn)
        // The 5-working-day intake clock as of the last change: running while the application
        // waits for a decision, stopped on the day of the decision (or of the correction notice).
        let intakeClock = StatutoryClock(actDate: state.intakeClockStartedOn, workingDays: DeemedAcceptance.period.workingDays)
        let stoppedOn: CivilDate? = state.status == .submitted ? nil : (state.acceptedOn ?? state.history.last?.on)
        if let status = try? intakeClock.status(asOf: stoppedOn ?? CivilDate.today(now: updatedAt), in: calendar) {
            record.intakeDeadline = Common_Deadline(startedOn: state.intakeClockStartedOn, status: status, finishedOn: stoppedOn)
        }
        if let receipt = state.receipt {
            record.receipt.receiptNumber = receipt.document.number
            if let acceptedOn = state.acceptedOn { record.receipt.acceptedOn = Common_CivilDate(acceptedOn) }
            record.receipt.promisedOn = Common_CivilDate(receipt.promisedOn)
            record.receipt.document = receipt.document.proto
        }
        if let notice = state.correctionNotice { record.correctionNotices = [notice.proto] }
        if let decision = state.notAccepted, let document = state.notAcceptedDocument {
            record.notAccepted = decision.proto(document: document)
        }
        if let terms = state.deficiency {
            record.deficiency.missing = terms.missing.map(\.proto)
            record.deficiency.supplyBy = Common_CivilDate(terms.supplyBy)
            record.deficiency.undertaking = terms.undertaking
            if let supplied = terms.suppliedOn { record.deficiency.suppliedOn = Common_CivilDate(supplied) }
        }
        if let commitment = state.commitment {
            record.commitment.commitmentText = commitment.commitmentText
            record.commitment.replacedRequirementCodes = commitment.replacedRequirementCodes
            record.commitment.signedFileID = commitment.signedFileID
            if let verifyBy = commitment.verifyBy { record.commitment.verifyBy = Common_CivilDate(verifyBy) }
        }
        if let forwarding = state.forwarding { record.forwarding = forwarding.proto }
        if let delivery = state.delivery { record.delivery = delivery.proto }
        // The method and when; the address is in the sealed parties and added by `view` as the
        // caller may see it.
        if let preference = state.deliveryPreference {
            record.deliveryChoice.method = preference.method.proto
            record.deliveryChoice.chosenAt = Google_Protobuf_Timestamp(date: preference.chosenAt)
        }
        if let actor = state.decidedBy { record.decidedBy = actor.proto }
        if let decidedAt = state.decidedAt { record.decidedAt = Google_Protobuf_Timestamp(date: decidedAt) }
        record.visits = Int32(state.visits)
        if let renewal = state.renewal { record.renewal = Common_Renewal(renewal) }
        if let change = state.change { record.change = Common_LicenceChange(change) }
        record.revision = revision
        record.updatedAt = Google_Protobuf_Timestamp(date: updatedAt)
        return record
    }
}

extension ItemTrack {
    /// The item's progress on the wire; the pinned version and name are the caller's to add.
    var proto: Intake_ApplicationItem {
        var item = Intake_ApplicationItem()
        item.implementationCode = implementationCode
        item.progress = progress.proto
        item.caseID = caseID
        item.caseNumber = caseNumber
        item.implementingNode = implementingNode.proto
        if let deadline { item.deadline = deadline.proto }
        if let licence { item.licence = licence.proto }
        item.denialSummary = denialSummary
        item.notices = notices.map(\.proto)
        return item
    }
}

extension CorrectionNotice {
    var proto: Intake_CorrectionNotice {
        var notice = Intake_CorrectionNotice()
        notice.issuedOn = Common_CivilDate(issuedOn)
        notice.problems = problems.map(\.proto)
        notice.onTheSpot = onTheSpot
        if let document {
            notice.noticeNumber = document.number
            notice.document = document.proto
        }
        return notice
    }
}

extension NotAcceptedDecision {
    func proto(document: IssuedDocument) -> Intake_NotAcceptedNotice {
        var notice = Intake_NotAcceptedNotice()
        notice.noticeNumber = document.number
        if let issuedOn = document.issuedOn { notice.issuedOn = Common_CivilDate(issuedOn) }
        notice.ground = ground?.proto ?? .unspecified
        notice.reason = reason
        notice.legalBasis = legalBasis
        notice.competentAgency = competentAgency
        notice.document = document.proto
        return notice
    }
}

extension IssuedDocument {
    init(proto document: Common_IssuedDocument) {
        self.init(
            documentID: document.documentID, number: document.number, title: document.title,
            issuedOn: document.hasIssuedOn ? document.issuedOn.civilDate : nil, issuingAgency: document.issuingAgency,
            content: document.content, contentType: document.contentType)
    }

    var proto: Common_IssuedDocument {
        var document = Common_IssuedDocument()
        document.documentID = documentID
        document.number = number
        document.title = title
        if let issuedOn { document.issuedOn = Common_CivilDate(issuedOn) }
        document.issuingAgency = issuingAgency
        document.content = content
        document.contentType = contentType
        return document
    }
}

extension ActorRef {
    init(proto actor: Common_ActorRef) {
        self.init(
            subject: actor.subject, name: actor.name, role: actor.role,
            department: actor.hasDepartment ? DepartmentRef(code: actor.department.code, name: actor.department.name, node: actor.department.node) : nil,
            node: actor.node)
    }

    var proto: Common_ActorRef {
        var actor = Common_ActorRef()
        actor.subject = subject
        actor.name = name
        actor.role = role
        if let department {
            actor.department = Common_DepartmentRef.with { $0.code = department.code; $0.name = department.name; $0.node = department.node }
        }
        actor.node = node
        return actor
    }
}

extension ReportedDeadline {
    init(proto deadline: Common_Deadline) {
        self.init(
            startedOn: deadline.hasStartedOn ? deadline.startedOn.civilDate : nil, dueOn: deadline.hasDueOn ? deadline.dueOn.civilDate : nil,
            workingDaysTotal: Int(deadline.workingDaysTotal), workingDaysUsed: Int(deadline.workingDaysUsed),
            workingDaysLeft: Int(deadline.workingDaysLeft), overdue: deadline.overdue, overdueWorkingDays: Int(deadline.overdueWorkingDays),
            suspended: deadline.suspended, extensionWorkingDays: Int(deadline.extensionWorkingDays), warning: WarningLevel(proto: deadline.warning),
            finishedOn: deadline.hasFinishedOn ? deadline.finishedOn.civilDate : nil)
    }

    var proto: Common_Deadline {
        var deadline = Common_Deadline()
        if let startedOn { deadline.startedOn = Common_CivilDate(startedOn) }
        if let dueOn { deadline.dueOn = Common_CivilDate(dueOn) }
        deadline.workingDaysTotal = Int32(workingDaysTotal)
        deadline.workingDaysUsed = Int32(workingDaysUsed)
        deadline.workingDaysLeft = Int32(workingDaysLeft)
        deadline.overdue = overdue
        deadline.overdueWorkingDays = Int32(overdueWorkingDays)
        deadline.suspended = suspended
        deadline.extensionWorkingDays = Int32(extensionWorkingDays)
        deadline.warning = warning?.proto ?? .unspecified
        if let finishedOn { deadline.finishedOn = Common_CivilDate(finishedOn) }
        return deadline
    }
}

extension LicenceRef {
    init(proto licence: Common_LicenceRef) {
        self.init(
            licenceIdentifier: licence.licenceIdentifier, licenceNumber: licence.licenceNumber,
            licenceTypeCode: licence.licenceTypeCode, licenceName: licence.licenceName)
    }

    var proto: Common_LicenceRef {
        Common_LicenceRef.with {
            $0.licenceIdentifier = licenceIdentifier
            $0.licenceNumber = licenceNumber
            $0.licenceTypeCode = licenceTypeCode
            $0.licenceName = licenceName
        }
    }
}

extension Applicant {
    /// The wire form of a party kept as `recipient`: stored masked, so marked masked.
    var maskedProto: Common_Applicant {
        var out = Common_Applicant()
        out.kind = kind?.proto ?? .unspecified
        out.name = name
        out.idType = idType?.proto ?? .unspecified
        out.idNumber = idNumber
        out.phone = phone
        out.address = address
        out.legalRepresentative = legalRepresentative
        out.contactName = contactName
        out.contactPhone = contactPhone
        out.email = email
        out.masked = true
        return out
    }
}

extension Forwarding {
    var proto: Intake_Forwarding {
        var out = Intake_Forwarding()
        out.toNode = toNode.proto
        out.forwardedAt = Google_Protobuf_Timestamp(date: forwardedAt)
        out.firstReviewOpinion = firstReviewOpinion
        out.forwardedBy = forwardedBy.proto
        if let firstReviewDeadline { out.firstReviewDeadline = firstReviewDeadline.proto }
        return out
    }
}

extension Delivery {
    var proto: Intake_Delivery {
        var out = Intake_Delivery()
        out.method = method.proto
        out.deliveredAt = Google_Protobuf_Timestamp(date: deliveredAt)
        if let recipient { out.recipient = recipient.maskedProto }
        out.trackingNumber = trackingNumber
        out.licences = licences.map(\.proto)
        out.documentIds = documentIDs
        out.clerk = clerk.proto
        return out
    }
}


extension DeliveryAddress {
    init(proto: Intake_DeliveryAddress) {
        self.init(recipientName: proto.recipientName, phone: proto.phone, postalAddress: proto.postalAddress, postalCode: proto.postalCode)
    }

    var proto: Intake_DeliveryAddress {
        .with {
            $0.recipientName = recipientName
            $0.phone = phone
            $0.postalAddress = postalAddress
            $0.postalCode = postalCode
        }
    }
}

extension Intake_DeliveryAddress {
    /// This address as `disclosure` allows: the one rule (`Disclosure`) decides how much, `Masking`
    /// gives the shapes ("张*", "138****5678", "山东省临沂市****"); the postal code names a district,
    /// no person, and stays.
    func disclosed(_ disclosure: Disclosure) -> Intake_DeliveryAddress {
        guard disclosure != .full else { return self }
        var out = self
        out.recipientName = Masking.personName(recipientName)
        out.phone = Masking.phone(phone)
        out.postalAddress = Masking.address(postalAddress)
        return out
    }
}
