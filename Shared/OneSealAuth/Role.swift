/// Who a caller is in the bureau. Each RPC method lists the roles that may call it; a token carries
/// exactly one role (a person with two duties gets two tokens, so every action says in which
/// capacity it was taken).
public enum Role: String, CaseIterable, Sendable, Hashable, Codable {
    /// 综合受理窗口: accepts applications, issues receipts and correction notices, hands out results.
    case windowClerk = "window_clerk"
    /// 承办人: reviews a case and writes the first opinion; decides sole-tier items.
    case officer
    /// 科室负责人: signs off section-tier items; convenes element-review meetings.
    case sectionChief = "section_chief"
    /// 分管负责人: signs off deputy-tier items; approves the one extension of the clock.
    case deputyDirector = "deputy_director"
    /// 主要负责人: chairs collective review; may do anything a deputy may.
    case director
    /// 制证中心: oversees licence issuing and printing.
    case certificateOperator = "certificate_operator"
    /// 行业主管部门: a supervising department; sees only its own pushes (token carries the department).
    case department
    /// 效能监督: watches ratings, timeliness and warnings.
    case evaluator
    /// Bureau leaders reading reports.
    case leader
    /// An outside system (provincial platform, another bureau); scoped by its token's node.
    case integrator
    /// Another OneSeal service or node (service-to-service calls, event delivery, forwarding).
    case peerNode = "node"
    /// Operators: catalogue import, audit verification, health.
    case `operator`
    /// A citizen or business looking up its own case or verifying a licence (public endpoints).
    case applicant
}
