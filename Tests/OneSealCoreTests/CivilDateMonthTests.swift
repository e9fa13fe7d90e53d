import Testing
@testable import OneSealCore

@Suite("CivilDate month arithmetic")
struct CivilDateMonthTests {
    func date(_ text: String) throws -> CivilDate { try CivilDate(parsing: text) }

    @Test("the same day N months later, clamped to the month's last day, across years and leap years")
    func addingMonths() throws {
        #expect(try date("2026-12-03").adding(months: 36) == (try date("2029-12-03")))
        #expect(try date("2027-01-31").adding(months: 1) == (try date("2027-02-28")))
        #expect(try date("2028-01-31").adding(months: 1) == (try date("2028-02-29")))
        #expect(try date("2026-11-30").adding(months: 3) == (try date("2027-02-28")))
        #expect(try date("2026-03-31").adding(months: -1) == (try date("2026-02-28")))
        #expect(try date("2026-01-15").adding(months: -13) == (try date("2024-12-15")))
        // A five-year licence decided 2026-12-03 runs to 2031-12-02 (the day before).
        #expect(try date("2026-12-03").adding(months: 60).previous == (try date("2031-12-02")))
    }
}
