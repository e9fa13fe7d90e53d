import OneSealProto
import OneSealServiceKit
import SupervisionRules

// Supervision's enums and their contract twins, mapped case by case (see `ProtoMappedEnum`).

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

extension FindingEffect: ProtoMappedEnum {
    public init?(proto: Supervision_FindingEffect) {
        switch proto {
        case .record: self = .record
        case .cancellation: self = .cancellation
        case .revocationReview: self = .revocationReview
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Supervision_FindingEffect {
        switch self {
        case .record: .record
        case .cancellation: .cancellation
        case .revocationReview: .revocationReview
        }
    }
}

extension InspectionResult: ProtoMappedEnum {
    public init?(proto: Supervision_InspectionResult) {
        switch proto {
        case .compliant: self = .compliant
        case .compliantAfterFix: self = .compliantAfterFix
        case .nonCompliant: self = .nonCompliant
        case .notFoundAtPlace: self = .notFoundAtPlace
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Supervision_InspectionResult {
        switch self {
        case .compliant: .compliant
        case .compliantAfterFix: .compliantAfterFix
        case .nonCompliant: .nonCompliant
        case .notFoundAtPlace: .notFoundAtPlace
        }
    }
}

extension PushKind: ProtoMappedEnum {
    public init?(proto: Supervision_PushKind) {
        switch proto {
        case .grant: self = .grant
        case .licence: self = .licence
        case .change: self = .change
        case .revocation: self = .revocation
        case .cancellation: self = .cancellation
        case .commitment: self = .commitment
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Supervision_PushKind {
        switch self {
        case .grant: .grant
        case .licence: .licence
        case .change: .change
        case .revocation: .revocation
        case .cancellation: .cancellation
        case .commitment: .commitment
        }
    }
}

extension PushStatus: ProtoMappedEnum {
    public init?(proto: Supervision_PushStatus) {
        switch proto {
        case .pending: self = .pending
        case .claimed: self = .claimed
        case .rejected: self = .rejected
        case .rerouted: self = .rerouted
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Supervision_PushStatus {
        switch self {
        case .pending: .pending
        case .claimed: .claimed
        case .rejected: .rejected
        case .rerouted: .rerouted
        }
    }
}

extension DeliveryMode: ProtoMappedEnum {
    public init?(proto: Supervision_DeliveryMode) {
        switch proto {
        case .pull: self = .pull
        case .endpoint: self = .endpoint
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Supervision_DeliveryMode {
        switch self {
        case .pull: .pull
        case .endpoint: .endpoint
        }
    }
}

extension DepartmentLevel: ProtoMappedEnum {
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
