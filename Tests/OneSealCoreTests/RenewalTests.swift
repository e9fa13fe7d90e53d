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
}
