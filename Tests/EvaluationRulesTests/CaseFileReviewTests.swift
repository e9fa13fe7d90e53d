import OneSealCore
import Testing

@testable import EvaluationRules

@Suite("案卷评查: the month's draw, a score against the checklist, the month's figures")
struct CaseFileReviewTests {
    typealias Review = CaseFileReview

    static func day(_ text: String) -> CivilDate { CivilDate(text)! }

    static func closedCase(_ id: String, node: String = "371302", decided: String? = nil, withdrawn: String? = nil, onTime: Bool? = true, officer: String = "officer-3") -> CaseFact {
        var fact = CaseFact(id: id)
        fact.number = "AJ-\(id)"
        fact.acceptingNode = node
        fact.decidedOn = decided.map(day)
        fact.withdrawnOn = withdrawn.map(day)
        fact.onTime = onTime
        fact.dueOn = day("2026-10-20")
        fact.officer = StaffRef(subject: officer, name: "张三")
        return fact
    }

    static let full: [Review.Criterion: Int] = [.materials: 25, .procedure: 25, .timeliness: 25, .documents: 25]

    // MARK: The draw

    @Test("SplitMix64 gives the reference sequence (seed 0), so a recorded seed replays anywhere")
    func splitMixReference() {
        var generator = SplitMix64(seed: 0)
        #expect(generator.next() == 0xE220_A839_7B1D_CDAF)
        #expect(generator.next() == 0x6E78_9E6A_A1B9_65F4)
        #expect(generator.next() == 0x06C4_5D18_8009_454F)
    }

    @Test("The same seed and the same set of cases draw the same sample, whatever order the cases came in")
    func drawIsReproducible() {
        let population = (1...120).map { "case-\($0)" }
        let first = Review.draw(population: population, size: 8, seed: 20_261_101)
        let again = Review.draw(population: population.reversed(), size: 8, seed: 20_261_101)
        #expect(first == again)
        #expect(first.count == 8)
        #expect(Set(first).count == 8)
        #expect(Set(first).isSubset(of: Set(population)))
        #expect(Review.draw(population: population, size: 8, seed: 20_261_102) != first)
        #expect(Review.populationDigest(population) == Review.populationDigest(population.shuffled()))
        #expect(Review.populationDigest(population) != Review.populationDigest(Array(population.dropLast())))
    }

    @Test("A sample larger than the month takes every case once")
    func drawLargerThanPopulation() {
        let drawn = Review.draw(population: ["b", "a", "c", "a"], size: 10, seed: 7)
        #expect(drawn.sorted() == ["a", "b", "c"])
    }

    @Test("Every case is equally likely to be drawn (10,000 fixed seeds, one of ten each)")
    func drawIsUnbiased() {
        let population = (0..<10).map { "c\($0)" }
        var counts: [String: Int] = [:]
        for seed in 0..<UInt64(10_000) { counts[Review.draw(population: population, size: 1, seed: seed)[0], default: 0] += 1 }
        // Expected 1,000 each; σ ≈ 30. The seeds are fixed, so this is a fact about the generator, not luck.
        for id in population { #expect((880...1_120).contains(counts[id] ?? 0), "\(id): \(counts[id] ?? 0)") }
    }

    @Test("The population is the node's cases closed in the month: decided or withdrawn, 1st to last day")
    func monthPopulation() throws {
        let cases = [
            Self.closedCase("oct-first", decided: "2026-10-01"),
            Self.closedCase("oct-last", decided: "2026-10-31"),
            Self.closedCase("withdrawn", withdrawn: "2026-10-15"),
            Self.closedCase("nov-first", decided: "2026-11-01"),
            Self.closedCase("sep-last", decided: "2026-09-30"),
            Self.closedCase("running"),
            Self.closedCase("city", node: "371300", decided: "2026-10-10"),
        ]
        let draw = try Review.makeDraw(year: 2026, month: 10, size: 50, seed: 1, node: "371302", cases: cases)
        #expect(Set(draw.caseIDs) == ["oct-first", "oct-last", "withdrawn"])
        #expect(draw.populationCount == 3)
        #expect(draw.populationDigest == Review.populationDigest(["withdrawn", "oct-last", "oct-first"]))

        #expect(throws: EvaluationRuleError.failedPrecondition("no case of node 371302 closed in 2026年12月: nothing to draw from")) {
            try Review.makeDraw(year: 2026, month: 12, size: 5, seed: 1, node: "371302", cases: cases)
        }
        for size in [0, -1, Review.maximumSampleSize + 1] {
            #expect(throws: EvaluationRuleError.self) { try Review.makeDraw(year: 2026, month: 10, size: size, seed: 1, node: "371302", cases: cases) }
        }
        #expect(throws: EvaluationRuleError.self) { try Review.makeDraw(year: 2026, month: 13, size: 5, seed: 1, node: "371302", cases: cases) }
    }

    // MARK: A score

    @Test("Grades at their edges: 90 优秀, 89 良好, 80 良好, 79 合格, 60 合格, 59 不合格")
    func gradeBoundaries() {
        #expect(Review.Grade(total: 100) == .excellent)
        #expect(Review.Grade(total: 90) == .excellent)
        #expect(Review.Grade(total: 89) == .good)
        #expect(Review.Grade(total: 80) == .good)
        #expect(Review.Grade(total: 79) == .pass)
        #expect(Review.Grade(total: 60) == .pass)
        #expect(Review.Grade(total: 59) == .fail)
        #expect(Review.Grade(total: 0) == .fail)
    }

    @Test("A full score needs no findings; a lost point needs one, naming the field")
    func findingsRequiredWhereLost() throws {
        let fact = Self.closedCase("c1", decided: "2026-10-14")
        let full = try Review.score(points: Self.full, findings: [:], reviewer: "evaluator-1", case: fact)
        #expect(full.total == 100)
        #expect(full.grade == .excellent)

        var points = Self.full
        points[.documents] = 15
        do {
            _ = try Review.score(points: points, findings: [.documents: "   "], reviewer: "evaluator-1", case: fact)
            Issue.record("a lost point without a finding was accepted")
        } catch {
            #expect(error.fieldViolations.map(\.field) == ["score.documents_finding"])
        }
        let scored = try Review.score(points: points, findings: [.documents: " 准予许可决定书未载明救济途径 "], reviewer: "evaluator-1", case: fact)
        #expect(scored.total == 90)
        #expect(scored.findings == [.documents: "准予许可决定书未载明救济途径"])
    }

    @Test("Every criterion scored, each within 0…25; every bad field named at once")
    func everyCriterionInRange() {
        do {
            _ = try Review.score(points: [.materials: 26, .procedure: -1, .timeliness: 25], findings: [.procedure: "缺少审核意见"], reviewer: "evaluator-1", case: Self.closedCase("c1", decided: "2026-10-14"))
            Issue.record("an incomplete, out-of-range score was accepted")
        } catch {
            #expect(Set(error.fieldViolations.map(\.field)) == ["score.materials", "score.procedure", "score.documents"])
        }
    }

    @Test("A case decided after its due date cannot keep full 办理时效性 points")
    func lateCaseTimeliness() throws {
        let late = Self.closedCase("late", decided: "2026-10-22", onTime: false)
        do {
            _ = try Review.score(points: Self.full, findings: [:], reviewer: "evaluator-1", case: late)
            Issue.record("full timeliness on a late case was accepted")
        } catch {
            #expect(error.fieldViolations.map(\.field) == ["score.timeliness"])
            #expect(error.description.contains("2026-10-20"))
        }
        var points = Self.full
        points[.timeliness] = 10
        #expect(try Review.score(points: points, findings: [.timeliness: "超期2个工作日作出决定"], reviewer: "evaluator-1", case: late).grade == .good)
    }

    @Test("Nobody reviews a case they handled (回避)")
    func reviewerIsNotTheOfficer() {
        #expect(throws: EvaluationRuleError.failedPrecondition("officer-3 handled case AJ-c1 and may not review its file (回避)")) {
            try Review.score(points: Self.full, findings: [:], reviewer: "officer-3", case: Self.closedCase("c1", decided: "2026-10-14"))
        }
    }

    // MARK: The month's figures

    @Test("The month's summary: means per criterion, grades, the failing files listed")
    func summary() throws {
        let fact = Self.closedCase("c", decided: "2026-10-14")
        let a = try Review.score(points: Self.full, findings: [:], reviewer: "e", case: fact)
        let b = try Review.score(points: [.materials: 20, .procedure: 25, .timeliness: 25, .documents: 15], findings: [.materials: "缺营业执照复印件", .documents: "决定书无文号"], reviewer: "e", case: fact)
        let c = try Review.score(points: [.materials: 10, .procedure: 10, .timeliness: 25, .documents: 10], findings: [.materials: "缺", .procedure: "未经审核", .documents: "无救济途径"], reviewer: "e", case: fact)
        let summary = Review.summary(sampled: 5, scores: [("AJ-2", b), ("AJ-1", a), ("AJ-3", c)])
        #expect(summary.sampled == 5)
        #expect(summary.reviewed == 3)
        #expect(summary.averageTotal == Double(100 + 85 + 55) / 3)
        #expect(summary.averageByCriterion[.materials] == Double(25 + 20 + 10) / 3)
        #expect(summary.averageByCriterion[.timeliness] == 25)
        #expect(summary.grades == [.excellent: 1, .good: 1, .fail: 1])
        #expect(summary.failing.map(\.caseNumber) == ["AJ-3"])
        #expect(summary.failing.first?.findings[.procedure] == "未经审核")
        #expect(Review.summary(sampled: 0, scores: []).averageTotal == 0)
    }
}
