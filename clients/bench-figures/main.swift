// oneseal-bench-figures: how long evaluation's rules take to compute what the director's board
// asks for — today's figures, the early warnings and the month's report — over a read model the
// size of a busy hall's, with no database and no network (the service adds those) — and how long
// reading the model's stored facts takes, `JSONDecoder` beside `FactJSON` (a node's first load),
// and writing them, `JSONEncoder` beside `StreamingJSONEncoder` (what every fold writes back).
//
//   .build/release/oneseal-bench-figures --open 10000 --closed 10000 --repeat 5
//
// The model is made up (fixed seed): `--open` running cases and `--closed` decided ones spread
// over the last six months, one application per case over eight windows and twelve items, a
// rating for every third closed case. Each computation runs `--repeat` times; the program prints
// the best and the median milliseconds per computation, with the date, the commit and the load.
//
// A benchmark program, not a test: it prints figures and never fails on them.
import ArgumentParser
import EvaluationRules
import Foundation
import OneSealBenchSupport
import OneSealCore

@main
struct BenchFigures: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "oneseal-bench-figures",
        abstract: "The director's board's figures (figures, warnings, monthly report) computed over a made-up read model.")

    @Option(help: "Running (open) cases in the model.")
    var open: Int = 10_000

    @Option(help: "Decided cases in the model, spread over the last six months.")
    var closed: Int = 10_000

    @Option(help: "Times each computation runs.")
    var `repeat`: Int = 5

    @Option(help: "The day the board is read on (YYYY-MM-DD).")
    var today: String = "2026-12-03"

    func run() throws {
        guard let today = CivilDate(today) else { throw ValidationError("--today: not a date") }
        let calendar = WorkingDayCalendar.china
        let (model, ratings) = Self.model(open: open, closed: closed, today: today)
        let month = (year: today.year, month: today.month)
        let day = today
        print("oneseal-bench-figures: \(open) open + \(closed) decided cases, \(model.applications.count) applications, \(ratings.count) ratings; today \(today.iso8601)")
        print("date \(RunFacts.utcNow()), commit \(RunFacts.commit()), load average \(Pgbench.loadAverage())")
        print("a fact's own bytes (its heap-held text and collections besides): application \(MemoryLayout<ApplicationFact>.stride), case \(MemoryLayout<CaseFact>.stride)")
        let policy = WarningPolicy(yellowWhenDaysLeftAtMost: 3)

        measure("EfficiencyFigures (today, total)") {
            _ = Figures.table(FiguresQuery(from: day, to: day, asOf: today), model: model, ratings: ratings, rectifications: [], labels: Labels(model: model))
        }
        measure("EarlyWarnings (yellow and red)") {
            _ = try! EarlyWarnings.list(model: model, rectifications: [], today: today, policy: policy, calendar: calendar)
        }
        // A node's first whole load reads every stored fact (`fact::text`); both readers on the same texts.
        let applicationTexts = model.applications.values.map { Array(try! JSONEncoder().encode($0)) }
        let caseTexts = model.cases.values.map { Array(try! JSONEncoder().encode($0)) }
        let facts = applicationTexts.count + caseTexts.count
        measure("read \(facts) facts: JSONDecoder") {
            let decoder = JSONDecoder()
            for text in applicationTexts { _ = try! decoder.decode(ApplicationFact.self, from: Data(text)) }
            for text in caseTexts { _ = try! decoder.decode(CaseFact.self, from: Data(text)) }
        }
        measure("read \(facts) facts: FactJSON") {
            var pool = FactJSON.StringPool()
            for text in applicationTexts { _ = FactJSON.application(text, pool: &pool)! }
            for text in caseTexts { _ = FactJSON.case(text, pool: &pool)! }
        }
        // What a fold writes back (`FactStore.json`, and the services' stored states the same
        // way): Foundation's encoder beside the streaming one, on the same facts (#21 step 15).
        let applications = Array(model.applications.values)
        let cases = Array(model.cases.values)
        measure("write \(facts) facts: JSONEncoder") {
            for fact in applications { _ = try! JSONEncoder().encode(fact) }
            for fact in cases { _ = try! JSONEncoder().encode(fact) }
        }
        measure("write \(facts) facts: Streaming") {
            for fact in applications { _ = try! StreamingJSONEncoder.encode(fact) }
            for fact in cases { _ = try! StreamingJSONEncoder.encode(fact) }
        }
        measure("Report (the month, all charts)") {
            _ = ReportBuilder.monthly(
                year: month.year, month: month.month, asOf: today, title: "bench", nodes: [], model: model, ratings: ratings, rectifications: [],
                badReviews: [], rules: FlagRule.defaults, onTimeTarget: 0.95, warnings: (0, 0))
        }
    }

    func measure(_ name: String, _ body: () -> Void) {
        var samples: [Double] = []
        for _ in 0..<max(1, self.repeat) {
            let start = ContinuousClock.now
            body()
            let elapsed = ContinuousClock.now - start
            samples.append(Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
        }
        samples.sort()
        let name = name.padding(toLength: 36, withPad: " ", startingAt: 0)
        print("  \(name) best \(String(format: "%9.1f", samples[0])) ms   median \(String(format: "%9.1f", samples[samples.count / 2])) ms")
    }

    /// A hall's half year: cases accepted over 180 days at eight windows for twelve items, the
    /// open ones due from ten working days ago to twenty days ahead.
    static func model(open: Int, closed: Int, today: CivilDate) -> (ReadModel, [RatingFact]) {
        var generator = SplitMix(seed: 20_261_203)
        var model = ReadModel()
        var ratings: [RatingFact] = []
        let node = "320500"
        for index in 0..<(open + closed) {
            let isOpen = index < open
            let window = "W\(generator.next(8) + 1)"
            let code = "ITEM\(generator.next(12))"
            let department = Department(code: "D\(code.suffix(2))", name: "部门\(code.suffix(2))")
            let accepted = today.adding(days: -(isOpen ? generator.next(30) : 20 + generator.next(160)))
            var application = ApplicationFact(id: "app-\(index)")
            application.number = "A\(index)"
            application.node = node
            application.nodeName = "苏州市"
            application.windowID = window
            application.submittedOn = accepted
            application.acceptedOn = accepted
            application.acceptedBy = StaffRef(subject: "clerk-\(window)", name: "窗口\(window)")
            application.items = [code]
            application.itemNames = [code: "事项\(code)"]
            application.itemDepartments = [code: department]
            application.caseIDs = ["case-\(index)"]
            var fact = CaseFact(id: "case-\(index)")
            fact.number = "C\(index)"
            fact.applicationID = application.id
            fact.implementationCode = code
            fact.itemName = "事项\(code)"
            fact.acceptingNode = node
            fact.department = department
            fact.officer = StaffRef(subject: "officer-\(generator.next(20))", name: "经办人")
            fact.acceptedOn = accepted
            fact.openedOn = accepted
            fact.clockStartedOn = accepted
            fact.workingDaysTotal = 20
            fact.dueOn = accepted.adding(days: 28)
            if !isOpen {
                let decided = accepted.adding(days: 1 + generator.next(30))
                fact.decidedOn = decided
                fact.granted = generator.next(10) > 0
                fact.onTime = decided <= fact.dueOn!
                fact.workingDaysTaken = 1 + generator.next(22)
                application.deliveredOn = decided.adding(days: 2)
                application.visits = 1
                if index % 3 == 0 {
                    ratings.append(RatingFact(
                        id: "rating-\(index)", attribution: Attribution(node: node, implementationCode: code, windowID: window, officer: "", department: department.code),
                        ratedOn: decided.adding(days: 3), level: Rating(level: 1 + generator.next(5))!, channel: .online))
                }
            }
            model.applications[application.id] = application
            model.cases[fact.id] = fact
        }
        return (model, ratings)
    }
}

/// A small fixed-seed generator so every run builds the same model.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next(_ bound: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Int(z % UInt64(bound))
    }
}
