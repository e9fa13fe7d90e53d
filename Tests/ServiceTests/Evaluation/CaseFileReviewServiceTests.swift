import EvaluationRules
import Foundation
import GRPCCore
import OneSealAuth
import OneSealCore
import OneSealProto
import Testing
@testable import EvaluationService

/// Closed cases for a month of 案卷评查: opened and decided through the real event sink.
private enum ClosedCases {
    static let c3 = "c0000000-0000-4000-8000-0000000000c3"
    static let c4 = "c0000000-0000-4000-8000-0000000000c4"
    static let c5 = "c0000000-0000-4000-8000-0000000000c5"
    static let c6 = "c0000000-0000-4000-8000-0000000000c6"

    static func decided(_ caseID: String, number: String, on day: String, onTime: Bool) throws -> [Events_EventEnvelope] {
        let header = EvaluationEvents.header(caseID, app: "app-\(number)", number: number, code: "F001")
        return [
            try EvaluationEvents.envelope(Approval_CaseOpened.with {
                $0.header = header; $0.acceptanceKind = .complete; $0.acceptedOn = EvaluationEvents.date("2026-10-09")
                $0.deadline = EvaluationEvents.deadline(started: "2026-10-09", due: "2026-10-23")
            }, source: "approval", aggregate: caseID),
            try EvaluationEvents.envelope(Approval_CaseDecided.with {
                $0.header = header; $0.acceptedOn = EvaluationEvents.date("2026-10-09")
                $0.decision = Approval_Decision.with {
                    $0.grant = Approval_Grant.with { $0.scope = "热食类食品制售" }; $0.decidedOn = EvaluationEvents.date(day); $0.onTime = onTime
                    $0.workingDaysTaken = 8
                }
            }, source: "approval", aggregate: caseID),
        ]
    }

    /// c1 (decided 10-14, from the shared stream), c3 and c6 on time, c4 late: October's four;
    /// c5 closes in November; c2 is still running.
    static func month() throws -> [Events_EventEnvelope] {
        try EvaluationEvents.stream()
            + decided(c3, number: "N3C", on: "2026-10-20", onTime: true)
            + decided(c4, number: "N4C", on: "2026-10-28", onTime: false)
            + decided(c5, number: "N5C", on: "2026-11-02", onTime: true)
            + decided(c6, number: "N6C", on: "2026-10-30", onTime: true)
    }

    static let october = [EvaluationEvents.c1, c3, c4, c6]
}

@Suite("案卷评查 over RPC: the director's draw, reviewers' scores, the month's report (real PostgreSQL, real TCP)", .serialized)
struct CaseFileReviewServiceTests {
    static func draw(_ node: EvaluationNode, month: Int32 = 10, size: Int32, seed: UInt64, as metadata: Metadata) async throws -> Evaluation_CaseFileSample {
        try await node.evaluation.drawCaseFileSample(.with { $0.year = 2026; $0.month = month; $0.size = size; $0.seed = seed }, metadata: metadata)
    }

    static func score(
        _ node: EvaluationNode, case caseID: String, _ points: (Int32, Int32, Int32, Int32), findings: [String] = ["", "", "", ""],
        key: String = UUID().uuidString, as metadata: Metadata
    ) async throws -> Evaluation_SampledCaseFile {
        var request = Evaluation_ScoreCaseFileRequest()
        request.year = 2026
        request.month = 10
        request.caseID = caseID
        request.score = .with {
            $0.materials = points.0; $0.procedure = points.1; $0.timeliness = points.2; $0.documents = points.3
            $0.materialsFinding = findings[0]; $0.procedureFinding = findings[1]; $0.timelinessFinding = findings[2]; $0.documentsFinding = findings[3]
        }
        request.idempotencyKey = key
        return try await node.evaluation.scoreCaseFile(request, metadata: metadata).caseFile
    }

    @Test("the month's draw: the closed cases only, replayable from the recorded seed, once per month, the director's alone")
    func drawOfTheMonth() async throws {
        try await withEvaluationNode(today: try CivilDate(parsing: "2026-11-05")) { node in
            try await node.deliver(try ClosedCases.month())
            let director = try node.token(.director, subject: "director-1")
            await #expect { _ = try await Self.draw(node, size: 3, seed: 42, as: try node.evaluator) } throws: { rpcFailure($0)?.code == .permissionDenied }

            let sample = try await Self.draw(node, size: 3, seed: 42, as: director)
            #expect(sample.populationCount == 4)
            #expect(sample.populationDigest == CaseFileReview.populationDigest(ClosedCases.october))
            // Anyone holding the seed and the month's cases draws the same files, in the same order.
            #expect(sample.caseFiles.map(\.caseID) == CaseFileReview.draw(population: ClosedCases.october, size: 3, seed: 42))
            #expect(sample.caseFiles.map(\.position) == [1, 2, 3])
            #expect(sample.drawnBy == "director-1")
            #expect(sample.caseFiles.allSatisfy { !$0.reviewed })

            // A retry answers the recorded draw; another draw of the month is refused.
            #expect(try await Self.draw(node, size: 3, seed: 42, as: director) == sample)
            #expect(try await Self.draw(node, size: 3, seed: 0, as: director) == sample)
            await #expect { _ = try await Self.draw(node, size: 4, seed: 42, as: director) } throws: {
                rpcFailure($0)?.code == .alreadyExists && rpcFailure($0)?.message.contains("drawn once") == true
            }
            await #expect { _ = try await Self.draw(node, size: 3, seed: 43, as: director) } throws: { rpcFailure($0)?.code == .alreadyExists }
            #expect(try await node.count("SELECT count(*) FROM case_file_samples") == 1)

            // November: the service picks the seed (never 0) and records it.
            let november = try await Self.draw(node, month: 11, size: 5, seed: 0, as: director)
            #expect(november.seed != 0)
            #expect(november.caseFiles.map(\.caseID) == [ClosedCases.c5])
            // December has nothing closed; a size outside 1…200 names the field.
            await #expect { _ = try await Self.draw(node, month: 12, size: 5, seed: 1, as: director) } throws: { rpcFailure($0)?.code == .failedPrecondition }
            await #expect { _ = try await Self.draw(node, month: 9, size: 0, seed: 1, as: director) } throws: { rpcFailure($0)?.fields == ["size"] }
            #expect(try await node.count("SELECT count(*) FROM case_file_samples") == 2)
        }
    }

    @Test("scores: the checklist checked, 回避, once per file, a retry answered, the report's section escaped")
    func scores() async throws {
        try await withEvaluationNode(today: try CivilDate(parsing: "2026-11-05"), settings: ["evaluation.agency_name": "兰山区行政审批服务局"]) { node in
            try await node.deliver(try ClosedCases.month())
            let director = try node.token(.director, subject: "director-1")
            let reviewer = try node.token(.evaluator, subject: "reviewer-1")
            _ = try await Self.draw(node, size: 4, seed: 7, as: director)

            // Not in the sample, and the officer who handled the file.
            await #expect { _ = try await Self.score(node, case: EvaluationEvents.c2, (25, 25, 25, 25), as: reviewer) } throws: { rpcFailure($0)?.code == .notFound }
            await #expect { _ = try await Self.score(node, case: ClosedCases.c3, (25, 25, 25, 25), as: try node.token(.sectionChief, subject: "officer-1")) } throws: {
                rpcFailure($0)?.code == .failedPrecondition && rpcFailure($0)?.message.contains("回避") == true
            }
            // Lost points without findings, and full timeliness on the late case: every field named, nothing stored.
            await #expect { _ = try await Self.score(node, case: ClosedCases.c3, (20, 25, 25, 26), as: reviewer) } throws: {
                rpcFailure($0)?.fields == ["score.materials_finding", "score.documents"]
            }
            await #expect { _ = try await Self.score(node, case: ClosedCases.c4, (25, 25, 25, 25), as: reviewer) } throws: { rpcFailure($0)?.fields == ["score.timeliness"] }
            #expect(try await node.count("SELECT count(*) FROM case_file_scores") == 0)

            let full = try await Self.score(node, case: ClosedCases.c3, (25, 25, 25, 25), as: reviewer)
            #expect(full.reviewed && full.score.total == 100 && full.score.grade == .excellent && full.reviewer == "reviewer-1")
            #expect(full.caseNumber == "兰审N3C")

            // Twenty concurrent retries of one score with one key: one row, every answer the same.
            let key = UUID().uuidString
            let hostile = "<script>alert(1)</script>决定书未载明救济途径"
            let answers = try await withThrowingTaskGroup(of: Evaluation_SampledCaseFile.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        try await Self.score(node, case: ClosedCases.c6, (10, 15, 25, 10), findings: ["缺营业执照", "未经审核", "", "决定书无文号"], key: key, as: reviewer)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(answers.count == 20 && Set(answers.map(\.score.total)) == [60])
            #expect(try await node.count("SELECT count(*) FROM case_file_scores") == 2)
            // Another score of a scored file is a second opinion: refused.
            await #expect { _ = try await Self.score(node, case: ClosedCases.c6, (25, 25, 25, 25), as: try node.token(.director, subject: "director-2")) } throws: {
                rpcFailure($0)?.code == .alreadyExists
            }
            let failing = try await Self.score(node, case: ClosedCases.c4, (10, 10, 10, 10), findings: ["缺", "缺", "超期", hostile], as: reviewer)
            #expect(failing.score.grade == .fail && failing.late)

            let sample = try await node.evaluation.getCaseFileSample(.with { $0.year = 2026; $0.month = 10 }, metadata: try node.token(.leader, subject: "leader-1"))
            #expect(sample.caseFiles.filter(\.reviewed).count == 3)
            #expect(sample.summary.reviewed == 3 && sample.summary.sampled == 4)
            #expect(sample.summary.averageTotal == Double(100 + 60 + 40) / 3)
            #expect(sample.summary.excellent == 1 && sample.summary.pass == 1 && sample.summary.fail == 1)

            // The monthly report carries the month's review; the reviewer's text is escaped.
            let report = try await node.evaluation.report(.with { $0.kind = .monthly; $0.year = 2026; $0.month = 10 }, metadata: try node.token(.leader, subject: "leader-1"))
            #expect(report.caseFileReview == sample.summary)
            #expect(report.html.contains("<h2>案卷评查</h2>"))
            #expect(report.html.contains("兰审N4C"))
            #expect(!report.html.contains("<script>"))
            #expect(report.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;决定书未载明救济途径"))
            let september = try await node.evaluation.report(.with { $0.kind = .monthly; $0.year = 2026; $0.month = 9 }, metadata: try node.token(.leader, subject: "leader-1"))
            #expect(!september.hasCaseFileReview && !september.html.contains("案卷评查"))
        }
    }
}
