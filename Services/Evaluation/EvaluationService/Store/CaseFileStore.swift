import EvaluationRules
import Foundation
import OneSealCore
import OneSealStore

/// 案卷评查's SQL (migration 0004): the month's recorded draw and the scores of its case files.
enum CaseFileStore {
    struct StoredSample: Sendable {
        var node: String
        var draw: CaseFileReview.Draw
        var drawnBy: String
        var drawnOn: CivilDate
    }

    struct StoredScore: Sendable {
        var caseID: String
        var reviewer: String
        var score: CaseFileReview.Score
        var idempotencyKey: String?
        var scoredOn: CivilDate
    }

    /// Serialises everything about one node's month (a draw racing a draw, a score racing a score
    /// of the same file), so a check and its insert are one step.
    static func lock(node: String, year: Int, month: Int, on transaction: PostgresConnection) async throws {
        _ = try await transaction.query("SELECT pg_advisory_xact_lock(hashtext(\("case-file-review:\(node):\(year)-\(month)")))")
    }

    /// The node's cases closed (decided or withdrawn) between `from` and `to`, both included:
    /// the population a month's sample is drawn from (the rules filter again; SQL narrows the read).
    static func closedCases(node: String, from: CivilDate, to: CivilDate, on connection: PostgresConnection) async throws -> [CaseFact] {
        try await connection.query("""
            SELECT fact::text AS fact FROM case_facts
            WHERE node = \(node)
              AND ((fact->>'decidedOn') BETWEEN \(from.iso8601) AND \(to.iso8601)
                OR (fact->>'withdrawnOn') BETWEEN \(from.iso8601) AND \(to.iso8601))
            """).map { try FactStore.decode(CaseFact.self, $0) }
    }

    static func insert(_ sample: StoredSample, on transaction: PostgresConnection) async throws {
        let draw = sample.draw
        try await transaction.execute("""
            INSERT INTO case_file_samples (node, year, month, seed, requested_size, population_count, population_digest, case_ids, drawn_by, drawn_on)
            VALUES (\(sample.node), \(draw.year), \(draw.month), \(Int64(bitPattern: draw.seed)), \(draw.requestedSize), \(draw.populationCount),
                \(draw.populationDigest), \(try FactStore.json(draw.caseIDs))::jsonb, \(sample.drawnBy), \(sample.drawnOn.iso8601)::date)
            """)
    }

    static func sample(node: String, year: Int, month: Int, on connection: PostgresConnection) async throws -> StoredSample? {
        guard let row = try await connection.query("""
            SELECT seed, requested_size, population_count, population_digest, case_ids::text AS case_ids, drawn_by, drawn_on::text AS drawn_on
            FROM case_file_samples WHERE node = \(node) AND year = \(year) AND month = \(month)
            """).first else { return nil }
        let ids = try JSONDecoder().decode([String].self, from: Data(try row.decode("case_ids", as: String.self).utf8))
        return StoredSample(
            node: node,
            draw: CaseFileReview.Draw(
                year: year, month: month, seed: UInt64(bitPattern: try row.decode("seed", as: Int64.self)),
                requestedSize: try row.decode("requested_size", as: Int.self), populationCount: try row.decode("population_count", as: Int.self),
                populationDigest: try row.decode("population_digest", as: String.self), caseIDs: ids),
            drawnBy: try row.decode("drawn_by", as: String.self),
            drawnOn: try CivilDate(parsing: try row.decode("drawn_on", as: String.self)))
    }

    static func insert(_ score: StoredScore, node: String, year: Int, month: Int, on transaction: PostgresConnection) async throws {
        try await transaction.execute("""
            INSERT INTO case_file_scores (node, year, month, case_id, reviewer, score, total, grade, idempotency_key, scored_on)
            VALUES (\(node), \(year), \(month), \(score.caseID), \(score.reviewer), \(try FactStore.json(score.score))::jsonb,
                \(score.score.total), \(score.score.grade.rawValue), \(score.idempotencyKey), \(score.scoredOn.iso8601)::date)
            """)
    }

    /// The month's scores of `node`, by case id.
    static func scores(node: String, year: Int, month: Int, on connection: PostgresConnection) async throws -> [String: StoredScore] {
        let rows = try await connection.query("""
            SELECT case_id, reviewer, score::text AS score, idempotency_key, scored_on::text AS scored_on
            FROM case_file_scores WHERE node = \(node) AND year = \(year) AND month = \(month)
            """)
        return Dictionary(uniqueKeysWithValues: try rows.map { let score = try decodeScore($0); return (score.caseID, score) })
    }

    /// One file's score in the month's sample, if it was scored.
    static func score(node: String, year: Int, month: Int, caseID: String, on connection: PostgresConnection) async throws -> StoredScore? {
        try await connection.query("""
            SELECT case_id, reviewer, score::text AS score, idempotency_key, scored_on::text AS scored_on
            FROM case_file_scores WHERE node = \(node) AND year = \(year) AND month = \(month) AND case_id = \(caseID)
            """).first.map(decodeScore)
    }

    private static func decodeScore(_ row: PostgresRow) throws -> StoredScore {
        StoredScore(
            caseID: try row.decode("case_id", as: String.self), reviewer: try row.decode("reviewer", as: String.self),
            score: try JSONDecoder().decode(CaseFileReview.Score.self, from: Data(try row.decode("score", as: String.self).utf8)),
            idempotencyKey: try row.decode("idempotency_key", as: String?.self),
            scoredOn: try CivilDate(parsing: try row.decode("scored_on", as: String.self)))
    }

    /// The month's summary over `nodes` (a city's report counts its counties' reviews too), or nil
    /// when none of them drew a sample that month.
    static func summary(nodes: Set<String>, year: Int, month: Int, on connection: PostgresConnection) async throws -> CaseFileReview.Summary? {
        var sampled = 0
        var scored: [(caseNumber: String, score: CaseFileReview.Score)] = []
        var any = false
        for node in nodes.sorted() {
            guard let sample = try await sample(node: node, year: year, month: month, on: connection) else { continue }
            any = true
            sampled += sample.draw.caseIDs.count
            for (caseID, stored) in try await scores(node: node, year: year, month: month, on: connection) {
                let number = try await FactStore.case(id: caseID, on: connection)?.number ?? caseID
                scored.append((number.isEmpty ? caseID : number, stored.score))
            }
        }
        return any ? CaseFileReview.summary(sampled: sampled, scores: scored) : nil
    }
}
