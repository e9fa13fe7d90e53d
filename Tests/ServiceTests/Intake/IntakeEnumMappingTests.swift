import IntakeContracts
import IntakeRules
import OneSealServiceKit
import Testing

/// Every enum this part of the system maps to the contracts maps case for case, both ways.
@Suite("Intake: enum mappings to the contracts")
struct IntakeEnumMappingTests {
    @Test("every intake enum maps to its proto twin and back")
    func mappings() {
        checkProtoMapping(ItemType.self)
        checkProtoMapping(MaterialForm.self)
        checkProtoMapping(MaterialSource.self)
        checkProtoMapping(SpecialProcedure.self)
        checkProtoMapping(MaterialProblemKind.self)
        checkProtoMapping(NotAcceptedGround.self)
        checkProtoMapping(IntakeOutcome.self)
        checkProtoMapping(ApplicationStatus.self)
        checkProtoMapping(ItemProgress.self)
        checkProtoMapping(ApplicantKind.self)
        checkProtoMapping(IdType.self)
        checkProtoMapping(DeliveryMethod.self)
    }
}
