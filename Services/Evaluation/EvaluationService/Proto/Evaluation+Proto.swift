import EvaluationContracts
import EvaluationRules
import Foundation
import OneSealCore
import OneSealPrivacy
import OneSealProto
import OneSealServiceKit
import SwiftProtobuf

struct RaterIdentity: Codable, Sendable {
    var name: String
    var phone: String
}

extension EvaluationAPI {
    func sealRater(name: String, phone: String, rating id: UUID) throws -> [UInt8]? {
        guard !name.isEmpty || !phone.isEmpty else { return nil }
        return try keyring.seal(json: RaterIdentity(name: name, phone: phone), context: "evaluation.rating:\(id.uuidString.lowercased())")
    }

    func openRater(_ rating: StoredRating) throws -> RaterIdentity? {
        guard let sealed = rating.raterSealed else { return nil }
        return try keyring.open(json: RaterIdentity.self, sealed, context: "evaluation.rating:\(rating.id.uuidString.lowercased())")
    }

    /// The wire rating. The rater's name and phone are masked unless `full` (an evaluator of this
    /// node calling the rater back; that read is logged by the caller).
    func proto(_ r: StoredRating, ticketID: UUID?, full: Bool = false) throws -> Evaluation_Rating {
        var out = Evaluation_Rating()
        out.ratingID = r.id.uuidString.lowercased()
        out.caseID = r.caseID
        out.caseNumber = r.caseNumber
        out.applicationID = r.applicationID
        out.applicationNumber = r.applicationNumber
        out.node = r.attribution.node
        out.implementationCode = r.attribution.implementationCode
        out.windowID = r.attribution.windowID
        if !r.attribution.officer.isEmpty {
            out.officer = Common_ActorRef.with { $0.subject = r.attribution.officer; $0.name = r.officerName }
        }
        if !r.attribution.department.isEmpty {
            out.department = Common_DepartmentRef.with { $0.code = r.attribution.department; $0.name = r.departmentName; $0.node = r.attribution.node }
        }
        out.channel = r.checked.channel.proto
        out.level = Evaluation_RatingLevel(rawValue: r.checked.level.level) ?? .unspecified
        out.indicators = Indicator.allCases.compactMap { indicator in
            r.checked.indicators[indicator].map { level in
                Evaluation_IndicatorScore.with { $0.indicator = indicator.proto; $0.level = Evaluation_RatingLevel(rawValue: level.level) ?? .unspecified }
            }
        }
        out.comment = r.checked.comment
        out.tags = r.checked.tags
        out.anonymous = r.checked.anonymous
        if let rater = try openRater(r) {
            let shown: Disclosure = full ? .full : .masked
            out.raterName = shown.personName(rater.name)
            out.raterPhone = shown.phone(rater.phone)
        }
        out.visitID = r.checked.visitKey
        out.ratedAt = Google_Protobuf_Timestamp(date: r.ratedAt)
        out.bad = r.checked.isBad
        out.late = r.late
        out.state = r.removed ? .removed : .active
        if let ticketID { out.rectificationID = ticketID.uuidString.lowercased() }
        return out
    }

    func proto(_ t: StoredTicket, rating: StoredRating) -> Evaluation_Rectification {
        let ticket = t.ticket
        var out = Evaluation_Rectification()
        out.rectificationID = t.id.uuidString.lowercased()
        out.ratingID = t.ratingID.uuidString.lowercased()
        out.caseID = rating.caseID
        out.status = ticket.status.proto
        let finished = ticket.rectifiedOn ?? ticket.voidedOn
        if let status = try? StatutoryClock(actDate: ticket.openedOn, workingDays: ticket.workingDays).status(asOf: finished ?? today, in: calendar, warning: settings.warning) {
            out.deadline = Common_Deadline(startedOn: ticket.openedOn, status: status, finishedOn: finished)
        }
        if !rating.attribution.department.isEmpty {
            out.department = Common_DepartmentRef.with { $0.code = rating.attribution.department; $0.name = rating.departmentName; $0.node = rating.attribution.node }
        }
        out.windowID = rating.attribution.windowID
        if !rating.attribution.officer.isEmpty {
            out.officer = Common_ActorRef.with { $0.subject = rating.attribution.officer; $0.name = rating.officerName }
        }
        out.callBacks = ticket.callBacks.map { call in
            Evaluation_CallBack.with {
                $0.at = Google_Protobuf_Timestamp(date: call.at)
                $0.by = Common_ActorRef.with { $0.subject = call.by }
                $0.reached = call.reached
                $0.summary = call.summary
                $0.verifiedFacts = call.verifiedFacts
                $0.justified = call.justified
            }
        }
        out.measures = ticket.measures
        out.feedback = ticket.feedback
        if let rectified = ticket.rectifiedOn { out.rectifiedAt = Google_Protobuf_Timestamp(date: rectified.startOfDayInstant()) }
        out.onTime = ticket.onTime ?? false
        if let level = ticket.followUpLevel { out.followUpLevel = Evaluation_RatingLevel(rawValue: level.level) ?? .unspecified }
        out.followUpComment = ticket.followUpComment
        if let closed = ticket.closedOn { out.closedAt = Google_Protobuf_Timestamp(date: closed.startOfDayInstant()) }
        out.callBackRequired = ticket.callBackRequired
        return out
    }

    func proto(_ a: StoredAppeal) -> Evaluation_Appeal {
        var out = Evaluation_Appeal()
        out.appealID = a.id.uuidString.lowercased()
        out.ratingID = a.ratingID.uuidString.lowercased()
        out.status = a.appeal.status.proto
        out.reason = a.appeal.reason
        out.evidenceFileIds = a.evidence
        out.appealedBy = Common_ActorRef.with { $0.subject = a.appealedBy.subject; $0.role = a.appealedBy.role; $0.node = a.appealedBy.node }
        out.appealedAt = Google_Protobuf_Timestamp(date: a.filedAt)
        out.decisionReason = a.appeal.decisionReason
        if let by = a.decidedBy { out.decidedBy = Common_ActorRef.with { $0.subject = by.subject; $0.role = by.role; $0.node = by.node } }
        if let at = a.decidedAt { out.decidedAt = Google_Protobuf_Timestamp(date: at) }
        return out
    }
}

extension Metrics {
    var proto: Evaluation_EfficiencyMetrics {
        var out = Evaluation_EfficiencyMetrics()
        out.received = Int64(received)
        out.accepted = Int64(accepted)
        out.corrections = Int64(corrections)
        out.oneVisitCompleted = Int64(oneVisitCompleted)
        out.oneVisitRate = oneVisitRate
        out.decided = Int64(decided)
        out.granted = Int64(granted)
        out.denied = Int64(denied)
        out.workingDaysMean = workingDaysMean
        out.onTimeRate = onTimeRate
        out.overdue = Int64(overdue)
        out.redoRate = redoRate
        out.ratings = Int64(ratings)
        out.badReviews = Int64(badReviews)
        out.badReviewRatio = badReviewRatio
        out.rectifications = Int64(rectifications)
        out.rectifiedOnTime = Int64(rectifiedOnTime)
        out.rectificationOnTimeRate = rectificationOnTimeRate
        out.delivered = Int64(delivered)
        out.consultations = Int64(consultations)
        out.running = Int64(running)
        out.satisfactionMean = satisfactionMean
        out.workingDaysMedian = workingDaysMedian
        out.workingDaysP90 = workingDaysP90
        out.notAccepted = Int64(notAccepted)
        out.withdrawn = Int64(withdrawn)
        out.decidedLate = Int64(decidedLate)
        out.runningOverdue = Int64(runningOverdue)
        out.rectificationsSettled = Int64(rectificationsSettled)
        out.rectificationsOverdue = Int64(rectificationsOverdue)
        out.licencesIssued = Int64(licencesIssued)
        out.licencesLate = Int64(licencesLate)
        return out
    }
}

extension ChartSpec {
    var proto: Evaluation_Chart {
        var out = Evaluation_Chart()
        out.chartID = id
        out.title = title
        out.type = switch kind {
        case .line: .line
        case .bar: .bar
        case .stackedBar: .stackedBar
        case .pie: .pie
        case .gauge: .gauge
        }
        out.xLabel = xLabel
        out.yLabel = yLabel
        out.unit = unit
        out.series = series.map { series in
            Evaluation_Series.with {
                $0.name = series.name
                $0.points = series.points.map { point in Evaluation_DataPoint.with { $0.label = point.label; $0.value = point.value } }
            }
        }
        out.target = target
        out.takeaway = takeaway
        return out
    }
}

extension WindowFlagResult {
    var proto: Evaluation_WindowFlag {
        var out = Evaluation_WindowFlag()
        out.windowID = windowID
        out.windowName = label
        out.node = node
        out.colour = switch colour {
        case .none: .none
        case .yellow: .yellow
        case .red: .red
        }
        out.hits = hits.map { hit in
            Evaluation_FlagRuleHit.with {
                $0.ruleID = hit.rule.id
                $0.description_p = hit.rule.description
                $0.colour = hit.rule.colour == .red ? .red : .yellow
                $0.value = hit.value
                $0.threshold = hit.rule.threshold
            }
        }
        out.metrics = metrics.proto
        return out
    }
}
