/// A person or body that signs off an approval case.
public enum ApprovalRole: String, Sendable, Hashable, Codable, CaseIterable {
    /// 承办人: the officer handling the case.
    case officer
    /// 科室负责人.
    case sectionChief
    /// 分管负责人.
    case deputyDirector
    /// 主要负责人: approves extensions and convenes collective study.
    case director
    /// 集体研究: a recorded meeting of the bureau's leaders.
    case collectiveMeeting

    public var chineseName: String {
        switch self {
        case .officer: "承办人"
        case .sectionChief: "科室负责人"
        case .deputyDirector: "分管负责人"
        case .director: "主要负责人"
        case .collectiveMeeting: "集体研究"
        }
    }
}

/// Who decides an item (分级审批), set per catalogue item: the higher the risk, the longer the
/// chain of sign-offs.
public enum ApprovalTier: String, Sendable, Hashable, Codable, CaseIterable {
    /// 独任审批: the officer decides on the spot (exam-based qualifications, filings, commercial
    /// registration, high-frequency low-risk market access).
    case sole
    /// The section chief decides after the officer's review.
    case section
    /// The deputy director decides after the officer and the section chief.
    case deputy
    /// Major, complex or sensitive matters decided by a recorded meeting of leaders.
    case collective

    /// The sign-offs in order; the last one decides.
    public var signOffChain: [ApprovalRole] {
        switch self {
        case .sole: [.officer]
        case .section: [.officer, .sectionChief]
        case .deputy: [.officer, .sectionChief, .deputyDirector]
        case .collective: [.collectiveMeeting]
        }
    }

    /// The role whose sign-off is the decision.
    public var decidingRole: ApprovalRole { signOffChain.last! }

    public var chineseName: String {
        switch self {
        case .sole: "独任审批"
        case .section: "科室负责人审批"
        case .deputy: "分管负责人审批"
        case .collective: "集体研究"
        }
    }
}
