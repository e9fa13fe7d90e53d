import EvaluationContracts
import EvaluationRules
import OneSealServiceKit
import Testing

/// Every enum this part of the system maps to the contracts maps case for case, both ways.
@Suite("Evaluation: enum mappings to the contracts")
struct EvaluationEnumMappingTests {
    @Test("every evaluation enum maps to its proto twin and back")
    func mappings() {
        checkProtoMapping(RatingChannel.self)
        checkProtoMapping(Indicator.self)
        checkProtoMapping(RectificationTicket.Status.self)
        checkProtoMapping(Appeal.Status.self)
        checkProtoMapping(CaseFileReview.Grade.self)
    }
}
