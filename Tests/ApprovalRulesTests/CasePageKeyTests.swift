import ApprovalRules
import OneSealCore
import Testing

/// The work list's page token (ListCases): what a page hands out comes back as the same key; any
/// other text is no token.
@Suite struct CasePageKeyTests {
    @Test("a key round-trips, with and without a due date; Chinese case numbers survive")
    func roundTrip() throws {
        let dated = CasePageKey(dueOn: CivilDate(year: 2026, month: 12, day: 31), acceptedOn: CivilDate(year: 2026, month: 12, day: 4)!, caseNumber: "371302审〔2026〕00012号")
        #expect(CasePageKey(token: dated.token) == dated)
        let undated = CasePageKey(dueOn: nil, acceptedOn: CivilDate(year: 2026, month: 2, day: 28)!, caseNumber: "C-1")
        #expect(CasePageKey(token: undated.token) == undated)
        #expect(dated.token.hasPrefix("c1.") && dated.token.utf8.count < 120)
    }

    @Test("anything else is refused: an offset, another prefix, a broken date, an empty or overlong number, control characters, non-canonical base64url")
    func refused() {
        func token(_ text: String) -> String { "c1." + Base64URL.encode(Array(text.utf8)) }
        for bad in [
            "50", "", "c2." + Base64URL.encode(Array("-|2026-12-04|C-1".utf8)), token("2026-02-30|2026-12-04|C-1"), token("-|2026-12-04|"),
            token("-|2026-12-04"), token("-|2026-12-04|" + String(repeating: "号", count: 65)), token("-|2026-12-04|C\u{0}1"), token("x|2026-12-04|C-1"),
            "c1.!!!!", String(repeating: "c", count: 201),
        ] {
            #expect(CasePageKey(token: bad) == nil, "accepted \(bad)")
        }
        // The separator may appear in the case number (it is the last field).
        #expect(CasePageKey(token: token("-|2026-12-04|A|B"))?.caseNumber == "A|B")
    }
}
