import OneSealCore
import OneSealProto

// OneSealCore's enums and their contract twins, mapped case by case (see `ProtoMappedEnum`).

extension ApprovalRole: ProtoMappedEnum {
    public init?(proto: Approval_ApprovalRole) {
        switch proto {
        case .officer: self = .officer
        case .sectionChief: self = .sectionChief
        case .deputyDirector: self = .deputyDirector
        case .director: self = .director
        case .collectiveMeeting: self = .collectiveMeeting
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Approval_ApprovalRole {
        switch self {
        case .officer: .officer
        case .sectionChief: .sectionChief
        case .deputyDirector: .deputyDirector
        case .director: .director
        case .collectiveMeeting: .collectiveMeeting
        }
    }
}

extension ApprovalTier: ProtoMappedEnum {
    public init?(proto: Common_ApprovalTier) {
        switch proto {
        case .sole: self = .sole
        case .section: self = .section
        case .deputy: self = .deputy
        case .collective: self = .collective
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Common_ApprovalTier {
        switch self {
        case .sole: .sole
        case .section: .section
        case .deputy: .deputy
        case .collective: .collective
        }
    }
}

extension SuspensionReason: ProtoMappedEnum {
    public init?(proto: Common_SpecialProcedure) {
        switch proto {
        case .hearing: self = .hearing
        case .tender: self = .tender
        case .auction: self = .auction
        case .inspection: self = .inspection
        case .siteInspection: self = .siteInspection
        case .testing: self = .testing
        case .quarantine: self = .quarantine
        case .appraisal: self = .appraisal
        case .expertReview: self = .expertReview
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Common_SpecialProcedure {
        switch self {
        case .hearing: .hearing
        case .tender: .tender
        case .auction: .auction
        case .inspection: .inspection
        case .siteInspection: .siteInspection
        case .testing: .testing
        case .quarantine: .quarantine
        case .appraisal: .appraisal
        case .expertReview: .expertReview
        }
    }
}

extension WarningLevel: ProtoMappedEnum {
    public init?(proto: Common_WarningLevel) {
        switch proto {
        case .normal: self = .normal
        case .yellow: self = .yellow
        case .red: self = .red
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Common_WarningLevel {
        switch self {
        case .normal: .normal
        case .yellow: .yellow
        case .red: .red
        }
    }
}

extension AdministrativeLevel: ProtoMappedEnum {
    public init?(proto: Common_AdministrativeLevel) {
        switch proto {
        case .province: self = .province
        case .city: self = .city
        case .county: self = .county
        case .township: self = .township
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Common_AdministrativeLevel {
        switch self {
        case .province: .province
        case .city: .city
        case .county: .county
        case .township: .township
        }
    }
}

extension AcceptanceKind: ProtoMappedEnum {
    public init?(proto: Common_AcceptanceKind) {
        switch proto {
        case .complete: self = .complete
        case .deficiency: self = .deficiency
        case .commitment: self = .commitment
        case .deemed: self = .deemed
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Common_AcceptanceKind {
        switch self {
        case .complete: .complete
        case .deficiency: .deficiency
        case .commitment: .commitment
        case .deemed: .deemed
        }
    }
}

extension FindingKind: ProtoMappedEnum {
    public init?(proto: Supervision_FindingKind) {
        switch proto {
        case .inspectionResult: self = .inspectionResult
        case .penalty: self = .penalty
        case .licenceWithdrawn: self = .licenceWithdrawn
        case .revocationRecommended: self = .revocationRecommended
        case .commitmentVerified: self = .commitmentVerified
        case .commitmentFalse: self = .commitmentFalse
        case .other: self = .other
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Supervision_FindingKind {
        switch self {
        case .inspectionResult: .inspectionResult
        case .penalty: .penalty
        case .licenceWithdrawn: .licenceWithdrawn
        case .revocationRecommended: .revocationRecommended
        case .commitmentVerified: .commitmentVerified
        case .commitmentFalse: .commitmentFalse
        case .other: .other
        }
    }
}
