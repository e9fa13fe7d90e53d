import OneSealCore

/// A pinned item: the exact version an application is handled under.
///
/// Stored as its version only (`encode(to:)`): the catalogue keeps every version's content for
/// good (migration 0012 refuses to change or drop a pinned one), so an application's stored state
/// names the version and reading it back takes the content from `PinnedItem.catalogueKey`'s
/// catalogue — the content was a third of every stored state and of intake's JSON work (#21,
/// decision 73). A state stored with the content (before decision 73) reads back as it is.
public struct PinnedItem: Sendable, Hashable, Codable {
    public let version: ItemVersion
    public let item: CatalogueItem

    /// Refuses a version that is not this item's content, so a case can never pin a label that
    /// does not match its rules.
    public init(version: ItemVersion, item: CatalogueItem) throws(IntakeRuleError) {
        guard version.implementationCode == item.implementationCode, version.contentHash == item.contentHash else {
            throw .failedPrecondition("version \(version.version) of \(version.implementationCode) does not describe this content of item \(item.implementationCode)")
        }
        self.version = version
        self.item = item
    }

    /// The content of a pinned version, if the reader holds it (nil: not held, or held with
    /// another content hash).
    public typealias Catalogue = @Sendable (ItemVersion) -> CatalogueItem?

    /// The decoder's `userInfo` key of the `Catalogue` a stored state's pinned versions are read
    /// from.
    public static let catalogueKey = CodingUserInfoKey(rawValue: "oneseal.intake.pinned-catalogue")!

    /// A stored state names a version the reader's catalogue does not hold: the reader loads it
    /// and decodes again (`ApplicationStore.decode(_:on:)`).
    public struct UnheldVersion: Error, Sendable, Equatable {
        public let version: ItemVersion
    }

    private enum CodingKeys: String, CodingKey { case version, item }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(version, forKey: .version)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        version = try container.decode(ItemVersion.self, forKey: .version)
        if let stored = try container.decodeIfPresent(CatalogueItem.self, forKey: .item) {
            item = stored
        } else if let catalogue = decoder.userInfo[Self.catalogueKey] as? Catalogue, let held = catalogue(version) {
            guard held.implementationCode == version.implementationCode else {
                throw DecodingError.dataCorruptedError(forKey: .version, in: container, debugDescription: "the catalogue answered item \(held.implementationCode) for a version of \(version.implementationCode)")
            }
            item = held
        } else {
            throw UnheldVersion(version: version)
        }
    }
}

/// 一次性告知补正通知书 as decided: every problem at once.
public struct CorrectionNotice: Sendable, Hashable, Codable {
    public let issuedOn: CivilDate
    public let problems: [MaterialProblem]
    /// Told on the spot at the window (当场告知) rather than within the 5 working days.
    public let onTheSpot: Bool
    /// The numbered document, once the service printed it (`ApplicationState.issuedCorrectionNotice`).
    public internal(set) var document: IssuedDocument?
}

extension CorrectionNotice {
    /// The supplied materials this notice does not ask for, each naming its field
    /// (`materials[i].requirement_code`). An applicant answering the one-time notice online (#18
    /// item 5) supplies what it lists and nothing else; at the window the clerk may still take any
    /// paper the applicant brings, so the handler applies this to applicant tokens only.
    public func unlisted(_ supplied: [ProvidedMaterial]) -> [FieldViolation] {
        supplied.enumerated().compactMap { index, material in
            let listed = problems.contains { problem in
                problem.requirementCode == material.requirementCode
                    && (problem.implementationCode.isEmpty || material.implementationCodes.isEmpty
                        || material.implementationCodes.contains(problem.implementationCode))
            }
            guard !listed else { return nil }
            let asked = problems.map(\.requirementCode).joined(separator: ", ")
            return FieldViolation(
                field: "materials[\(index)].requirement_code",
                description: "“\(material.requirementCode)” is not on the correction notice, which asks for \(asked); supply only what it lists",
                reason: "correction.not_listed")
        }
    }
}

/// 不予受理 as the clerk asks for it (`RejectApplicationRequest` plus the legal basis).
public struct NotAcceptedDecision: Sendable, Hashable, Codable {
    public var ground: NotAcceptedGround?
    /// Specific reason, required.
    public var reason: String
    /// The provision the refusal rests on, required (e.g. "《中华人民共和国行政许可法》第三十二条第一款第二项").
    public var legalBasis: String
    /// Required for `outsidePowers`: where the applicant should go instead.
    public var competentAgency: String

    public init(ground: NotAcceptedGround?, reason: String, legalBasis: String, competentAgency: String = "") {
        self.ground = ground
        self.reason = reason
        self.legalBasis = legalBasis
        self.competentAgency = competentAgency
    }
}

/// 容缺受理 as the clerk asks for it.
public struct DeficiencyDecision: Sendable, Hashable, Codable {
    /// The materials still missing; must be exactly what the check finds wrong, all non-core.
    public var missing: [MaterialKey]
    /// Working days to supply them (the node default resolved by the caller), at least 1.
    public var supplyWithinDays: Int
    /// The applicant's signed undertaking, as signed.
    public var undertaking: String

    public init(missing: [MaterialKey], supplyWithinDays: Int, undertaking: String) {
        self.missing = missing
        self.supplyWithinDays = supplyWithinDays
        self.undertaking = undertaking
    }
}

/// The terms of an accepted deficiency: what is owed and by when (`DeficiencyTerms`).
public struct DeficiencyTerms: Sendable, Hashable, Codable {
    public let missing: [MaterialProblem]
    /// Cure deadline: `supplyWithinDays` working days after acceptance.
    public let supplyBy: CivilDate
    public let undertaking: String
    public internal(set) var suppliedOn: CivilDate?
}

/// 告知承诺 as the clerk records it (`CommitmentTerms`).
public struct CommitmentDecision: Sendable, Hashable, Codable {
    /// The commitment as signed (承诺书), required.
    public var commitmentText: String
    /// Materials the commitment replaces; every missing material must be among them.
    public var replacedRequirementCodes: [String]
    public var signedFileID: String
    /// When the after-the-fact verification (事后核查) is due (the node's period after acceptance).
    public var verifyBy: CivilDate?

    public init(commitmentText: String, replacedRequirementCodes: [String] = [], signedFileID: String = "", verifyBy: CivilDate? = nil) {
        self.commitmentText = commitmentText
        self.replacedRequirementCodes = replacedRequirementCodes
        self.signedFileID = signedFileID
        self.verifyBy = verifyBy
    }
}

/// What happens to an application at intake. Each act carries its date because the law's
/// periods run from acts, and tests and replays must not read a clock.
public enum IntakeAction: Sendable, Hashable {
    /// 受理: materials complete.
    case accept(on: CivilDate)
    /// 一次性告知补正: every problem the check found, and nothing else; once per application.
    case issueCorrectionNotice(problems: [MaterialProblem], on: CivilDate, onTheSpot: Bool = false)
    /// 不予受理.
    case reject(NotAcceptedDecision, on: CivilDate)
    /// 容缺受理.
    case acceptWithDeficiency(DeficiencyDecision, on: CivilDate)
    /// 告知承诺.
    case acceptByCommitment(CommitmentDecision, on: CivilDate)
    /// The applicant supplies what the notice asked for; back to SUBMITTED, the 5-day clock restarts.
    case supplyCorrection(materials: [ProvidedMaterial], on: CivilDate)
    /// More materials while the application still waits for its decision; the clock is not restarted.
    case supplement(materials: [ProvidedMaterial], on: CivilDate)
    /// After 容缺受理, the missing materials arrive.
    case cureDeficiency(materials: [ProvidedMaterial], on: CivilDate)
    /// The sweeper: 5 working days passed without a decision; accepted from the day of receipt.
    case deemAccept(today: CivilDate)
    /// Withdrawn by the applicant before acceptance.
    case withdraw(reason: String, on: CivilDate)

    /// The act's name in the history and in messages.
    public var name: String {
        switch self {
        case .accept: "accept"
        case .issueCorrectionNotice: "issue_correction_notice"
        case .reject: "reject"
        case .acceptWithDeficiency: "accept_with_deficiency"
        case .acceptByCommitment: "accept_by_commitment"
        case .supplyCorrection: "supply_correction"
        case .supplement: "supplement"
        case .cureDeficiency: "cure_deficiency"
        case .deemAccept: "deem_accept"
        case .withdraw: "withdraw"
        }
    }
}

/// One line of an application's intake history (kept: supplements never overwrite the past).
public struct IntakeHistoryEntry: Sendable, Hashable, Codable {
    public let on: CivilDate
    public let action: String
    public let status: ApplicationStatus
}
