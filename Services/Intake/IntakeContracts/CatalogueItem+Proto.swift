import Foundation
import IntakeRules
import OneSealCore
import OneSealProto
import OneSealServiceKit
import SwiftProtobuf

// The catalogue item between its wire form (`intake.v1.Item`) and the rules' value
// (`IntakeRules.CatalogueItem`). Version, author and time are the store's, not the content's.

extension CatalogueItem {
    /// The rules' item from a request. Unset enums become nil so validation names them.
    public init(proto item: Intake_Item) {
        self.init(
            basicCode: item.basicCode,
            implementationCode: item.implementationCode,
            name: item.name,
            legalBasis: item.legalBasis,
            type: ItemType(proto: item.type),
            level: AdministrativeLevel(proto: item.level),
            competentDepartment: DepartmentRef(
                code: item.competentDepartment.code, name: item.competentDepartment.name, node: item.competentDepartment.node),
            tier: ApprovalTier(proto: item.tier),
            statutoryDays: Int(item.statutoryDays),
            promisedDays: Int(item.promisedDays),
            materials: item.materials.map(Material.init(proto:)),
            acceptanceConditions: item.acceptanceConditions,
            process: item.process,
            commitmentAllowed: item.commitmentAllowed,
            deficiencyAllowed: item.deficiencyAllowed,
            instantApprovalAllowed: item.instantApprovalAllowed,
            instantRuleSet: item.instantRuleSet,
            implementingNode: NodeRef(proto: item.implementingNode),
            licenceTypeCode: item.licenceTypeCode,
            licenceName: item.licenceName,
            licenceValidityMonths: Int(item.licenceValidityMonths),
            resultName: item.resultName,
            specialProcedures: item.specialProcedures.compactMap(SpecialProcedure.init(proto:)),
            fees: item.fees.map { Fee(name: $0.name, amountFen: Int($0.amountFen), basis: $0.basis) },
            maxVisits: Int(item.maxVisits),
            jointHandling: item.jointHandling,
            active: item.active,
            renewalDaysBeforeExpiry: item.renewalDaysBeforeExpiry == 0 ? nil : Int(item.renewalDaysBeforeExpiry),
            changeReviewMatters: item.changeReviewMatters.isEmpty ? nil : item.changeReviewMatters
        )
    }

    /// The wire form of one stored version.
    public func proto(version: Int, changeNote: String = "", changedBy: Common_ActorRef? = nil, createdAt: Date? = nil) -> Intake_Item {
        var out = Intake_Item()
        out.basicCode = basicCode
        out.implementationCode = implementationCode
        out.version = Int32(version)
        out.name = name
        out.legalBasis = legalBasis
        out.type = type?.proto ?? .unspecified
        out.level = level?.proto ?? .unspecified
        out.competentDepartment = Common_DepartmentRef.with {
            $0.code = competentDepartment.code; $0.name = competentDepartment.name; $0.node = competentDepartment.node
        }
        out.tier = tier?.proto ?? .unspecified
        out.statutoryDays = Int32(statutoryDays)
        out.promisedDays = Int32(promisedDays)
        out.materials = materials.map(\.proto)
        out.acceptanceConditions = acceptanceConditions
        out.process = process
        out.commitmentAllowed = commitmentAllowed
        out.deficiencyAllowed = deficiencyAllowed
        out.instantApprovalAllowed = instantApprovalAllowed
        out.instantRuleSet = instantRuleSet
        out.implementingNode = implementingNode.proto
        out.licenceTypeCode = licenceTypeCode
        out.licenceName = licenceName
        out.licenceValidityMonths = Int32(licenceValidityMonths)
        out.resultName = resultName
        out.specialProcedures = specialProcedures.map(\.proto)
        out.fees = fees.map { fee in Intake_Fee.with { $0.name = fee.name; $0.amountFen = Int64(fee.amountFen); $0.basis = fee.basis } }
        out.maxVisits = Int32(maxVisits)
        out.jointHandling = jointHandling
        out.active = active
        out.renewalDaysBeforeExpiry = Int32(renewalDaysBeforeExpiry ?? 0)
        out.changeReviewMatters = changeReviewMatters ?? []
        out.changeNote = changeNote
        if let changedBy { out.changedBy = changedBy }
        if let createdAt { out.createdAt = Google_Protobuf_Timestamp(date: createdAt) }
        return out
    }
}

extension Material {
    public init(proto material: Intake_MaterialRequirement) {
        self.init(
            code: material.code, name: material.name, required: material.required,
            forms: material.forms.compactMap(MaterialForm.init(proto:)), copies: Int(material.copies),
            source: MaterialSource(proto: material.source), sourceDescription: material.sourceDescription,
            licenceTypeCode: material.licenceTypeCode, blankFormURL: material.blankFormURL, sampleURL: material.sampleURL,
            acceptanceStandard: material.acceptanceStandard, deficiencyAllowed: material.deficiencyAllowed, note: material.note
        )
    }

    public var proto: Intake_MaterialRequirement {
        var out = Intake_MaterialRequirement()
        out.code = code
        out.name = name
        out.required = required
        out.forms = forms.map(\.proto)
        out.copies = Int32(copies)
        out.source = source?.proto ?? .unspecified
        out.sourceDescription = sourceDescription
        out.licenceTypeCode = licenceTypeCode
        out.blankFormURL = blankFormURL
        out.sampleURL = sampleURL
        out.acceptanceStandard = acceptanceStandard
        out.deficiencyAllowed = deficiencyAllowed
        out.note = note
        return out
    }
}

extension NodeRef {
    public init(proto node: Common_NodeRef) {
        self.init(divisionCode: node.divisionCode, name: node.name, level: AdministrativeLevel(proto: node.level))
    }

    public var proto: Common_NodeRef {
        Common_NodeRef.with {
            $0.divisionCode = divisionCode
            $0.name = name
            $0.level = level?.proto ?? .unspecified
        }
    }
}
