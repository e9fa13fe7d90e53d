import EvaluationContracts
import EvaluationRules
import Foundation
import GRPCCore
import OneSealAuth
import OneSealCore
import OneSealProto
import OneSealServiceKit
import OneSealStore

/// 案卷评查 (issue #20 item 10, E16–E18): the month's draw, the scores, the month's sample as read.
extension EvaluationAPI {
    public func drawCaseFileSample(request: Evaluation_DrawCaseFileSampleRequest, context: ServerContext) async throws -> Evaluation_CaseFileSample {
        let caller = try ServerContext.requireCaller()
        let (year, month) = try Self.month(year: request.year, month: request.month)
        let size = Int(request.size)
        // A seed the director did not give is chosen here, never 0 (0 asks for one), and recorded.
        let seed = request.seed != 0 ? request.seed : UInt64.random(in: 1...UInt64.max)
        let range = ReportBuilder.monthRange(year: year, month: month)!
        let today = self.today
        return try await database.withTransaction { transaction in
            try await CaseFileStore.lock(node: node, year: year, month: month, on: transaction)
            if let existing = try await CaseFileStore.sample(node: node, year: year, month: month, on: transaction) {
                // The same request again (a retry, a double click) answers the recorded draw; a
                // different one would be a second draw of the month, which would let a director
                // draw until the sample suits them.
                guard existing.draw.requestedSize == size, request.seed == 0 || request.seed == existing.draw.seed else {
                    throw RPCError(
                        code: .alreadyExists,
                        message: "the \(year)年\(month)月 sample of node \(node) was drawn on \(existing.drawnOn) by \(existing.drawnBy) (\(existing.draw.caseIDs.count) of \(existing.draw.populationCount) cases, seed \(existing.draw.seed)); a month is drawn once")
                }
                return try await sampleProto(existing, on: transaction)
            }
            let cases = try await CaseFileStore.closedCases(node: node, from: range.from, to: range.to, on: transaction)
            let draw = try CaseFileReview.makeDraw(year: year, month: month, size: size, seed: seed, node: node, cases: cases)
            let stored = CaseFileStore.StoredSample(node: node, draw: draw, drawnBy: caller.subject, drawnOn: today)
            try await CaseFileStore.insert(stored, on: transaction)
            logger.notice("case-file sample drawn", metadata: [
                "month": "\(year)-\(month)", "size": "\(draw.caseIDs.count)", "population": "\(draw.populationCount)", "seed": "\(draw.seed)",
                "by": "\(caller.logSubject)",
            ])
            return try await sampleProto(stored, on: transaction)
        }
    }

    public func scoreCaseFile(request: Evaluation_ScoreCaseFileRequest, context: ServerContext) async throws -> Evaluation_ScoreCaseFileResponse {
        let caller = try ServerContext.requireCaller()
        let (year, month) = try Self.month(year: request.year, month: request.month)
        var violations: [FieldViolation] = []
        if request.caseID.isEmpty { violations.append(FieldViolation(field: "case_id", description: "required: the sampled case's id", reason: "required")) }
        if !request.hasScore { violations.append(FieldViolation(field: "score", description: "required: the four criteria's points", reason: "required")) }
        guard violations.isEmpty else { throw EvaluationRuleError.invalidArgument(violations) }
        let s = request.score
        let points: [CaseFileReview.Criterion: Int] = [
            .materials: Int(s.materials), .procedure: Int(s.procedure), .timeliness: Int(s.timeliness), .documents: Int(s.documents),
        ]
        let findings: [CaseFileReview.Criterion: String] = [
            .materials: s.materialsFinding, .procedure: s.procedureFinding, .timeliness: s.timelinessFinding, .documents: s.documentsFinding,
        ]
        let key = request.idempotencyKey.isEmpty ? CallMetadata.idempotencyKey : request.idempotencyKey
        let today = self.today
        return try await database.withTransaction { transaction in
            try await CaseFileStore.lock(node: node, year: year, month: month, on: transaction)
            guard let sample = try await CaseFileStore.sample(node: node, year: year, month: month, on: transaction) else {
                throw RPCError(code: .failedPrecondition, message: "no case-file sample was drawn for \(year)年\(month)月 at node \(node): draw it first")
            }
            guard let position = sample.draw.caseIDs.firstIndex(of: request.caseID) else {
                throw Self.notFound("case \(request.caseID) is not in the \(year)年\(month)月 sample")
            }
            let fact = try await FactStore.case(id: request.caseID, on: transaction)
            if let existing = try await CaseFileStore.score(node: node, year: year, month: month, caseID: request.caseID, on: transaction) {
                // The reviewer's own retry answers what was recorded; anything else is a second score.
                guard let key, existing.idempotencyKey == key, existing.reviewer == caller.subject else {
                    throw RPCError(code: .alreadyExists, message: "case file \(fact?.number ?? request.caseID) was scored on \(existing.scoredOn) by \(existing.reviewer) (\(existing.score.total) 分); a file is scored once")
                }
                return Evaluation_ScoreCaseFileResponse.with { $0.caseFile = sampledProto(position: position, caseID: request.caseID, fact: fact, score: existing) }
            }
            guard let fact else {
                throw RPCError(code: .failedPrecondition, message: "case \(request.caseID) is in the sample but evaluation holds no record of it (rebuild the read model)")
            }
            let score = try CaseFileReview.score(points: points, findings: findings, reviewer: caller.subject, case: fact)
            let stored = CaseFileStore.StoredScore(caseID: request.caseID, reviewer: caller.subject, score: score, idempotencyKey: key, scoredOn: today)
            try await CaseFileStore.insert(stored, node: node, year: year, month: month, on: transaction)
            return Evaluation_ScoreCaseFileResponse.with { $0.caseFile = sampledProto(position: position, caseID: request.caseID, fact: fact, score: stored) }
        }
    }

    public func getCaseFileSample(request: Evaluation_GetCaseFileSampleRequest, context: ServerContext) async throws -> Evaluation_CaseFileSample {
        let (year, month) = try Self.month(year: request.year, month: request.month)
        return try await database.withConnection { connection in
            guard let sample = try await CaseFileStore.sample(node: node, year: year, month: month, on: connection) else {
                throw Self.notFound("no case-file sample was drawn for \(year)年\(month)月 at node \(node)")
            }
            return try await sampleProto(sample, on: connection)
        }
    }

    // MARK: Rendering

    func sampleProto(_ sample: CaseFileStore.StoredSample, on connection: PostgresConnection) async throws -> Evaluation_CaseFileSample {
        let draw = sample.draw
        let scores = try await CaseFileStore.scores(node: sample.node, year: draw.year, month: draw.month, on: connection)
        var out = Evaluation_CaseFileSample()
        out.year = Int32(draw.year)
        out.month = Int32(draw.month)
        out.node = sample.node
        out.seed = draw.seed
        out.requestedSize = Int32(draw.requestedSize)
        out.populationCount = Int32(draw.populationCount)
        out.populationDigest = draw.populationDigest
        out.drawnBy = sample.drawnBy
        out.drawnOn = Common_CivilDate(sample.drawnOn)
        var scored: [(caseNumber: String, score: CaseFileReview.Score)] = []
        for (index, caseID) in draw.caseIDs.enumerated() {
            let fact = try await FactStore.case(id: caseID, on: connection)
            out.caseFiles.append(sampledProto(position: index, caseID: caseID, fact: fact, score: scores[caseID]))
            if let stored = scores[caseID] { scored.append((fact?.number ?? caseID, stored.score)) }
        }
        out.summary = Self.summaryProto(CaseFileReview.summary(sampled: draw.caseIDs.count, scores: scored))
        return out
    }

    func sampledProto(position: Int, caseID: String, fact: CaseFact?, score: CaseFileStore.StoredScore?) -> Evaluation_SampledCaseFile {
        var out = Evaluation_SampledCaseFile()
        out.position = Int32(position + 1)
        out.caseID = caseID
        out.caseNumber = fact?.number ?? ""
        out.itemName = fact?.itemName ?? ""
        if let closed = fact?.completedOn { out.closedOn = Common_CivilDate(closed) }
        out.late = fact?.onTime == false
        if let score {
            out.reviewed = true
            out.reviewer = score.reviewer
            out.score = Self.scoreProto(score.score)
        }
        return out
    }

    static func scoreProto(_ score: CaseFileReview.Score) -> Evaluation_CaseFileScore {
        var out = Evaluation_CaseFileScore()
        out.materials = Int32(score.points[.materials] ?? 0)
        out.procedure = Int32(score.points[.procedure] ?? 0)
        out.timeliness = Int32(score.points[.timeliness] ?? 0)
        out.documents = Int32(score.points[.documents] ?? 0)
        out.materialsFinding = score.findings[.materials] ?? ""
        out.procedureFinding = score.findings[.procedure] ?? ""
        out.timelinessFinding = score.findings[.timeliness] ?? ""
        out.documentsFinding = score.findings[.documents] ?? ""
        out.total = Int32(score.total)
        out.grade = score.grade.proto
        return out
    }

    static func summaryProto(_ summary: CaseFileReview.Summary) -> Evaluation_CaseFileReviewSummary {
        var out = Evaluation_CaseFileReviewSummary()
        out.sampled = Int32(summary.sampled)
        out.reviewed = Int32(summary.reviewed)
        out.averageTotal = summary.averageTotal
        out.averageMaterials = summary.averageByCriterion[.materials] ?? 0
        out.averageProcedure = summary.averageByCriterion[.procedure] ?? 0
        out.averageTimeliness = summary.averageByCriterion[.timeliness] ?? 0
        out.averageDocuments = summary.averageByCriterion[.documents] ?? 0
        out.excellent = Int32(summary.grades[.excellent] ?? 0)
        out.good = Int32(summary.grades[.good] ?? 0)
        out.pass = Int32(summary.grades[.pass] ?? 0)
        out.fail = Int32(summary.grades[.fail] ?? 0)
        return out
    }
}
