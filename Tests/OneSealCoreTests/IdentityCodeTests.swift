import OneSealCore
import Testing

@Suite("Identity codes as people type them")
struct IdentityCodeTests {
    static let today = CivilDate(year: 2026, month: 12, day: 4)!

    @Test("trimmed, upper case, full-width forms made ASCII: one code however it was typed")
    func normalized() {
        #expect(IdentityCode.normalized(" 91371302ma3c1234x7\n") == "91371302MA3C1234X7")
        #expect(IdentityCode.normalized("９１３７１３０２ＭＡ３Ｃ１２３４Ｘ７") == "91371302MA3C1234X7")
        #expect(IdentityCode.normalized("\u{3000}11010519491231002ｘ\u{3000}") == "11010519491231002X")
        #expect(IdentityCode.normalized("91371302MA3C1234X7") == "91371302MA3C1234X7")
        // Nothing is guessed: an inner space and a letter O stay, so the check names them.
        #expect(IdentityCode.normalized("9137 1302") == "9137 1302")
        #expect(IdentityCode.normalized("9137o") == "9137O")
        #expect(IdentityCode.normalized("张三") == "张三")
        #expect(IdentityCode.normalized("  ") == "")
    }

    @Test("a lower-case x and a full-width number check as the stored code; the validators themselves stay strict")
    func checkedAfterNormalising() throws {
        let typed = "１１０１０５１９４９１２３１００２ｘ "
        #expect(throws: ResidentIDError.self) { try ResidentID(typed, today: Self.today) }
        #expect(try ResidentID(IdentityCode.normalized(typed), today: Self.today).value == "11010519491231002X")
        #expect(try ResidentID(IdentityCode.normalized("11010519491231002x"), today: Self.today).value == IdentityCode.normalized("11010519491231002X"))
        #expect(try UnifiedSocialCreditCode(IdentityCode.normalized(" ９１１１００００６０００３７３４１Ｌ")).value == "91110000600037341L")
    }
}
