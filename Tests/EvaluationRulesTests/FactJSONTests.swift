import Foundation
import OneSealCore
import Testing

@testable import EvaluationRules

/// `FactJSON` reads the stored facts without Codable (a node's first whole load, #21). It must read
/// every text exactly as `JSONDecoder` does, or not at all (nil: the caller then uses `JSONDecoder`).
@Suite("FactJSON reads a fact as JSONDecoder does, or declines")
struct FactJSONTests {
    /// Every fact with every optional set.
    static var fullApplication: ApplicationFact {
        var fact = ApplicationFact(id: "3f1c0a52-6f0e-4a55-9d4e-2b8c5a1d7e90")
        fact.number = "LS20261204000123"
        fact.node = "371302"
        fact.nodeName = "临沂市兰山区行政审批服务局"
        fact.windowID = "W3"
        fact.channel = "online"
        fact.submittedOn = day("2026-11-30")
        fact.acceptedOn = day("2026-12-01")
        fact.acceptanceKind = "complete"
        fact.acceptedBy = StaffRef(subject: "clerk-3", name: "窗口三")
        fact.correctionOn = day("2026-12-01")
        fact.notAcceptedOn = day("2026-12-02")
        fact.withdrawnOn = day("2026-12-03")
        fact.forwardedOn = day("2026-12-04")
        fact.deliveredOn = day("2026-12-07")
        fact.visits = 2
        fact.items = ["11371302MB2850286Q4000112001000", "B002"]
        fact.itemNames = ["11371302MB2850286Q4000112001000": "食品经营许可", "B002": "药品零售许可"]
        fact.itemDepartments = ["11371302MB2850286Q4000112001000": Department(code: "SCJG", name: "市场准入科")]
        fact.caseIDs = ["c-1", "c-2"]
        fact.applicantIndex = String(repeating: "ab", count: 32)
        return fact
    }

    static var fullCase: CaseFact {
        var fact = CaseFact(id: "c-1")
        fact.number = "SP-371302-2026-000123"
        fact.applicationID = "3f1c0a52-6f0e-4a55-9d4e-2b8c5a1d7e90"
        fact.applicationNumber = "LS20261204000123"
        fact.implementationCode = "11371302MB2850286Q4000112001000"
        fact.itemName = "食品经营许可"
        fact.acceptingNode = "371302"
        fact.decidingNode = "371300"
        fact.nodeNames = ["371302": "兰山区", "371300": "临沂市"]
        fact.department = Department(code: "SCJG", name: "市场准入科")
        fact.officer = StaffRef(subject: "officer-7", name: "经办人")
        fact.acceptedOn = day("2026-12-01")
        fact.openedOn = day("2026-12-01")
        fact.clockStartedOn = day("2026-12-02")
        fact.dueOn = day("2026-12-29")
        fact.workingDaysTotal = 20
        fact.suspended = true
        fact.extended = true
        fact.returns = 1
        fact.decidedOn = day("2026-12-10")
        fact.granted = false
        fact.onTime = true
        fact.workingDaysTaken = 7
        fact.withdrawnOn = day("2026-12-11")
        fact.revokedOn = day("2026-12-12")
        fact.cancelledOn = day("2026-12-13")
        fact.licenceIssuedOn = day("2026-12-14")
        fact.licenceWorkingDays = 0
        fact.applicantIndex = String(repeating: "cd", count: 32)
        return fact
    }

    static var fullPush: PushFact {
        var fact = PushFact(id: "p-1")
        fact.node = "371302"
        fact.department = Department(code: "SCJ", name: "市场监管局")
        fact.implementationCode = "A001"
        fact.caseID = "c-1"
        fact.pushedOn = day("2026-12-10")
        fact.claimDueOn = day("2026-12-11")
        fact.claimedOn = day("2026-12-11")
        fact.rejectedOn = day("2026-12-12")
        fact.claimOverdue = true
        fact.findings = 3
        return fact
    }

    static let consultation = ConsultationFact(id: "q-1", node: "371302", implementationCode: "A001", windowID: "W1", on: day("2026-12-01"))

    static func encoded<T: Encodable>(_ value: T) -> [UInt8] { Array(try! JSONEncoder().encode(value)) }

    static func reads<T: FactJSON.Readable & Encodable & Equatable>(_ value: T) -> Bool {
        var pool = FactJSON.StringPool()
        let text = encoded(value)
        return T.read(text, pool: &pool) == value && (try? JSONDecoder().decode(T.self, from: Data(text))) == value
    }

    @Test("the reader knows every stored property of each fact type, so no row of today's types falls back")
    func knowsEveryProperty() {
        func labels(_ value: Any) -> [String] { Mirror(reflecting: value).children.compactMap(\.label) }
        #expect(labels(ApplicationFact(id: "a")) == FactJSON.applicationKeys.map(\.description))
        #expect(labels(CaseFact(id: "c")) == FactJSON.caseKeys.map(\.description))
        #expect(labels(PushFact(id: "p")) == FactJSON.pushKeys.map(\.description))
        #expect(labels(Self.consultation) == FactJSON.consultationKeys.map(\.description))
        #expect(labels(StaffRef(subject: "s")) == FactJSON.staffKeys.map(\.description))
        #expect(labels(Department(code: "d")) == FactJSON.departmentKeys.map(\.description))
    }

    @Test("full and empty facts of every type read back equal, as JSONDecoder reads them")
    func roundTrips() {
        #expect(Self.reads(Self.fullApplication))
        #expect(Self.reads(ApplicationFact(id: "a")))
        #expect(Self.reads(Self.fullCase))
        #expect(Self.reads(CaseFact(id: "c")))
        #expect(Self.reads(Self.fullPush))
        #expect(Self.reads(PushFact(id: "p")))
        #expect(Self.reads(Self.consultation))
    }

    @Test("PostgreSQL's text form: spaces after separators, keys in jsonb's order, nulls and escapes")
    func postgresTextForm() throws {
        let text = #"""
            {"id": "c-9", "number": "N\"1\\2\/3", "onTime": null, "granted": true, "returns": 0, "officer": {"name": "张\u4e09 \ud83d\ude00", "subject": "o-1"}, "itemName": "食品\n经营\t许可", "suspended": false, "extended": false, "nodeNames": {}, "department": null, "decidingNode": "", "acceptingNode": "371302", "applicationID": "", "applicantIndex": "", "workingDaysTotal": -3, "applicationNumber": "", "implementationCode": "A001", "dueOn": "2026-12-31"}
            """#
        var pool = FactJSON.StringPool()
        let fast = try #require(FactJSON.case(Array(text.utf8), pool: &pool))
        let slow = try JSONDecoder().decode(CaseFact.self, from: Data(text.utf8))
        #expect(fast == slow)
        #expect(fast.number == #"N"1\2/3"#)
        #expect(fast.officer?.name == "张三 😀")
        #expect(fast.itemName == "食品\n经营\t许可")
        #expect(fast.workingDaysTotal == -3 && fast.granted == true && fast.onTime == nil && fast.department == nil)
    }

    @Test("texts of every character JSON escapes or keeps, in random facts, read as JSONDecoder reads them")
    func randomTexts() {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [Character] = ["a", "Z", "0", " ", "\"", "\\", "/", "\n", "\r", "\t", "\u{08}", "\u{0C}", "\u{01}", "\u{1F}", "é", "许", "可", "😀", "\u{2028}", "{", "}", "[", "]", ":", ","]
        func text() -> String { String((0..<Int.random(in: 0...24, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }) }
        for _ in 0..<300 {
            var fact = CaseFact(id: text())
            fact.number = text()
            fact.itemName = text()
            fact.nodeNames = Dictionary([(text(), text()), (text(), text())]) { first, _ in first }
            fact.officer = Bool.random(using: &generator) ? StaffRef(subject: text(), name: text()) : nil
            fact.returns = Int.random(in: Int.min...Int.max, using: &generator)
            fact.workingDaysTaken = Bool.random(using: &generator) ? Int.random(in: -5...5, using: &generator) : nil
            #expect(Self.reads(fact), "\(fact)")
            var application = ApplicationFact(id: text())
            application.items = [text(), text()]
            application.itemDepartments = Dictionary([(text(), Department(code: text(), name: text()))]) { first, _ in first }
            application.windowID = text()
            #expect(Self.reads(application), "\(application)")
        }
    }

    @Test("declines what it is not sure of: an unknown key, a missing required key, a fraction, a bad date, malformed text")
    func declines() throws {
        var pool = FactJSON.StringPool()
        let full = String(decoding: Self.encoded(Self.fullPush), as: UTF8.self)
        func declined(_ text: String) -> Bool { FactJSON.push(Array(text.utf8), pool: &pool) == nil }
        #expect(!declined(full))
        // A field a later release adds: JSONDecoder ignores it, the reader leaves the row to it.
        let extra = full.replacingOccurrences(of: "{", with: #"{"escalatedOn":"2026-12-12","#, options: .anchored)
        #expect(declined(extra))
        #expect((try JSONDecoder().decode(PushFact.self, from: Data(extra.utf8))) == Self.fullPush)
        #expect(declined(full.replacingOccurrences(of: #""findings":3"#, with: #""findings":3.0"#)))
        #expect(declined(full.replacingOccurrences(of: #""findings":3"#, with: #""findings":03"#)))
        #expect(declined(full.replacingOccurrences(of: #""findings":3,"#, with: "").replacingOccurrences(of: #","findings":3"#, with: "")))
        #expect(declined(full.replacingOccurrences(of: "2026-12-10", with: "2026-02-30")))
        #expect(declined(full.replacingOccurrences(of: "2026-12-10", with: "2026-12-1")))
        #expect(declined(full.replacingOccurrences(of: "2026-12-10", with: "2026-12-1x")))
        #expect(declined(full.replacingOccurrences(of: "2026-12-10", with: "20261-2-10")))
        #expect(declined(full.replacingOccurrences(of: "2026-12-10", with: #"\ud800"#)))
        #expect(declined(full + "x"))
        #expect(declined(String(full.dropLast())))
        #expect(declined(""))
        #expect(declined(#"{"id": "p", "node": "n", "department": {"code": "c"}}"#))
        #expect(declined("[]"))
    }

    @Test("repeated text is kept once per load, up to the pool's capacity; a pool of capacity 0 keeps nothing")
    func pool() {
        func storage(_ text: String) -> UnsafeRawPointer? {
            var text = text
            return text.withUTF8 { UnsafeRawPointer($0.baseAddress) }
        }
        var pool = FactJSON.StringPool(capacity: 1)
        let long = String(repeating: "临沂", count: 4)
        let first = pool.intern(long)
        let again = pool.intern(String(repeating: "临沂", count: 4))
        #expect(again == long && storage(again) == storage(first))
        let other = String(repeating: "兰山", count: 4)
        #expect(pool.intern(other) == other)
        #expect(storage(pool.intern(String(repeating: "兰山", count: 4))) != storage(other))
        var none = FactJSON.StringPool(capacity: 0)
        let kept = none.intern(long + "!")
        #expect(storage(none.intern(long + "!")) != storage(kept))
    }
}
