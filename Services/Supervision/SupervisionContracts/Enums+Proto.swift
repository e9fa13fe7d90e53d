import OneSealProto
import OneSealServiceKit
import SupervisionRules

// Supervision's enums and their contract twins, mapped case by case (see `ProtoMappedEnum`).

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
