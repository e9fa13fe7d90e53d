import OneSealCore
import OneSealServiceKit
import Testing

/// Every enum this part of the system maps to the contracts maps case for case, both ways.
@Suite("Shared (OneSealCore): enum mappings to the contracts")
struct CoreEnumMappingTests {
    @Test("every shared enum maps to its proto twin and back")
    func mappings() {
        checkProtoMapping(ApprovalRole.self)
        checkProtoMapping(ApprovalTier.self)
        checkProtoMapping(SuspensionReason.self)
        checkProtoMapping(WarningLevel.self)
        checkProtoMapping(AdministrativeLevel.self)
        checkProtoMapping(AcceptanceKind.self)
        checkProtoMapping(FindingKind.self)
    }
}
