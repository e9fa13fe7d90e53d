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

/// What a rating is about: the approval case when evaluation knows it, else the application
/// (an on-site rating of the intake visit comes before any case exists).
struct RatedSubject: Sendable {
    var key: String
    var caseFact: CaseFact?
    var application: ApplicationFact?
    var description: String

    var applicantIndexes: [String] { [caseFact?.applicantIndex ?? "", application?.applicantIndex ?? ""].filter { !$0.isEmpty } }
    var completedOn: CivilDate? { caseFact?.completedOn ?? application?.completedOn }
    var node: String { caseFact?.node ?? application?.node ?? "" }
}

extension EvaluationAPI {
    /// Which roles may rate on which channel (E3): the applicant online or on site, the window's
    /// rating pad (a clerk token) on site at its own node, the provincial platform (integrator)
    /// online and for public comment, evaluators for public comment and government inspection.
    static func mayRate(_ role: Role, _ channel: RatingChannel) -> Bool {
        switch role {
        case .applicant: [.online, .onSite].contains(channel)
        case .windowClerk: channel == .onSite
        case .integrator: [.online, .publicComment].contains(channel)
        case .evaluator: [.publicComment, .governmentInspection].contains(channel)
        default: false
        }
    }

    func subject(caseID: String, applicationNumber: String, on connection: PostgresConnection) async throws -> RatedSubject {
        if !caseID.isEmpty {
            guard let (fact, application) = try await FactStore.caseWithApplication(id: caseID, on: connection) else {
                throw Self.notFound("no case \(caseID) is known to evaluation at node \(node)")
            }
            if !applicationNumber.isEmpty, fact.applicationNumber != applicationNumber {
                throw RPCError.invalidArgument(field: "application_number", "case \(caseID) belongs to application \(fact.applicationNumber), not \(applicationNumber)", reason: "mismatch")
            }
            return RatedSubject(key: "case:\(fact.id)", caseFact: fact, application: application, description: "case \(fact.number.isEmpty ? fact.id : fact.number)")
        }
        let applications = try await FactStore.applications(number: applicationNumber, on: connection)
        let application = applications.first
        let cases = try await FactStore.cases(applicationID: application?.id ?? "", number: applicationNumber, on: connection)
        if cases.count == 1 {
            return RatedSubject(key: "case:\(cases[0].id)", caseFact: cases[0], application: application, description: "case \(cases[0].number.isEmpty ? cases[0].id : cases[0].number)")
        }
        guard let application else {
            throw Self.notFound("no application \(applicationNumber) is known to evaluation at node \(node)")
        }
        return RatedSubject(key: "application:\(application.id)", caseFact: nil, application: application, description: "application \(application.number)")
    }

    public func submitRating(request: Evaluation_SubmitRatingRequest, context: ServerContext) async throws -> Evaluation_SubmitRatingResponse {
        let caller = try ServerContext.requireCaller()
        var violations: [FieldViolation] = []
        if request.caseID.isEmpty, request.applicationNumber.isEmpty {
            violations.append(FieldViolation(field: "case_id", description: "required: the case id, or the application number", reason: "required"))
        }
        let indicators: [(indicator: Indicator?, level: Int)] = request.indicators.map { score in
            let indicator = Indicator(proto: score.indicator)
            return (indicator: indicator, level: score.level.rawValue)
        }
        let channel = RatingChannel(proto: request.channel)
        let submission = RatingSubmission(
            channel: channel, level: request.level.rawValue, indicators: indicators,
            comment: request.comment, tags: request.tags, anonymous: request.anonymous, raterName: request.raterName,
            raterPhone: request.raterPhone, visitID: request.visitID)
        let checked: CheckedRating
        do throws(EvaluationRuleError) {
            checked = try RatingRules.check(submission)
        } catch {
            throw EvaluationRuleError.invalidArgument(violations + error.fieldViolations)
        }
        guard violations.isEmpty else { throw EvaluationRuleError.invalidArgument(violations) }
        guard Self.mayRate(caller.role, checked.channel) else {
            throw Self.denied("role '\(caller.role.rawValue)' may not rate on the \(checked.channel.rawValue) channel")
        }
        // An applicant's token subject is an ID number: it is never stored or logged, only its index.
        let rater = caller.role == .applicant ? "applicant:" + applicantIndex(caller.subject) : caller.subject
        let key = request.idempotencyKey.isEmpty ? (CallMetadata.idempotencyKey ?? "") : request.idempotencyKey
        let id = UUID()
        let now = clock()
        let today = self.today
        let stored: (StoredRating, StoredTicket?, replayed: Bool) = try await database.withTransaction { transaction in
            let subject = try await self.subject(caseID: request.caseID, applicationNumber: request.applicationNumber, on: transaction)
            // Serialise ratings of one subject, so the slot check and the insert are one step.
            _ = try await transaction.query("SELECT pg_advisory_xact_lock(hashtext(\("rating:" + subject.key)))")
            // A retry (or one that raced the first attempt and waited for its lock) finds the
            // first attempt's rating here and answers with it, not ALREADY_EXISTS. Looked up inside
            // the write's transaction, not before it: one commit per rating, not two.
            if !key.isEmpty, let existing = try await RatingStore.find(idempotencyKey: key, on: transaction) {
                guard existing.ratedBy == rater else { throw RPCError(code: .alreadyExists, message: "idempotency key already used by another rater") }
                return (existing, try await RatingStore.ticket(ratingID: existing.id, on: transaction), replayed: true)
            }
            var raterIndex = ""
            switch caller.role {
            case .applicant where ReceiptRater.applicationNumber(ofSubject: caller.subject) != nil:
                // A rating link on the receipt (W40): the front checked number + query code with
                // intake; the token names the application, not a person. No rater index: nobody
                // can later act on this rating as its rater.
                let rated = subject.caseFact?.applicationNumber ?? subject.application?.number ?? ""
                if let refusal = ReceiptRater.refusal(subject: caller.subject, ratedNumber: rated, channel: checked.channel, anonymous: checked.anonymous) {
                    throw Self.denied("\(subject.description): \(refusal)")
                }
            case .applicant:
                raterIndex = applicantIndex(caller.subject)
                guard !subject.applicantIndexes.isEmpty else {
                    throw Self.denied("\(subject.description) has no accepted applicant yet; it cannot be rated online before acceptance")
                }
                guard subject.applicantIndexes.contains(raterIndex) else {
                    throw Self.denied("\(subject.description) is not yours: only its applicant may rate it")
                }
            case .windowClerk:
                guard caller.node == subject.node || caller.node == subject.application?.node else {
                    throw Self.denied("a window of node \(caller.node) may not record ratings of \(subject.description) at node \(subject.node)")
                }
            default: break
            }
            let late = try RatingRules.slot(
                channel: checked.channel, visitKey: checked.visitKey,
                existing: try await RatingStore.slot(subjectKey: subject.key, channel: checked.channel, on: transaction),
                completedOn: subject.completedOn, subject: subject.description)
            let fact = subject.caseFact
            let application = subject.application
            let code = fact?.implementationCode ?? application?.items.first ?? ""
            let rating = StoredRating(
                id: id, subjectKey: subject.key, caseID: fact?.id ?? "", caseNumber: fact?.number ?? "",
                applicationID: fact?.applicationID ?? application?.id ?? "", applicationNumber: fact?.applicationNumber ?? application?.number ?? "",
                checked: checked, late: late,
                raterSealed: try sealRater(name: checked.raterName, phone: checked.raterPhone, rating: id),
                raterSubjectIndex: raterIndex, ratedBy: rater, ratedByRole: caller.role.rawValue,
                attribution: Attribution(
                    node: subject.node, implementationCode: code, windowID: application?.windowID ?? "",
                    officer: fact?.officer?.subject ?? "", department: fact?.department?.code ?? application?.itemDepartments[code]?.code ?? ""),
                itemName: fact?.itemName ?? application?.itemNames[code] ?? "", officerName: fact?.officer?.name ?? "",
                departmentName: fact?.department?.name ?? application?.itemDepartments[code]?.name ?? "",
                ratedOn: today, ratedAt: now, removed: false, idempotencyKey: key.isEmpty ? nil : key)
            try await RatingStore.insert(rating, on: transaction)
            var ticket: StoredTicket?
            var message = Evaluation_RatingSubmitted()
            message.rating = try proto(rating, ticketID: nil)
            var events = try event(message, aggregate: id)
            if checked.isBad {
                let opened = try RectificationTicket.open(
                    ratedOn: today, workingDays: settings.rectificationWorkingDays, callBackRequired: checked.callBackRequired, calendar: calendar)
                let stored = StoredTicket(id: UUID(), ratingID: id, ticket: opened, revision: 1)
                try await RatingStore.insertTicket(stored, on: transaction)
                ticket = stored
                var openedMessage = Evaluation_RectificationOpened()
                openedMessage.rectification = proto(stored, rating: rating)
                openedMessage.rating = try proto(rating, ticketID: stored.id)
                events += try event(openedMessage, aggregate: stored.id)
            }
            try await Outbox.enqueue(events, in: transaction)
            return (rating, ticket, replayed: false)
        }
        if !stored.replayed { logger.info("rating recorded", metadata: [
            "rating": "\(id)", "channel": "\(checked.channel.rawValue)", "level": "\(checked.level.level)", "bad": "\(checked.isBad)", "by": "\(caller.logSubject)",
        ]) }
        var response = Evaluation_SubmitRatingResponse()
        response.rating = try proto(stored.0, ticketID: stored.1?.id)
        if let ticket = stored.1 { response.rectification = proto(ticket, rating: stored.0) }
        return response
    }

    public func getRating(request: Evaluation_GetRatingRequest, context: ServerContext) async throws -> Evaluation_GetRatingResponse {
        let caller = try ServerContext.requireCaller()
        let id = try Self.parseID(request.ratingID, field: "rating_id")
        return try await database.withTransaction { connection in
            guard let rating = try await RatingStore.find(id: id, on: connection) else { throw Self.notFound("no rating \(request.ratingID)") }
            // The applicant who rated follows their rating's rectification online (#18); anyone
            // else's rating answers as a missing one.
            if caller.role == .applicant {
                guard !rating.raterSubjectIndex.isEmpty, rating.raterSubjectIndex == applicantIndex(caller.subject) else {
                    throw Self.notFound("no rating \(request.ratingID)")
                }
            }
            let ticket = try await RatingStore.ticket(ratingID: id, on: connection)
            // An evaluator of this node calls named bad reviews back: the full phone, logged.
            let full = caller.role != .applicant && Disclosure.of(.rating, for: caller, atNode: node) == .full && rating.checked.isBad && rating.raterSealed != nil
            if full {
                try await connection.execute("""
                    INSERT INTO personal_data_reads (subject, role, node, rating_id, purpose)
                    VALUES (\(caller.subject), \(caller.role.rawValue), \(caller.node), \(id), 'call-back of a bad review')
                    """)
            }
            var response = Evaluation_GetRatingResponse()
            response.rating = try proto(rating, ticketID: ticket?.id, full: full)
            if let ticket { response.rectification = proto(ticket, rating: rating) }
            response.appeals = try await RatingStore.appeals(ratingID: id, on: connection).map(proto)
            return response
        }
    }

    public func listRatings(request: Evaluation_ListRatingsRequest, context: ServerContext) async throws -> Evaluation_ListRatingsResponse {
        let from = request.rated.hasFrom ? request.rated.from.civilDate : nil
        let to = request.rated.hasTo ? request.rated.to.civilDate : nil
        if (request.rated.hasFrom && from == nil) || (request.rated.hasTo && to == nil) {
            throw RPCError.invalidArgument(field: "rated", "not a real calendar date", reason: "date")
        }
        let size = try Self.pageSize(request.page)
        let after = try InstantPageKey.after(request.page)
        return try await database.withConnection { connection in
            let (ratings, total, more) = try await RatingStore.page(
                node: node, ratedFrom: from, ratedTo: to, caseID: request.caseID, windowID: request.windowID, officer: request.officerSubject,
                badOnly: request.badOnly, after: after, limit: size, on: connection)
            var response = Evaluation_ListRatingsResponse()
            for rating in ratings {
                let ticket = try await RatingStore.ticket(ratingID: rating.id, on: connection)
                response.ratings.append(try proto(rating, ticketID: ticket?.id))
            }
            response.page.totalSize = Int64(total)
            if more, let last = ratings.last { response.page.nextPageToken = InstantPageKey(at: last.ratedAt, id: last.id).token }
            return response
        }
    }

    /// Page size (default 50, at most 500) and offset from an opaque token (the offset).
    static func page(_ page: Common_PageRequest) throws -> (Int, Int) {
        let size = try pageSize(page)
        guard page.pageToken.isEmpty || Int(page.pageToken).map({ $0 >= 0 }) == true else {
            throw RPCError.invalidArgument(field: "page.page_token", "not a token from a previous response", reason: "format")
        }
        return (size, Int(page.pageToken) ?? 0)
    }

    /// Page size as `common.v1.PageRequest` defines it: 0 = 50, at most 500.
    static func pageSize(_ page: Common_PageRequest) throws -> Int {
        guard page.pageSize >= 0 else { throw RPCError.invalidArgument(field: "page.page_size", "must not be negative", reason: "range") }
        return page.pageSize == 0 ? 50 : min(Int(page.pageSize), 500)
    }
}
