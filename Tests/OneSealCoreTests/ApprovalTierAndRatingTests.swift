import Testing
import OneSealCore

@Suite("Approval tiers and ratings")
struct ApprovalTierAndRatingTests {
    @Test("each tier's sign-off chain ends with the deciding role")
    func chains() {
        #expect(ApprovalTier.sole.signOffChain == [.officer])
        #expect(ApprovalTier.section.signOffChain == [.officer, .sectionChief])
        #expect(ApprovalTier.deputy.signOffChain == [.officer, .sectionChief, .deputyDirector])
        #expect(ApprovalTier.collective.signOffChain == [.collectiveMeeting])
        #expect(ApprovalTier.deputy.decidingRole == .deputyDirector)
        #expect(ApprovalTier.sole.chineseName == "独任审批")
    }

    @Test("five levels; 1 and 2 are bad reviews")
    func ratings() {
        #expect(Rating.allCases.map(\.chineseName) == ["非常不满意", "不满意", "基本满意", "满意", "非常满意"])
        #expect(Rating.allCases.filter(\.isBadReview) == [.veryDissatisfied, .dissatisfied])
        #expect(Rating(level: 3) == .basicallySatisfied)
        #expect(Rating(level: 0) == nil && Rating(level: 6) == nil)
        #expect(Rating.verySatisfied.level == 5)
        #expect(Rating.dissatisfied < Rating.basicallySatisfied)
    }
}
