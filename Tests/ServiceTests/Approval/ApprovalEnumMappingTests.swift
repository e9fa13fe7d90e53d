import ApprovalContracts
import ApprovalRules
import OneSealServiceKit
import Testing

/// Every enum this part of the system maps to the contracts maps case for case, both ways.
@Suite("Approval: enum mappings to the contracts")
struct ApprovalEnumMappingTests {
    @Test("every approval enum maps to its proto twin and back")
    func mappings() {
        checkProtoMapping(CaseStatus.self)
        checkProtoMapping(StepStatus.self)
        checkProtoMapping(StepConclusion.self)
        checkProtoMapping(JointReviewKind.self)
        checkProtoMapping(Vote.self)
        checkProtoMapping(RevocationGround.self)
        checkProtoMapping(CancellationGround.self)
        checkProtoMapping(HearingPublicity.self)
    }
}
