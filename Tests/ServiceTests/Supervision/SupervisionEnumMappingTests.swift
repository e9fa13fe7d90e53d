import SupervisionContracts
import SupervisionRules
import OneSealServiceKit
import Testing

/// Every enum this part of the system maps to the contracts maps case for case, both ways.
@Suite("Supervision: enum mappings to the contracts")
struct SupervisionEnumMappingTests {
    @Test("every supervision enum maps to its proto twin and back")
    func mappings() {
        checkProtoMapping(FindingEffect.self)
        checkProtoMapping(InspectionResult.self)
        checkProtoMapping(PushKind.self)
        checkProtoMapping(PushStatus.self)
        checkProtoMapping(DeliveryMode.self)
    }
}
