import OneSealCore
import Testing

/// 行政许可法 Art. 50 with real dates (the 2026 national holiday calendar).
@Suite("Renewal (Art. 50)")
struct RenewalTests {
    let window = RenewalWindow(validUntil: day("2026-12-31"))

    @Test("applied 31 and 30 days before expiry: in time; 29 days: late, naming the last day")
    func thirtyDays() {
        #expect(window.lastDayToApply == day("2026-12-01"))
        #expect(window.check(appliedOn: day("2026-11-30")) == .inTime(daysBeforeExpiry: 31))
        #expect(window.check(appliedOn: day("2026-12-01")) == .inTime(daysBeforeExpiry: 30))
        #expect(window.check(appliedOn: day("2026-12-02")) == .late(lastDay: day("2026-12-01"), daysBeforeExpiry: 30))
        #expect(window.check(appliedOn: day("2027-01-01")) == .expired(validUntil: day("2026-12-31")))
        #expect(window.check(appliedOn: day("2026-12-02")).description.contains("2026-12-01"))
    }

    @Test("an item's own period replaces the 30 days")
    func itemPeriod() {
        let sixty = RenewalWindow(validUntil: day("2026-12-31"), daysBeforeExpiry: 60)
        #expect(sixty.lastDayToApply == day("2026-11-01"))
        #expect(sixty.check(appliedOn: day("2026-11-01")).isInTime)
        #expect(!sixty.check(appliedOn: day("2026-11-02")).isInTime)
    }

    @Test("deemed granted the day after a last valid day that falls in the National Day holiday; the new validity follows without a gap")
    func deemedAcrossHoliday() throws {
        let window = RenewalWindow(validUntil: day("2026-10-03"))
        #expect(try !WorkingDayCalendar.china.isWorkingDay(day("2026-10-03")))
        #expect(window.decisionDueBy == day("2026-10-03"))  // not moved off the holiday
        #expect(!window.isDeemedGranted(undecidedAsOf: day("2026-10-03")))
        #expect(window.isDeemedGranted(undecidedAsOf: day("2026-10-04")))
        #expect(window.renewedFrom == day("2026-10-04"))
        #expect(window.renewedValidUntil(months: 36) == day("2029-10-03"))
        #expect(window.renewedValidUntil(months: 0) == nil)
    }

    @Test("a renewal from 1 March runs to the end of February, leap day included")
    func leapYear() {
        let window = RenewalWindow(validUntil: day("2027-02-28"))
        #expect(window.renewedValidUntil(months: 12) == day("2028-02-29"))
    }

    @Test("the renewed licence keeps its serial, advances the version and gets a new check character")
    func versionAdvances() throws {
        let typeCode = "11100000000013127D001"
        let issuer = "11371302MB2850286Q"
        let old = try LicenceIdentifier(typeCode: typeCode, issuer: issuer, serial: "2026000017", version: 1)
        let renewed = try LicenceIdentifier(typeCode: typeCode, issuer: issuer, serial: old.serial, version: old.version + 1)
        #expect(renewed.description.hasPrefix("1.2.156.3005.2.\(typeCode).\(issuer).2026000017.002."))
        #expect(renewed.checkCharacter == ISO7064.mod37_36CheckCharacter(for: typeCode + issuer + "2026000017" + "002"))
        #expect(try LicenceIdentifier(parsing: renewed.description) == renewed)
        // The old identifier with the new version but the old check character is refused.
        let forged = "1.2.156.3005.2.\(typeCode).\(issuer).2026000017.002.\(old.checkCharacter)"
        if old.checkCharacter != renewed.checkCharacter {
            #expect(throws: LicenceIdentifierError.self) { try LicenceIdentifier(parsing: forged) }
        }
    }

    static let licence = RenewableLicence(
        licenceID: "l-1", identifier: "1.2.156.3005.2.11100000000013127D001.11371302MB2850286Q.2026000017.001.X", number: "PS2026000017",
        typeCode: "11100000000013127D001", name: "城镇污水排入排水管网许可证", holderCode: "91371302MA3C1234X7",
        inForce: true, statusText: "有效", validUntil: day("2026-12-31"), issuingNode: "371302")

    func eligibility(_ licence: RenewableLicence = licence, applicant: String = "91371302MA3C1234X7", type: String = "11100000000013127D001",
                     days: Int? = nil, node: String = "371302", on date: String) -> Result<RenewalSubject, FieldViolations> {
        RenewalEligibility.check(licence, applicantCode: applicant, itemLicenceTypeCode: type, daysBeforeExpiry: days, decidingNode: node, appliedOn: day(date))
    }

    func reasons(_ result: Result<RenewalSubject, FieldViolations>) -> [String] {
        if case .failure(let problems) = result { return problems.all.map(\.reason) }
        return []
    }

    @Test("received 31 and 30 days before expiry with the window carried; 29 days refused on renewal_of with the last day named")
    func eligibilityDays() throws {
        let thirtyOne = try eligibility(on: "2026-11-30").get()
        #expect(thirtyOne.window.lastDayToApply == day("2026-12-01"))
        #expect(thirtyOne.window.renewedFrom == day("2027-01-01"))
        #expect(thirtyOne.appliedOn == day("2026-11-30"))
        #expect((try? eligibility(on: "2026-12-01").get()) != nil)
        guard case .failure(let late) = eligibility(on: "2026-12-02") else { Issue.record("29 days before expiry was accepted"); return }
        #expect(late.all.map(\.field) == ["renewal_of"])
        #expect(late.all.map(\.reason) == ["renewal.late"])
        #expect(late.all[0].description.contains("2026-12-01"))
        #expect(reasons(eligibility(on: "2027-01-01")) == ["renewal.expired"])
        // The item's own period (60 days) replaces Art. 50's 30.
        #expect(reasons(eligibility(days: 60, on: "2026-11-01")) == [])
        #expect(reasons(eligibility(days: 60, on: "2026-11-02")) == ["renewal.late"])
    }

    @Test("only the holder, for the item that issued it, at the agency that granted it, while it is in force")
    func eligibilityParties() {
        #expect(reasons(eligibility(applicant: "91371302MA3C9999X1", on: "2026-11-01")) == ["renewal.not_holder"])
        #expect(reasons(eligibility(type: "11100000000013338W001", on: "2026-11-01")) == ["renewal.other_item"])
        #expect(reasons(eligibility(node: "371300", on: "2026-11-01")) == ["renewal.other_agency"])
        var revoked = Self.licence
        revoked.inForce = false
        revoked.statusText = "已撤销"
        #expect(reasons(eligibility(revoked, on: "2026-11-01")) == ["renewal.not_in_force"])
        var longTerm = Self.licence
        longTerm.validUntil = nil
        #expect(reasons(eligibility(longTerm, on: "2026-11-01")) == ["renewal.long_term"])
    }
}
