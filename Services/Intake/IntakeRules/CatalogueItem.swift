import OneSealCore

/// One item of the catalogue (事项 / 办事指南), the rules an application is held to. Mirrors
/// `intake.v1.Item` without the service's bookkeeping (version, change note, who and when): those
/// belong to `ItemVersion` and the store, so that two publications of the same content compare equal.
public struct CatalogueItem: Sendable, Hashable, Codable {
    /// 基本编码, nationally unified.
    public var basicCode: String
    /// 实施编码: this node's implementation of the item, its id in the catalogue.
    public var implementationCode: String
    public var name: String
    /// 设定依据: law name and article, as displayed.
    public var legalBasis: String
    public var type: ItemType?
    /// 行使层级; a node implements city or county items.
    public var level: AdministrativeLevel?
    public var competentDepartment: DepartmentRef
    /// The sign-off chain of its approval cases.
    public var tier: ApprovalTier?
    /// 法定办结时限, working days from acceptance.
    public var statutoryDays: Int
    /// 承诺办结时限, working days, never more than the statutory limit.
    public var promisedDays: Int
    public var materials: [Material]
    public var acceptanceConditions: String
    public var process: String
    /// 告知承诺 permitted.
    public var commitmentAllowed: Bool
    /// 容缺受理 permitted (only for its materials marked `deficiencyAllowed`).
    public var deficiencyAllowed: Bool
    public var instantApprovalAllowed: Bool
    public var instantRuleSet: String
    /// The node that decides the item; a county window forwards city items to it (审核转报).
    public var implementingNode: NodeRef
    /// Result licence type code (证照类型代码: agency USCC + 3 digits), empty when no licence results.
    public var licenceTypeCode: String
    public var licenceName: String
    /// Months of validity of the result licence; 0 = long-term.
    public var licenceValidityMonths: Int
    /// 审批结果名称.
    public var resultName: String
    public var specialProcedures: [SpecialProcedure]
    public var fees: [Fee]
    /// 到现场次数: 0 = fully online.
    public var maxVisits: Int
    /// Art. 42 ¶2 joint or centralised handling (45 days, +15).
    public var jointHandling: Bool
    /// Inactive items stay for running cases but cannot be applied for.
    public var active: Bool
    /// Days before expiry a renewal must be applied for when a law, regulation or rule sets another
    /// period than Art. 50's 30; nil = 30. Optional so items stored before it decode unchanged.
    public var renewalDaysBeforeExpiry: Int?
    /// Matters whose change (变更, Art. 49) needs the sign-off chain's review ("holder_name",
    /// "legal_representative", "place", "scope"); changes of the others are only recorded. nil = none
    /// (every change recorded); optional so items stored before it decode unchanged.
    public var changeReviewMatters: [String]?

    public init(
        basicCode: String, implementationCode: String, name: String, legalBasis: String,
        type: ItemType? = .licensing, level: AdministrativeLevel?, competentDepartment: DepartmentRef,
        tier: ApprovalTier?, statutoryDays: Int, promisedDays: Int, materials: [Material],
        acceptanceConditions: String = "", process: String = "", commitmentAllowed: Bool = false,
        deficiencyAllowed: Bool = false, instantApprovalAllowed: Bool = false, instantRuleSet: String = "",
        implementingNode: NodeRef, licenceTypeCode: String = "", licenceName: String = "",
        licenceValidityMonths: Int = 0, resultName: String, specialProcedures: [SpecialProcedure] = [],
        fees: [Fee] = [], maxVisits: Int = 1, jointHandling: Bool = false, active: Bool = true,
        renewalDaysBeforeExpiry: Int? = nil, changeReviewMatters: [String]? = nil
    ) {
        self.basicCode = basicCode
        self.implementationCode = implementationCode
        self.name = name
        self.legalBasis = legalBasis
        self.type = type
        self.level = level
        self.competentDepartment = competentDepartment
        self.tier = tier
        self.statutoryDays = statutoryDays
        self.promisedDays = promisedDays
        self.materials = materials
        self.acceptanceConditions = acceptanceConditions
        self.process = process
        self.commitmentAllowed = commitmentAllowed
        self.deficiencyAllowed = deficiencyAllowed
        self.instantApprovalAllowed = instantApprovalAllowed
        self.instantRuleSet = instantRuleSet
        self.implementingNode = implementingNode
        self.licenceTypeCode = licenceTypeCode
        self.licenceName = licenceName
        self.licenceValidityMonths = licenceValidityMonths
        self.resultName = resultName
        self.specialProcedures = specialProcedures
        self.fees = fees
        self.maxVisits = maxVisits
        self.jointHandling = jointHandling
        self.active = active
        self.renewalDaysBeforeExpiry = renewalDaysBeforeExpiry
        self.changeReviewMatters = changeReviewMatters
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case basicCode = "basic_code"
        case implementationCode = "implementation_code"
        case name
        case legalBasis = "legal_basis"
        case type, level
        case competentDepartment = "competent_department"
        case tier
        case statutoryDays = "statutory_days"
        case promisedDays = "promised_days"
        case materials
        case acceptanceConditions = "acceptance_conditions"
        case process
        case commitmentAllowed = "commitment_allowed"
        case deficiencyAllowed = "deficiency_allowed"
        case instantApprovalAllowed = "instant_approval_allowed"
        case instantRuleSet = "instant_rule_set"
        case implementingNode = "implementing_node"
        case licenceTypeCode = "licence_type_code"
        case licenceName = "licence_name"
        case licenceValidityMonths = "licence_validity_months"
        case resultName = "result_name"
        case specialProcedures = "special_procedures"
        case fees
        case maxVisits = "max_visits"
        case jointHandling = "joint_handling"
        case active
        case renewalDaysBeforeExpiry = "renewal_days_before_expiry"
        case changeReviewMatters = "change_review_matters"
    }

    /// The material with `code`, if the item lists it.
    public func material(code: String) -> Material? { materials.first { $0.code == code } }

    /// The approval period: the item's statutory days, extendable once by 10 (Art. 42), or by 15
    /// under joint handling (Art. 42 ¶2).
    public var approvalPeriod: StatutoryPeriod {
        StatutoryPeriod(workingDays: statutoryDays, maximumExtension: jointHandling ? 15 : 10)
    }
}
