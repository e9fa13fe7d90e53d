import OneSealCore
import Testing

/// 行政许可法 Art. 49: who may change which matters of a licence, and which changes are reviewed.
@Suite("Licence change (Art. 49)")
struct LicenceChangeTests {
    static let licence = RenewalTests.licence

    func check(_ request: LicenceChangeRequest, licence: RenewableLicence = licence, applicant: String = "91371302MA3C1234X7",
               review: [String] = ["scope"]) -> Result<LicenceChangeRequest, FieldViolations> {
        LicenceChangeEligibility.check(request, licence: licence, applicantCode: applicant, itemLicenceTypeCode: "11100000000013127D001",
                                       reviewMatters: review, decidingNode: "371302")
    }

    @Test("the item's review list splits the changed matters: a new legal representative is recorded, a new scope reviewed")
    func reviewedOrRecorded() throws {
        let recorded = try check(LicenceChangeRequest(licenceID: "", licenceIdentifier: Self.licence.identifier, legalRepresentative: "赵六", place: "兰山区解放路9号")).get()
        #expect(recorded.changed == ["legal_representative", "place"])
        #expect(recorded.isRecordedOnly)
        #expect(recorded.licenceID == "l-1" && recorded.licenceNumber == "PS2026000017")
        #expect(recorded.summary == "法定代表人 → 赵六；地址 → 兰山区解放路9号")
        let reviewed = try check(LicenceChangeRequest(licenceID: "", licenceIdentifier: Self.licence.identifier, place: "兰山区解放路9号", scope: "排放生活污水")).get()
        #expect(reviewed.reviewed == ["scope"])
        #expect(!reviewed.isRecordedOnly)
    }

    @Test("nothing to change, another holder, or a licence no longer in force: refused, each naming its field")
    func refusals() {
        func reasons(_ result: Result<LicenceChangeRequest, FieldViolations>) -> [String] {
            if case .failure(let problems) = result { return problems.all.map(\.reason) }
            return []
        }
        let empty = LicenceChangeRequest(licenceID: "", licenceIdentifier: Self.licence.identifier, holderName: "  ")
        #expect(reasons(check(empty)) == ["change.nothing"])
        let place = LicenceChangeRequest(licenceID: "", licenceIdentifier: Self.licence.identifier, place: "兰山区解放路9号")
        #expect(reasons(check(place, applicant: "91371302MA3C9999X1")) == ["change.not_holder"])
        var superseded = Self.licence
        superseded.inForce = false
        superseded.statusText = "已换发"
        #expect(reasons(check(place, licence: superseded)) == ["change.not_in_force"])
    }
}
