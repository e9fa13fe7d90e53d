import EvaluationRules
import Foundation
import GRPCCore
import OneSealAuth
import OneSealCore
import OneSealProto
import OneSealServiceKit
import Testing
@testable import EvaluationService

/// Issue #15, finding 14: a rating retried with its idempotency key — however many at once — is
/// one rating, and every retry answers with it (before: some retries answered ALREADY_EXISTS).
@Suite("Evaluation: ratings are idempotent under concurrency", .serialized)
struct RatingIdempotencyTests {
    @Test("20 concurrent submissions with one key: one rating, 20 answers naming it")
    func concurrentRetries() async throws {
        try await withEvaluationNode(today: try CivilDate(parsing: "2026-10-16")) { node in
            try await node.deliver(try EvaluationEvents.stream())
            var request = Evaluation_SubmitRatingRequest()
            request.caseID = EvaluationEvents.c1
            request.channel = .online
            request.level = .verySatisfied
            request.comment = "办事很快"
            request.idempotencyKey = "phone-app-rating-0001"
            let applicant = try node.token(.applicant, subject: EvaluationEvents.residentID)
            let retried = request
            let ids = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<20 {
                    group.addTask { try await node.evaluation.submitRating(retried, metadata: applicant).rating.ratingID }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(ids.count == 20)
            #expect(Set(ids).count == 1)
            #expect(try await node.count("SELECT count(*) FROM ratings") == 1)
        }
    }
}
