import IntakeRules
import OneSealProto
import OneSealServiceKit

// Intake's enums and their contract twins, mapped case by case (see `ProtoMappedEnum`).

extension ItemType: ProtoMappedEnum {
    public init?(proto: Intake_ItemType) {
        switch proto {
        case .licensing: self = .licensing
        case .confirmation: self = .confirmation
        case .payment: self = .payment
        case .award: self = .award
        case .ruling: self = .ruling
        case .otherPower: self = .otherPower
        case .publicService: self = .publicService
        case .filing: self = .filing
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Intake_ItemType {
        switch self {
        case .licensing: .licensing
        case .confirmation: .confirmation
        case .payment: .payment
        case .award: .award
        case .ruling: .ruling
        case .otherPower: .otherPower
        case .publicService: .publicService
        case .filing: .filing
        }
    }
}

extension MaterialForm: ProtoMappedEnum {
    public init?(proto: Intake_MaterialForm) {
        switch proto {
        case .original: self = .original
        case .copy: self = .copy
        case .electronic: self = .electronic
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Intake_MaterialForm {
        switch self {
        case .original: .original
        case .copy: .copy
        case .electronic: .electronic
        }
    }
}

extension MaterialSource: ProtoMappedEnum {
    public init?(proto: Intake_MaterialSource) {
        switch proto {
        case .applicant: self = .applicant
        case .government: self = .government
        case .intermediary: self = .intermediary
        case .other: self = .other
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Intake_MaterialSource {
        switch self {
        case .applicant: .applicant
        case .government: .government
        case .intermediary: .intermediary
        case .other: .other
        }
    }
}

extension SpecialProcedure: ProtoMappedEnum {
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

extension MaterialProblemKind: ProtoMappedEnum {
    public init?(proto: Intake_MaterialProblemKind) {
        switch proto {
        case .missing: self = .missing
        case .wrongForm: self = .wrongForm
        case .incomplete: self = .incomplete
        case .inconsistent: self = .inconsistent
        case .expired: self = .expired
        case .unverifiable: self = .unverifiable
        case .other: self = .other
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Intake_MaterialProblemKind {
        switch self {
        case .missing: .missing
        case .wrongForm: .wrongForm
        case .incomplete: .incomplete
        case .inconsistent: .inconsistent
        case .expired: .expired
        case .unverifiable: .unverifiable
        case .other: .other
        }
    }
}

extension NotAcceptedGround: ProtoMappedEnum {
    public init?(proto: Intake_NotAcceptedGround) {
        switch proto {
        case .notALicensingMatter: self = .notALicensingMatter
        case .outsidePowers: self = .outsidePowers
        case .correctionNotMade: self = .correctionNotMade
        case .other: self = .other
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Intake_NotAcceptedGround {
        switch self {
        case .notALicensingMatter: .notALicensingMatter
        case .outsidePowers: .outsidePowers
        case .correctionNotMade: .correctionNotMade
        case .other: .other
        }
    }
}

extension IntakeOutcome: ProtoMappedEnum {
    public init?(proto: Intake_IntakeOutcome) {
        switch proto {
        case .accepted: self = .accepted
        case .correctionRequested: self = .correctionRequested
        case .notAccepted: self = .notAccepted
        case .acceptedWithDeficiency: self = .acceptedWithDeficiency
        case .acceptedByCommitment: self = .acceptedByCommitment
        case .deemedAccepted: self = .deemedAccepted
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Intake_IntakeOutcome {
        switch self {
        case .accepted: .accepted
        case .correctionRequested: .correctionRequested
        case .notAccepted: .notAccepted
        case .acceptedWithDeficiency: .acceptedWithDeficiency
        case .acceptedByCommitment: .acceptedByCommitment
        case .deemedAccepted: .deemedAccepted
        }
    }
}

extension ApplicationStatus: ProtoMappedEnum {
    public init?(proto: Intake_ApplicationStatus) {
        switch proto {
        case .submitted: self = .submitted
        case .correctionRequested: self = .correctionRequested
        case .accepted: self = .accepted
        case .notAccepted: self = .notAccepted
        case .forwarded: self = .forwarded
        case .readyForDelivery: self = .readyForDelivery
        case .delivered: self = .delivered
        case .withdrawn: self = .withdrawn
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Intake_ApplicationStatus {
        switch self {
        case .submitted: .submitted
        case .correctionRequested: .correctionRequested
        case .accepted: .accepted
        case .notAccepted: .notAccepted
        case .forwarded: .forwarded
        case .readyForDelivery: .readyForDelivery
        case .delivered: .delivered
        case .withdrawn: .withdrawn
        }
    }
}

extension ItemProgress: ProtoMappedEnum {
    public init?(proto: Intake_ItemProgress) {
        switch proto {
        case .pendingIntake: self = .pendingIntake
        case .inApproval: self = .inApproval
        case .suspended: self = .suspended
        case .granted: self = .granted
        case .denied: self = .denied
        case .licenceIssued: self = .licenceIssued
        case .delivered: self = .delivered
        case .withdrawn: self = .withdrawn
        case .notAccepted: self = .notAccepted
        case .revoked: self = .revoked
        case .cancelled: self = .cancelled
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Intake_ItemProgress {
        switch self {
        case .pendingIntake: .pendingIntake
        case .inApproval: .inApproval
        case .suspended: .suspended
        case .granted: .granted
        case .denied: .denied
        case .licenceIssued: .licenceIssued
        case .delivered: .delivered
        case .withdrawn: .withdrawn
        case .notAccepted: .notAccepted
        case .revoked: .revoked
        case .cancelled: .cancelled
        }
    }
}

extension ApplicantKind: ProtoMappedEnum {
    public init?(proto: Common_ApplicantKind) {
        switch proto {
        case .naturalPerson: self = .naturalPerson
        case .legalPerson: self = .legalPerson
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Common_ApplicantKind {
        switch self {
        case .naturalPerson: .naturalPerson
        case .legalPerson: .legalPerson
        }
    }
}

extension IdType: ProtoMappedEnum {
    public init?(proto: Common_IdType) {
        switch proto {
        case .residentID: self = .residentID
        case .uscc: self = .uscc
        case .passport: self = .passport
        case .hkMacaoPermit: self = .hkMacaoPermit
        case .taiwanPermit: self = .taiwanPermit
        case .foreignPermanentResident: self = .foreignPermanentResident
        case .other: self = .other
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Common_IdType {
        switch self {
        case .residentID: .residentID
        case .uscc: .uscc
        case .passport: .passport
        case .hkMacaoPermit: .hkMacaoPermit
        case .taiwanPermit: .taiwanPermit
        case .foreignPermanentResident: .foreignPermanentResident
        case .other: .other
        }
    }
}

extension DeliveryMethod: ProtoMappedEnum {
    public init?(proto: Intake_DeliveryMethod) {
        switch proto {
        case .window: self = .window
        case .mail: self = .mail
        case .electronic: self = .electronic
        case .unspecified, .UNRECOGNIZED: return nil
        }
    }

    public var proto: Intake_DeliveryMethod {
        switch self {
        case .window: .window
        case .mail: .mail
        case .electronic: .electronic
        }
    }
}
