import EvaluationRules
import OneSealProto
import OneSealServiceKit

// Evaluation's enums and their contract twins, mapped case by case (see `ProtoMappedEnum`).

extension RatingChannel: ProtoMappedEnum {
    public init?(proto: Evaluation_RatingChannel) {
        switch proto {
        case .onSite: self = .onSite
        case .online: self = .online
        case .publicComment: self = .publicComment
        case .governmentInspection: self = .governmentInspection
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Evaluation_RatingChannel {
        switch self {
        case .onSite: .onSite
        case .online: .online
        case .publicComment: .publicComment
        case .governmentInspection: .governmentInspection
        }
    }
}

extension RectificationTicket.Status: ProtoMappedEnum {
    public init?(proto: Evaluation_RectificationStatus) {
        switch proto {
        case .open: self = .open
        case .calledBack: self = .calledBack
        case .rectified: self = .rectified
        case .closed: self = .closed
        case .void: self = .void
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Evaluation_RectificationStatus {
        switch self {
        case .open: .open
        case .calledBack: .calledBack
        case .rectified: .rectified
        case .closed: .closed
        case .void: .void
        }
    }
}

extension Appeal.Status: ProtoMappedEnum {
    public init?(proto: Evaluation_AppealStatus) {
        switch proto {
        case .pending: self = .pending
        case .upheld: self = .upheld
        case .dismissed: self = .dismissed
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Evaluation_AppealStatus {
        switch self {
        case .pending: .pending
        case .upheld: .upheld
        case .dismissed: .dismissed
        }
    }
}

extension Indicator: ProtoMappedEnum {
    public init?(proto: Evaluation_Indicator) {
        switch proto {
        case .overall: self = .overall
        case .efficiency: self = .efficiency
        case .guideAccuracy: self = .guideAccuracy
        case .convenience: self = .convenience
        case .platformUsability: self = .platformUsability
        case .skill: self = .skill
        case .attitude: self = .attitude
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Evaluation_Indicator {
        switch self {
        case .overall: .overall
        case .efficiency: .efficiency
        case .guideAccuracy: .guideAccuracy
        case .convenience: .convenience
        case .platformUsability: .platformUsability
        case .skill: .skill
        case .attitude: .attitude
        }
    }
}

extension CaseFileReview.Grade: ProtoMappedEnum {
    public init?(proto: Evaluation_CaseFileGrade) {
        switch proto {
        case .excellent: self = .excellent
        case .good: self = .good
        case .pass: self = .pass
        case .fail: self = .fail
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Evaluation_CaseFileGrade {
        switch self {
        case .excellent: .excellent
        case .good: .good
        case .pass: .pass
        case .fail: .fail
        }
    }
}
