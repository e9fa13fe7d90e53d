import EvaluationContracts
import EvaluationRules
import Foundation
import GRPCCore
import OneSealAuth
import OneSealCore
import OneSealOutbox
import OneSealProto
import OneSealServiceKit
import OneSealStore

extension EvaluationAPI {
    /// Loads a ticket and its rating under a row lock, applies `change`, stores the result.
    func changingTicket(
        _ text: String, _ change: (inout RectificationTicket, StoredRating, UUID) throws -> [OutboxEvent]
    ) async throws -> Evaluation_Rectification {
        let id = try Self.parseID(text, field: "rectification_id")
        return try await database.withTransaction { transaction in
            guard var stored = try await RatingStore.ticket(id: id, forUpdate: true, on: transaction),
                  let rating = try await RatingStore.find(id: stored.ratingID, on: transaction) else {
                throw Self.notFound("no rectification \(text)")
            }
            let events = try change(&stored.ticket, rating, stored.id)
            try await RatingStore.updateTicket(stored, on: transaction)
            try await Outbox.enqueue(events, in: transaction)
            return proto(stored, rating: rating)
        }
    }

    public func listRectifications(request: Evaluation_ListRectificationsRequest, context: ServerContext) async throws -> Evaluation_ListRectificationsResponse {
        let statuses = Set(request.statuses.compactMap(RectificationTicket.Status.init(proto:)))
        let (size, offset) = try Self.page(request.page)
        let today = self.today
        return try await database.withConnection { connection in
            let rows = try await RatingStore.tickets(nodes: [node], on: connection).filter { ticket, rating in
                (statuses.isEmpty || statuses.contains(ticket.ticket.status))
                    && (!request.overdueOnly || ticket.ticket.isOverdue(asOf: today))
                    && (request.departmentCode.isEmpty || rating.attribution.department == request.departmentCode)
                    && (request.windowID.isEmpty || rating.attribution.windowID == request.windowID)
            }
            var response = Evaluation_ListRectificationsResponse()
            response.rectifications = rows.dropFirst(offset).prefix(size).map { proto($0.0, rating: $0.1) }
            response.page.totalSize = Int64(rows.count)
            if offset + size < rows.count { response.page.nextPageToken = String(offset + size) }
            return response
        }
    }

    public func recordCallBack(request: Evaluation_RecordCallBackRequest, context: ServerContext) async throws -> Evaluation_RecordCallBackResponse {
        let caller = try ServerContext.requireCaller()
        let now = clock()
        let today = self.today
        var response = Evaluation_RecordCallBackResponse()
        response.rectification = try await changingTicket(request.rectificationID) { ticket, _, _ in
            let call = request.callBack
            try ticket.recordCallBack(.init(
                on: today, at: call.hasAt ? call.at.date : now, by: caller.subject, reached: call.reached, summary: call.summary,
                verifiedFacts: call.verifiedFacts, justified: call.justified))
            return []
        }
        return response
    }

    public func completeRectification(request: Evaluation_CompleteRectificationRequest, context: ServerContext) async throws -> Evaluation_CompleteRectificationResponse {
        let today = self.today
        var response = Evaluation_CompleteRectificationResponse()
        response.rectification = try await changingTicket(request.rectificationID) { ticket, _, _ in
            try ticket.complete(measures: request.measures, feedback: request.feedback, on: today)
            return []
        }
        return response
    }

    public func rateRectification(request: Evaluation_RateRectificationRequest, context: ServerContext) async throws -> Evaluation_RateRectificationResponse {
        let caller = try ServerContext.requireCaller()
        let today = self.today
        var response = Evaluation_RateRectificationResponse()
        response.rectification = try await changingTicket(request.rectificationID) { ticket, rating, id in
            // The rater rates the fix: the applicant who rated, or an evaluator recording what the
            // rater said on the phone.
            if caller.role == .applicant {
                guard !rating.raterSubjectIndex.isEmpty, rating.raterSubjectIndex == applicantIndex(caller.subject) else {
                    throw Self.denied("only the person who gave the bad review rates its fix")
                }
            }
            try ticket.rateFix(level: request.level.rawValue, comment: request.comment, on: today)
            var message = Evaluation_RectificationClosed()
            message.rectification = proto(StoredTicket(id: id, ratingID: rating.id, ticket: ticket, revision: 0), rating: rating)
            return try event(message, aggregate: id)
        }
        return response
    }

    public func appealRating(request: Evaluation_AppealRatingRequest, context: ServerContext) async throws -> Evaluation_AppealRatingResponse {
        let caller = try ServerContext.requireCaller()
        let id = try Self.parseID(request.ratingID, field: "rating_id")
        if request.evidenceFileIds.contains(where: \.isEmpty) {
            throw RPCError.invalidArgument(field: "evidence_file_ids", "blank file id", reason: "required")
        }
        let now = clock()
        let today = self.today
        return try await database.withTransaction { transaction in
            guard let rating = try await RatingStore.find(id: id, forUpdate: true, on: transaction) else { throw Self.notFound("no rating \(request.ratingID)") }
            guard rating.attribution.node == node else { throw Self.denied("the rating belongs to node \(rating.attribution.node)") }
            let earlier = try await RatingStore.appeals(ratingID: id, forUpdate: true, on: transaction)
            let appeal = try Appeal.file(
                reason: request.reason, by: caller.subject, on: today, ratingLevel: rating.checked.level, ratingRemoved: rating.removed,
                ratedOn: rating.ratedOn, earlier: earlier.map(\.appeal), appealWorkingDays: settings.appealWorkingDays, calendar: calendar)
            let stored = StoredAppeal(id: UUID(), ratingID: id, appeal: appeal, evidence: request.evidenceFileIds, appealedBy: ActorRecord(caller),
                                      decidedBy: nil, filedAt: now, decidedAt: nil)
            try await RatingStore.insertAppeal(stored, on: transaction)
            var response = Evaluation_AppealRatingResponse()
            response.appeal = proto(stored)
            return response
        }
    }

    public func decideAppeal(request: Evaluation_DecideAppealRequest, context: ServerContext) async throws -> Evaluation_DecideAppealResponse {
        let caller = try ServerContext.requireCaller()
        let id = try Self.parseID(request.appealID, field: "appeal_id")
        let now = clock()
        let today = self.today
        return try await database.withTransaction { transaction in
            guard var appeal = try await RatingStore.appeal(id: id, on: transaction) else { throw Self.notFound("no appeal \(request.appealID)") }
            guard var rating = try await RatingStore.find(id: appeal.ratingID, forUpdate: true, on: transaction) else {
                throw Self.notFound("no rating \(appeal.ratingID)")
            }
            try appeal.appeal.decide(upheld: request.upheld, reason: request.reason, by: caller.subject, on: today)
            appeal.decidedBy = ActorRecord(caller)
            appeal.decidedAt = now
            try await RatingStore.updateAppeal(appeal, on: transaction)
            var ticketID: UUID?
            if var ticket = try await RatingStore.ticket(ratingID: rating.id, forUpdate: true, on: transaction) {
                ticketID = ticket.id
                if request.upheld {
                    ticket.ticket.voidByAppeal(on: today)
                    try await RatingStore.updateTicket(ticket, on: transaction)
                }
            }
            if request.upheld {
                try await RatingStore.markRemoved(rating.id, on: transaction)
                rating.removed = true
            }
            var message = Evaluation_AppealDecided()
            message.appeal = proto(appeal)
            try await Outbox.enqueue(try event(message, aggregate: appeal.id), in: transaction)
            logger.info("appeal decided", metadata: ["appeal": "\(id)", "upheld": "\(request.upheld)", "by": "\(caller.logSubject)"])
            var response = Evaluation_DecideAppealResponse()
            response.appeal = proto(appeal)
            response.rating = try proto(rating, ticketID: ticketID)
            return response
        }
    }
}
