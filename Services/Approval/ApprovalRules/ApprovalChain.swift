import OneSealCore

/// The sign-off chain a case walks, by tier. Built on `ApprovalTier.signOffChain` with two
/// additions (docs/decisions.md A2): every chain starts with the officer's review (承办), and a
/// collective study is followed by the director's signature (集体研究 → 主要负责人签发), because the
/// meeting resolves and the head signs the decision.
public enum ApprovalChain {
    public static func roles(for tier: ApprovalTier) -> [ApprovalRole] {
        var roles = tier.signOffChain
        if roles.first != .officer { roles.insert(.officer, at: 0) }
        if tier == .collective, roles.last != .director { roles.append(.director) }
        return roles
    }

    /// The role whose holder issues the decision.
    public static func decidingRole(for tier: ApprovalTier) -> ApprovalRole { roles(for: tier).last! }
}

/// The two clocks of a case: the promised limit (承诺时限, what the bureau publishes and the case is
/// judged on) and the statutory limit (法定时限, Art. 42: 20 working days, 45 for joint handling).
/// Both start the day after acceptance, stop for the same suspensions and take the same extension.
public struct CaseClocks: Sendable, Hashable, Codable {
    public var promised: StatutoryClock
    public var statutory: StatutoryClock

    public init(acceptedOn: CivilDate, item: ItemSnapshot) {
        let base = item.jointHandling ? StatutoryPeriod.jointApprovalDecision : StatutoryPeriod.approvalDecision
        let statutoryDays = item.statutoryDays > 0 ? item.statutoryDays : base.workingDays
        let promisedDays = item.promisedDays > 0 ? min(item.promisedDays, statutoryDays) : statutoryDays
        // `try!` is safe: no extension and no suspension can violate the clock's checks.
        self.statutory = try! StatutoryClock(actDate: acceptedOn, period: StatutoryPeriod(workingDays: statutoryDays, maximumExtension: base.maximumExtension))
        self.promised = try! StatutoryClock(actDate: acceptedOn, period: StatutoryPeriod(workingDays: promisedDays, maximumExtension: base.maximumExtension))
    }

    public var maximumExtension: Int { statutory.period.maximumExtension }
}
