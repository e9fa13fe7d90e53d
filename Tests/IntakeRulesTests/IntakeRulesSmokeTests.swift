import Testing

@testable import IntakeRules

@Suite("Intake rules module")
struct IntakeRulesSmokeTests {
    @Test("the module links") func links() { #expect(String(describing: IntakeRules.self) == "IntakeRules") }
}
