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
