import OneSealCore
import Testing

@testable import IntakeRules

@Suite("Applicant validation")
struct ApplicantTests {
    let today = day("2026-11-23")
    let validator = ApplicantValidator()

    func person(id: String = "11010519491231002X", phone: String = "13812345678", name: String = "张伟") -> Applicant {
        Applicant(kind: .naturalPerson, name: name, idType: .residentID, idNumber: id, phone: phone)
    }

    func company(uscc: String = "91110000600037341L") -> Applicant {
        Applicant(kind: .legalPerson, name: "临沂市某某餐饮有限公司", idType: .uscc, idNumber: uscc,
                  legalRepresentative: "李强", contactName: "王芳", contactPhone: "0539-8123456")
    }

    @Test("valid natural and legal persons pass")
    func valid() throws {
        try validator.validate(person(), today: today)
        try validator.validate(person(phone: "0539 8123456"), today: today)
        try validator.validate(person(phone: "+86 13912345678"), today: today)
        try validator.validate(company(), today: today)
    }

    @Test("a resident ID with a wrong check character is named with its reason")
    func badResidentID() {
        let found = validator.violations(of: person(id: "110105194912310021"), today: today)
        #expect(found.map(\.field) == ["applicant.id_number"])
        #expect(found.first?.reason == "id_number.checksum")
        #expect(validator.violations(of: person(id: "11010519491231"), today: today).first?.reason == "id_number.length")
        // Born "2030-01-01": a future birth date.
        let future = "1101052030010100" + "1"
        let check = ResidentID.checkCharacter(forFirst17: future)!
        #expect(validator.violations(of: person(id: future + String(check)), today: today).first?.reason == "id_number.birth_date")
    }

    @Test("every violation of a natural person at once")
    func allAtOnce() {
        let found = validator.violations(of: person(id: "", phone: "12345", name: ""), today: today)
        #expect(found.map(\.text) == [
            "applicant.name: required",
            "applicant.id_number: required",
            "applicant.phone: “12345” is neither a mobile number (11 digits starting 13–19) nor a landline with area code (e.g. 0539-8123456)",
        ])
        var noKind = person()
        noKind.kind = nil
        #expect(validator.violations(of: noKind, today: today).map(\.field) == ["applicant.kind"])
        var wrongType = person()
        wrongType.idType = .uscc
        #expect(validator.violations(of: wrongType, today: today).map(\.reason) == ["id_type.mismatch"])
    }

    @Test("a bad USCC is refused unless the node allow-lists it")
    func badUSCC() throws {
        let bad = company(uscc: "91110000600037341X")
        let found = validator.violations(of: bad, today: today)
        #expect(found.map(\.field) == ["applicant.id_number"])
        #expect(found.first?.reason == "id_number.checksum")
        #expect(found.first?.description.contains("should be L") == true)
        try ApplicantValidator(usccAllowList: ["91110000600037341x"]).validate(bad, today: today)
        #expect(validator.violations(of: company(uscc: "91110000600037341I"), today: today).first?.reason == "id_number.character")
    }

    @Test("a legal person needs a USCC, a legal representative and a contact")
    func legalPersonFields() {
        let bare = Applicant(kind: .legalPerson, name: "", idType: .residentID, idNumber: "", contactPhone: "5551234")
        let error = intakeError { try validator.validate(bare, today: today) }
        #expect(error?.fieldViolations.map(\.field) == [
            "applicant.name", "applicant.id_type", "applicant.id_number", "applicant.legal_representative",
            "applicant.contact_name", "applicant.contact_phone",
        ])
        #expect(error?.statusCodeName == "INVALID_ARGUMENT")
    }

    @Test("phone numbers: mobile 1[3-9] + 9 digits or a landline with area code")
    func phones() {
        for good in ["13800138000", "19912345678", "010-12345678", "0539-8123456", "05398123456", "0539-8123456-801", "+8613800138000"] {
            #expect(PhoneNumber.isValid(good), "\(good)")
        }
        for bad in ["12800138000", "1380013800", "8123456", "0539-123", "abc", "", "010-12345678-1234567"] {
            #expect(!PhoneNumber.isValid(bad), "\(bad)")
        }
    }
}
