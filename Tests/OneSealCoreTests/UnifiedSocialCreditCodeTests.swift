import Testing
import OneSealCore

@Suite("Unified social credit code (GB 32100)")
struct UnifiedSocialCreditCodeTests {
    @Test("published codes pass the check")
    func valid() throws {
        // 9 1 1 1 0 0 0 0 6 0 0 0 3 7 3 4 1 × 1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28
        // = 9+3+9+27+0+0+0+0+120+0+0+0+24+168+30+120+28 = 538; 538 mod 31 = 11; 31 − 11 = 20 → L.
        let code = try UnifiedSocialCreditCode("91110000600037341L")
        #expect(code.registrationAuthority == "9" && code.entityType == "1")
        #expect(code.divisionCode == "110000" && code.organizationCode == "600037341")
        #expect(!code.isAllowListedException)
        #expect(try UnifiedSocialCreditCode("91350100M000100Y43").value == "91350100M000100Y43")
        #expect(try UnifiedSocialCreditCode("91350100m000100y43").value == "91350100M000100Y43")
        #expect(UnifiedSocialCreditCode.checkCharacter(forFirst17: "91110000600037341") == "L")
    }

    @Test("check = 31 − (sum mod 31), and 31 is written 0")
    func checkArithmetic() throws {
        // All zeros: sum 0, 31 − 0 = 31 → 0.
        #expect(UnifiedSocialCreditCode.checkCharacter(forFirst17: "00000000000000000") == "0")
        #expect(try UnifiedSocialCreditCode("000000000000000000").value == "000000000000000000")
        // Only the last weight (28): 31 − 28 = 3 → "3".
        #expect(UnifiedSocialCreditCode.checkCharacter(forFirst17: "00000000000000001") == "3")
        // Only the first weight (1): 31 − 1 = 30 → the last letter of the alphabet, "Y".
        #expect(UnifiedSocialCreditCode.checkCharacter(forFirst17: "10000000000000000") == "Y")
        #expect(UnifiedSocialCreditCode.checkCharacter(forFirst17: "1000000000000000O") == nil)
    }

    @Test("invalid codes say why")
    func invalid() {
        #expect(throws: UnifiedSocialCreditCodeError.wrongLength) { try UnifiedSocialCreditCode("91110000600037341") }
        // I, O, S, V, Z are not in the alphabet.
        #expect(throws: UnifiedSocialCreditCodeError.invalidCharacter(position: 9)) { try UnifiedSocialCreditCode("91110000I00037341L") }
        #expect(throws: UnifiedSocialCreditCodeError.invalidCharacter(position: 18)) { try UnifiedSocialCreditCode("91110000600037341Z") }
        #expect(throws: UnifiedSocialCreditCodeError.checksumMismatch(expected: "L", found: "M")) {
            try UnifiedSocialCreditCode("91110000600037341M")
        }
    }

    @Test("pilot codes on the allow-list are accepted despite a wrong check character")
    func allowList() throws {
        let pilot = "91110000600037341M"
        let code = try UnifiedSocialCreditCode(pilot, allowList: [pilot])
        #expect(code.isAllowListedException)
        #expect(throws: UnifiedSocialCreditCodeError.checksumMismatch(expected: "L", found: "M")) {
            try UnifiedSocialCreditCode(pilot, allowList: ["91110000600037341N"])
        }
    }
}
