/// A period fixed by law or by node policy, in working days (行政许可法 Art. 82), with the longest
/// extension the law allows. Values are defaults; a node may configure its own where local
/// practice differs (docs/law.md).
public struct StatutoryPeriod: Sendable, Hashable, Codable {
    public let workingDays: Int
    /// The most working days one extension may add; 0 when the period cannot be extended.
    public let maximumExtension: Int

    public init(workingDays: Int, maximumExtension: Int = 0) {
        precondition(workingDays >= 0 && maximumExtension >= 0, "periods are not negative")
        self.workingDays = workingDays
        self.maximumExtension = maximumExtension
    }

    /// Art. 32: accept, refuse or issue the one-time correction notice within 5 days; silence
    /// past them means the application was accepted on the day it was received.
    public static let acceptanceDecision = StatutoryPeriod(workingDays: 5)
    /// Art. 42: decide within 20 days of acceptance; the head may extend once by 10.
    public static let approvalDecision = StatutoryPeriod(workingDays: 20, maximumExtension: 10)
    /// Art. 42 ¶2: joint or centralised handling, 45 days, +15 with the government head's approval.
    public static let jointApprovalDecision = StatutoryPeriod(workingDays: 45, maximumExtension: 15)
    /// Art. 43: a lower-level agency's first review before forwarding (审核转报).
    public static let countyFirstReview = StatutoryPeriod(workingDays: 20)
    /// Art. 44: issue or serve the licence document after a grant.
    public static let certificateIssue = StatutoryPeriod(workingDays: 10)
    // Art. 47's 5 days to request a hearing are the applicant's, in calendar days: not a working-day
    // period of the agency (see `HearingTimeline` in ApprovalRules).
    /// Art. 47: the hearing is held within 20 days of the request.
    public static let hearingHeld = StatutoryPeriod(workingDays: 20)
    /// 审管联动: push each decision to the supervising departments (no national number; default).
    public static let supervisionPush = StatutoryPeriod(workingDays: 1)
    /// 审管联动: the department claims the push (no national number; default).
    public static let supervisionClaim = StatutoryPeriod(workingDays: 1)
    /// 好差评: rectify a bad review (5, 7 or 15 by locality; default 15).
    public static let rectification = StatutoryPeriod(workingDays: 15)
}
