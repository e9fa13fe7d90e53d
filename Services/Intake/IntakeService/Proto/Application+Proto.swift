import Foundation
import IntakeRules
import OneSealCore
import OneSealPrivacy
import OneSealProto
import OneSealServiceKit

// Applications between the wire (`intake.v1`) and the rules (`IntakeRules`).

extension Applicant {
    init(proto applicant: Common_Applicant) {
        self.init(
            kind: ProtoEnum.map(applicant.kind), name: applicant.name, idType: ProtoEnum.map(applicant.idType),
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
            licence = LicenceRef(
                licenceIdentifier: ref.licenceIdentifier, licenceNumber: ref.licenceNumber,
                licenceTypeCode: ref.licenceTypeCode, licenceName: ref.licenceName)
        case .fileID(let id)?:
            fileID = id
        case nil:
            break
        }
        self.init(
            requirementCode: material.requirementCode, implementationCodes: material.implementationCodes, name: material.name,
            form: ProtoEnum.map(material.form), copies: Int(material.copies), fileID: fileID, electronicLicence: licence,
            // Verification is intake's own finding, never the caller's claim.
            licenceVerified: false, licenceVerificationDetail: ""
        )
    }

    var proto: Intake_ProvidedMaterial {
        var out = Intake_ProvidedMaterial()
        out.requirementCode = requirementCode
        out.implementationCodes = implementationCodes
        out.name = name
        out.form = form.flatMap { ProtoEnum.map($0) } ?? .unspecified
        out.copies = Int32(copies)
        if let licence = electronicLicence {
            out.electronicLicence = Common_LicenceRef.with {
                $0.licenceIdentifier = licence.licenceIdentifier
                $0.licenceNumber = licence.licenceNumber
                $0.licenceTypeCode = licence.licenceTypeCode
                $0.licenceName = licence.licenceName
            }
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
            materialName: problem.materialName, kind: ProtoEnum.map(problem.kind) ?? .other, howToFix: problem.howToFix)
    }

    var proto: Intake_MaterialProblem {
        Intake_MaterialProblem.with {
            $0.implementationCode = implementationCode
            $0.requirementCode = requirementCode
            $0.materialName = materialName
            $0.kind = ProtoEnum.map(kind) ?? .other
            $0.howToFix = howToFix
        }
    }
}

