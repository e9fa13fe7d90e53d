/// The catalogue's enumerations, one case per non-zero value of the proto enum of the same name
/// (`oneseal.intake.v1` / `oneseal.common.v1`). Raw values are the proto value name without its
/// prefix, lower-cased (`ITEM_TYPE_LICENSING` → "licensing"), and are what the catalogue file uses.
/// The proto's `*_UNSPECIFIED` has no case: a value that is not set is absent, not a member.

/// 权力类型: unified nationally with the item's name and basis.
public enum ItemType: String, Sendable, Hashable, Codable, CaseIterable {
    case licensing, confirmation, payment, award, ruling
    case otherPower = "other_power"
    case publicService = "public_service"
    case filing
}

/// The form in which a material is accepted.
public enum MaterialForm: String, Sendable, Hashable, Codable, CaseIterable {
    /// 原件.
    case original
    /// 复印件.
    case copy
    /// 电子件: an upload or an electronic licence.
    case electronic

    /// Paper forms need copies counted; electronic ones do not.
    public var isPaper: Bool { self != .electronic }
}

/// Where the applicant gets a material; government-sourced ones should be fetched by sharing.
public enum MaterialSource: String, Sendable, Hashable, Codable, CaseIterable {
    case applicant, government, intermediary, other
}

/// Art. 45 procedures whose time is not counted in the statutory period.
public enum SpecialProcedure: String, Sendable, Hashable, Codable, CaseIterable {
    case hearing, tender, auction, inspection
    case siteInspection = "site_inspection"
    case testing, quarantine, appraisal
    case expertReview = "expert_review"
}

/// What is wrong with a material (`MaterialProblemKind`).
public enum MaterialProblemKind: String, Sendable, Hashable, Codable, CaseIterable {
    case missing
    case wrongForm = "wrong_form"
    case incomplete, inconsistent, expired, unverifiable, other
}

/// Why an application is not accepted (Art. 32 ¶1).
public enum NotAcceptedGround: String, Sendable, Hashable, Codable, CaseIterable {
    case notALicensingMatter = "not_a_licensing_matter"
    case outsidePowers = "outside_powers"
    case correctionNotMade = "correction_not_made"
    case other
}

/// The clerk's intake decision, or the sweeper's deemed acceptance.
public enum IntakeOutcome: String, Sendable, Hashable, Codable, CaseIterable {
    case accepted
    case correctionRequested = "correction_requested"
    case notAccepted = "not_accepted"
    case acceptedWithDeficiency = "accepted_with_deficiency"
    case acceptedByCommitment = "accepted_by_commitment"
    case deemedAccepted = "deemed_accepted"
}

/// Where an application stands at intake (the intake part of `ApplicationStatus`; forwarding and
/// delivery are the service's business, after acceptance).
public enum ApplicationStatus: String, Sendable, Hashable, Codable, CaseIterable {
    case submitted
    case correctionRequested = "correction_requested"
    case accepted
    case notAccepted = "not_accepted"
    case forwarded
    case readyForDelivery = "ready_for_delivery"
    case delivered
    case withdrawn
}

/// Progress of one item of an application (`ItemProgress`).
public enum ItemProgress: String, Sendable, Hashable, Codable, CaseIterable {
    case pendingIntake = "pending_intake"
    case inApproval = "in_approval"
    case suspended, granted, denied
    case licenceIssued = "licence_issued"
    case delivered, withdrawn
    case notAccepted = "not_accepted"
    /// The grant was revoked (撤销) or cancelled (注销) afterwards, by the node that decided it.
    case revoked, cancelled

    /// True once the item's approval has ended one way or another: a bundle completes when every
    /// item is decided.
    public var isDecided: Bool {
        switch self {
        case .pendingIntake, .inApproval, .suspended: false
        case .granted, .denied, .licenceIssued, .delivered, .withdrawn, .notAccepted, .revoked, .cancelled: true
        }
    }

    /// How far along the item is. Events reach the window from several services (approval's
    /// CaseOpened/CaseDecided, certificate's LicenceIssued) with no order between them, and a relay
    /// that was down delivers old news late; progress must never go back because of that.
    public var stage: Int {
        switch self {
        case .pendingIntake: 0
        case .inApproval, .suspended: 1
        case .granted, .denied: 2
        case .licenceIssued: 3
        case .delivered, .withdrawn, .notAccepted: 4
        case .revoked, .cancelled: 5
        }
    }

    /// The progress after an event reports `reported`: the reported one unless it is behind what
    /// is already known (a late CaseOpened after the decision, a CaseDecided after the licence).
    /// Within one stage the report wins: suspension and resumption come from one source, in order.
    public func advanced(to reported: ItemProgress) -> ItemProgress {
        reported.stage < stage ? self : reported
    }
}

/// Person or organisation (`ApplicantKind`).
public enum ApplicantKind: String, Sendable, Hashable, Codable, CaseIterable {
    case naturalPerson = "natural_person"
    case legalPerson = "legal_person"
}

/// Identity document kind (`IdType`); resident IDs and USCCs are checksum-validated.
public enum IdType: String, Sendable, Hashable, Codable, CaseIterable {
    case residentID = "resident_id"
    case uscc
    case passport
    case hkMacaoPermit = "hk_macao_permit"
    case taiwanPermit = "taiwan_permit"
    case foreignPermanentResident = "foreign_permanent_resident"
    case other
}
