import ApprovalRules
import OneSealProto
import OneSealServiceKit

// Approval's enums and their contract twins, mapped case by case (see `ProtoMappedEnum`).

extension CaseStatus: ProtoMappedEnum {
    public init?(proto: Approval_CaseStatus) {
        switch proto {
        case .inProgress: self = .inProgress
        case .suspended: self = .suspended
        case .granted: self = .granted
        case .denied: self = .denied
        case .withdrawn: self = .withdrawn
        case .revoked: self = .revoked
        case .cancelled: self = .cancelled
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Approval_CaseStatus {
        switch self {
        case .inProgress: .inProgress
        case .suspended: .suspended
        case .granted: .granted
        case .denied: .denied
        case .withdrawn: .withdrawn
        case .revoked: .revoked
        case .cancelled: .cancelled
        }
    }
}

extension StepStatus: ProtoMappedEnum {
    public init?(proto: Approval_StepStatus) {
        switch proto {
        case .pending: self = .pending
        case .active: self = .active
        case .completed: self = .completed
        case .returned: self = .returned
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Approval_StepStatus {
        switch self {
        case .pending: .pending
        case .active: .active
        case .completed: .completed
        case .returned: .returned
        }
    }
}

extension StepConclusion: ProtoMappedEnum {
    public init?(proto: Approval_StepConclusion) {
        switch proto {
        case .proposeGrant: self = .proposeGrant
        case .proposeDeny: self = .proposeDeny
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Approval_StepConclusion {
        switch self {
        case .proposeGrant: .proposeGrant
        case .proposeDeny: .proposeDeny
        }
    }
}

extension JointReviewKind: ProtoMappedEnum {
    public init?(proto: Approval_JointReviewKind) {
        switch proto {
        case .section: self = .section
        case .deputy: self = .deputy
        case .collective: self = .collective
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Approval_JointReviewKind {
        switch self {
        case .section: .section
        case .deputy: .deputy
        case .collective: .collective
        }
    }
}

extension Vote: ProtoMappedEnum {
    public init?(proto: Approval_Vote) {
        switch proto {
        case .agree: self = .agree
        case .disagree: self = .disagree
        case .abstain: self = .abstain
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Approval_Vote {
        switch self {
        case .agree: .agree
        case .disagree: .disagree
        case .abstain: .abstain
        }
    }
}

extension RevocationGround: ProtoMappedEnum {
    public init?(proto: Approval_RevocationGround) {
        switch proto {
        case .abuseOfPower: self = .abuseOfPower
        case .beyondPowers: self = .beyondPowers
        case .illegalProcedure: self = .illegalProcedure
        case .unqualifiedApplicant: self = .unqualifiedApplicant
        case .fraudOrBribery: self = .fraudOrBribery
        case .other: self = .other
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Approval_RevocationGround {
        switch self {
        case .abuseOfPower: .abuseOfPower
        case .beyondPowers: .beyondPowers
        case .illegalProcedure: .illegalProcedure
        case .unqualifiedApplicant: .unqualifiedApplicant
        case .fraudOrBribery: .fraudOrBribery
        case .other: .other
        }
    }
}

extension CancellationGround: ProtoMappedEnum {
    public init?(proto: Approval_CancellationGround) {
        switch proto {
        case .expiredNotRenewed: self = .expiredNotRenewed
        case .holderDiedOrIncapable: self = .holderDiedOrIncapable
        case .legalPersonTerminated: self = .legalPersonTerminated
        case .revokedWithdrawnOrSuspended: self = .revokedWithdrawnOrSuspended
        case .forceMajeure: self = .forceMajeure
        case .other: self = .other
        case .holderRequest: self = .holderRequest
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Approval_CancellationGround {
        switch self {
        case .expiredNotRenewed: .expiredNotRenewed
        case .holderDiedOrIncapable: .holderDiedOrIncapable
        case .legalPersonTerminated: .legalPersonTerminated
        case .revokedWithdrawnOrSuspended: .revokedWithdrawnOrSuspended
        case .forceMajeure: .forceMajeure
        case .other: .other
        case .holderRequest: .holderRequest
        }
    }
}

extension HearingPublicity: ProtoMappedEnum {
    public init?(proto: Approval_HearingPublicity) {
        switch proto {
        case .`public`: self = .publicHearing
        case .stateSecret: self = .stateSecret
        case .businessSecret: self = .businessSecret
        case .privacy: self = .privacy
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Approval_HearingPublicity {
        switch self {
        case .publicHearing: .`public`
        case .stateSecret: .stateSecret
        case .businessSecret: .businessSecret
        case .privacy: .privacy
        }
    }
}
