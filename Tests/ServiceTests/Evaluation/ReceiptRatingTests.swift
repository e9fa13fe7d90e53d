import EvaluationRules
import Foundation
import GRPCCore
import OneSealAuth
import OneSealCore
import OneSealProto
import OneSealServiceKit
import Testing
@testable import EvaluationService

/// The rating link on the receipt (#18 item 7, W40) through real RPC: an applicant token whose
/// subject is `receipt:<number>` rates that application — online, anonymously, once — and nothing else.
@Suite("Evaluation: rating by the receipt link", .serialized)
struct ReceiptRatingTests {
    static let mine = "3713022026100900000001"
    static let other = "3713022026100900000002"
    static let a = "0b1c7a52-0000-4000-8000-0000000000b1"
    static let b = "0b1c7a52-0000-4000-8000-0000000000b2"
    static let ca = "c0000000-0000-4000-8000-0000000000b1"
    static let cb = "c0000000-0000-4000-8000-0000000000b2"

    static func events() throws -> [Events_EventEnvelope] {
        var out: [Events_EventEnvelope] = []
        for (app, number, caseID) in [(a, mine, ca), (b, other, cb)] {
            let header = EvaluationEvents.header(caseID, app: app, number: number, code: "F001")
            out += [
                try EvaluationEvents.submitted(app, number, "F001", window: "W1", on: "2026-10-09"),
                try EvaluationEvents.accepted(app, number, "F001", window: "W1", on: "2026-10-09", applicant: EvaluationEvents.person(EvaluationEvents.residentID)),
                try EvaluationEvents.envelope(Approval_CaseOpened.with {
                    $0.header = header; $0.acceptanceKind = .complete; $0.acceptedOn = EvaluationEvents.date("2026-10-09")
                    $0.deadline = EvaluationEvents.deadline(started: "2026-10-09", due: "2026-10-16")
                }, source: "approval", aggregate: caseID),
                try EvaluationEvents.envelope(Approval_CaseDecided.with {
                    $0.header = header; $0.applicant = EvaluationEvents.person(EvaluationEvents.residentID); $0.acceptedOn = EvaluationEvents.date("2026-10-09")
                    $0.decision = Approval_Decision.with { $0.grant = Approval_Grant(); $0.decidedOn = EvaluationEvents.date("2026-10-14"); $0.onTime = true; $0.workingDaysTaken = 3 }
                }, source: "approval", aggregate: caseID),
            ]
        }
        return out
    }

    @Test("that application only, online only, anonymous only, by the slot rules; a bad one opens a rectification without a call-back")
    func receiptRater() async throws {
        try await withEvaluationNode(today: try CivilDate(parsing: "2026-10-16")) { node in
            _ = try await node.deliver(try Self.events())
            let link = try node.token(.applicant, subject: ReceiptRater.subject(applicationNumber: Self.mine))
            func rating(_ number: String, channel: Evaluation_RatingChannel = .online, anonymous: Bool = true) -> Evaluation_SubmitRatingRequest {
                .with {
                    $0.applicationNumber = number; $0.channel = channel; $0.level = .veryDissatisfied
                    $0.tags = ["多次跑腿"]; $0.anonymous = anonymous
                    if !anonymous { $0.raterName = "王小明"; $0.raterPhone = "13912345678" }
                    if channel == .onSite { $0.visitID = "visit-1" }
                }
            }
            await #expect { _ = try await node.evaluation.submitRating(rating(Self.other), metadata: link) } throws: {
                ($0 as? RPCError)?.code == .permissionDenied
            }
            await #expect { _ = try await node.evaluation.submitRating(rating(Self.mine, channel: .onSite), metadata: link) } throws: {
                ($0 as? RPCError)?.code == .permissionDenied
            }
            await #expect { _ = try await node.evaluation.submitRating(rating(Self.mine, anonymous: false), metadata: link) } throws: {
                ($0 as? RPCError)?.code == .permissionDenied
            }
            #expect(try await node.count("SELECT count(*) FROM ratings") == 0)
            let rated = try await node.evaluation.submitRating(rating(Self.mine), metadata: link)
            #expect(rated.rating.anonymous)
            #expect(rated.hasRectification)
            #expect(rated.rectification.callBackRequired == false)
            // The slot rules are evaluation's as for anyone: one rating and its one late rating (追评).
            _ = try? await node.evaluation.submitRating(rating(Self.mine), metadata: link)
            await #expect { _ = try await node.evaluation.submitRating(rating(Self.mine), metadata: link) } throws: { ($0 as? RPCError)?.code == .alreadyExists }
            // The applicant's own token still rates their other application as before.
            let named = try await node.evaluation.submitRating(.with {
                $0.applicationNumber = Self.other; $0.channel = .online; $0.level = .satisfied
            }, metadata: try node.token(.applicant, subject: EvaluationEvents.residentID))
            #expect(!named.rating.ratingID.isEmpty)
        }
    }
}
