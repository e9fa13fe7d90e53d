import Foundation
import Testing
import OneSealCore

@Suite("CivilDate")
struct CivilDateTests {
    @Test("parses and formats YYYY-MM-DD both ways")
    func roundTrip() throws {
        let date = try CivilDate(parsing: "2026-02-13")
        #expect(date.year == 2026 && date.month == 2 && date.day == 13)
        #expect(date.description == "2026-02-13")
        #expect(CivilDate(year: 7, month: 3, day: 9)?.iso8601 == "0007-03-09")
        #expect(CivilDate("2026-2-13") == nil)
    }

    @Test("rejects malformed and nonexistent dates with a reason")
    func rejects() {
        #expect(throws: CivilDateError.invalidFormat("2026/02/13")) { try CivilDate(parsing: "2026/02/13") }
        #expect(throws: CivilDateError.invalidFormat("2026-02-1x")) { try CivilDate(parsing: "2026-02-1x") }
        // 2026 is not a leap year (not divisible by 4); 2000 is (divisible by 400); 1900 is not.
        #expect(throws: CivilDateError.nonexistentDate("2026-02-29")) { try CivilDate(parsing: "2026-02-29") }
        #expect(CivilDate(year: 2000, month: 2, day: 29) != nil)
        #expect(CivilDate(year: 1900, month: 2, day: 29) == nil)
        #expect(CivilDate(year: 2026, month: 4, day: 31) == nil)
    }

    @Test("adds days across month, year and leap-day boundaries")
    func arithmetic() {
        #expect(day("2026-02-28").adding(days: 1) == day("2026-03-01"))
        #expect(day("2024-02-28").adding(days: 1) == day("2024-02-29"))
        #expect(day("2026-12-31").next == day("2027-01-01"))
        #expect(day("2026-01-01").previous == day("2025-12-31"))
        // 2025 has 365 days.
        #expect(day("2025-01-01").days(until: day("2026-01-01")) == 365)
        #expect(day("1970-01-01").daysSinceEpoch == 0)
        #expect(CivilDate(daysSinceEpoch: day("2026-10-10").daysSinceEpoch) == day("2026-10-10"))
        #expect(day("2026-02-13") < day("2026-02-14") && day("2025-12-31") < day("2026-01-01"))
    }

    @Test("knows the weekday")
    func weekday() {
        #expect(day("1970-01-01").weekday == .thursday)
        #expect(day("2026-01-01").weekday == .thursday)
        #expect(day("2026-02-13").weekday == .friday)
        #expect(day("2026-02-14").weekday == .saturday)
        #expect(day("2026-09-20").weekday == .sunday)
        #expect(day("2000-02-29").weekday == .tuesday)
    }

    @Test("converts instants in Beijing time, not UTC")
    func shanghai() {
        // 2026-02-13T16:30:00Z is 2026-02-14 00:30 in Beijing (UTC+8).
        let halfPastMidnight = Date(timeIntervalSince1970: 1_770_998_400 + 1800)
        #expect(CivilDate(halfPastMidnight) == day("2026-02-14"))
        #expect(CivilDate(halfPastMidnight, in: TimeZone(identifier: "UTC")!) == day("2026-02-13"))
        // 2026-02-13 ends at 2026-02-14 00:00 Beijing = 2026-02-13T16:00:00Z = 1770998400.
        #expect(day("2026-02-13").endOfDayInstant() == Date(timeIntervalSince1970: 1_770_998_400))
        #expect(day("2026-02-13").startOfDayInstant() == Date(timeIntervalSince1970: 1_770_998_400 - 86_400))
        #expect(CivilDate.today(now: Date(timeIntervalSince1970: 1_770_998_399)) == day("2026-02-13"))
    }

    @Test("encodes as a plain date string")
    func codable() throws {
        let data = try JSONEncoder().encode([day("2026-10-10")])
        #expect(String(decoding: data, as: UTF8.self) == #"["2026-10-10"]"#)
        #expect(try JSONDecoder().decode([CivilDate].self, from: data) == [day("2026-10-10")])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([CivilDate].self, from: Data(#"["2026-02-30"]"#.utf8)) }
    }
}
