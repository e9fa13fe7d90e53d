import Testing
import OneSealCore

@Suite("Resident ID (GB 11643)")
struct ResidentIDTests {
    let today = day("2026-03-01")

    @Test("the well-known example 11010519491231002X is valid, female, born 1949-12-31")
    func knownExample() throws {
        // Digits × weights: 1·7 + 1·9 + 0·10 + 1·5 + 0·8 + 5·4 + 1·2 + 9·1 + 4·6 + 9·3 + 1·7 + 2·9
        // + 3·10 + 1·5 + 0·8 + 0·4 + 2·2 = 167; 167 mod 11 = 2; "10X98765432"[2] = X.
        let id = try ResidentID("11010519491231002X", today: today)
        #expect(id.birthDate == day("1949-12-31"))
        #expect(id.sex == .female)  // digit 17 is 2, even
        #expect(id.addressCode == "110105")
        #expect(id.masked == "110105********002X")
        #expect("\(id)" == "110105********002X")
        #expect(try ResidentID("11010519491231002x", today: today).value == "11010519491231002X")
    }

    @Test("check digits computed from real-looking numbers validate")
    func computed() throws {
        // 440305 (Shenzhen Nanshan), born 1990-03-07, sequence 123 (odd: male).
        // 4·7 + 4·9 + 0·10 + 3·5 + 0·8 + 5·4 + 1·2 + 9·1 + 9·6 + 0·3 + 0·7 + 3·9 + 0·10 + 7·5
        // + 1·8 + 2·4 + 3·2 = 28+36+0+15+0+20+2+9+54+0+0+27+0+35+8+8+6 = 248;
        // 248 mod 11 = 6 (242 = 22·11); "10X98765432"[6] = "6".
        #expect(ResidentID.checkCharacter(forFirst17: "44030519900307123") == "6")
        let man = try ResidentID("440305199003071236", today: today)
        #expect(man.sex == .male && man.birthDate == day("1990-03-07"))
        // 371302 (Linyi Lanshan), born 2000-02-29 (a leap day), sequence 004 (even: female).
        let first17 = "37130220000229004"
        let check = try #require(ResidentID.checkCharacter(forFirst17: first17))
        let woman = try ResidentID(first17 + String(check), today: today)
        #expect(woman.sex == .female && woman.birthDate == day("2000-02-29"))
        #expect(ResidentID.checkCharacter(forFirst17: "3713022000022900A") == nil)
    }

    @Test("each invalid reason")
    func invalid() {
        #expect(throws: ResidentIDError.wrongLength) { try ResidentID("11010519491231002", today: today) }
        #expect(throws: ResidentIDError.wrongLength) { try ResidentID("110105491231002", today: today) }
        #expect(throws: ResidentIDError.invalidCharacter(position: 5)) { try ResidentID("1101A519491231002X", today: today) }
        #expect(throws: ResidentIDError.invalidCharacter(position: 17)) { try ResidentID("1101051949123100X2", today: today) }
        #expect(throws: ResidentIDError.invalidCharacter(position: 18)) { try ResidentID("11010519491231002Y", today: today) }
        #expect(throws: ResidentIDError.invalidCharacter(position: 1)) { try ResidentID("１1010519491231002X", today: today) }
        // Month 13, and 1949-02-29 (1949 is not a leap year).
        #expect(throws: ResidentIDError.invalidBirthDate) { try ResidentID("110105194913310020", today: today) }
        #expect(throws: ResidentIDError.invalidBirthDate) { try ResidentID("110105194902290020", today: today) }
        // Born 2026-05-01, after the day of checking (2026-03-01), even with a correct check digit.
        let future = "11010520260501002"
        let check = ResidentID.checkCharacter(forFirst17: future)!
        #expect(throws: ResidentIDError.invalidBirthDate) { try ResidentID(future + String(check), today: today) }
        #expect(throws: Never.self) { try ResidentID(future + String(check), today: day("2026-05-01")) }
        #expect(throws: ResidentIDError.checksumMismatch(expected: "X", found: "1")) {
            try ResidentID("110105194912310021", today: today)
        }
        // One mistyped digit (…1231 → …1213 is a real date) is caught by the check character.
        #expect(throws: ResidentIDError.self) { try ResidentID("11010519491213002X", today: today) }
    }

    @Test("error messages are readable")
    func messages() {
        #expect(ResidentIDError.checksumMismatch(expected: "X", found: "1").description.contains("should be X"))
        #expect(ResidentIDError.invalidCharacter(position: 18).description.contains("digit or X"))
        #expect(ResidentID.mask("110105194912310021") == "110105********0021")
    }
}
