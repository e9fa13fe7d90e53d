import ApprovalContracts
import ApprovalRules
import Foundation
import GRPCCore
import OneSealAuth
import OneSealCore
import OneSealOutbox
import OneSealProto
import OneSealServiceKit
import OneSealStore
import SwiftProtobuf

/// The clock (suspensions, the extension), joint review, the decision and what follows a grant.
extension ApprovalAPI {
    public func suspendClock(request: Approval_SuspendClockRequest, context: ServerContext) async throws -> Approval_SuspendClockResponse {
        let caller = try ServerContext.requireCaller()
        let id = try Self.parseCaseID(request.caseID)
        let actor = Self.actorOf(caller)
        let on = today
        let updated = try await changing(id, by: actor) { state, transaction in
            let suspensionID = "sp\(state.suspensions.count + 1)"
            // The notice's number is taken in this transaction: a refused suspension rolls it back.
            let serial = try await CaseStore.nextNumber(scope: "document:\(node):暂停:\(on.year)", in: transaction)
            try state.suspend(reason: SuspensionReason(proto: request.reason), expectedDays: Int(request.expectedDays), noticeText: request.noticeText,
                              on: on, by: actor, id: suspensionID) { state, record in
                suspensionNotice(serial: serial, state: state, record: record)
            }
            let record = state.suspensions.last!
            var message = Approval_ClockSuspended()
            message.header = header(id: id, state)
            message.suspension = record.proto
            return Change("clock.suspended", ["suspension": suspensionID, "reason": record.reason.rawValue, "expected_days": String(record.expectedDays),
                                              "notice": record.noticeText, "on": on.iso8601],
                          events: try events(message, to: [intake(of: state), evaluation], aggregate: id))
        }
        var response = Approval_SuspendClockResponse()
        response.case = try await viewing(updated, for: caller, purpose: "suspend_clock")
        response.suspension = updated.state.suspensions.last!.proto
        return response
    }

    public func resumeClock(request: Approval_ResumeClockRequest, context: ServerContext) async throws -> Approval_ResumeClockResponse {
        let caller = try ServerContext.requireCaller()
        let id = try Self.parseCaseID(request.caseID)
        let actor = Self.actorOf(caller)
        let on = today
        let shown = try await changing(id, by: actor, shownTo: caller, purpose: "resume_clock") { state, _ in
            try state.resume(suspensionID: request.suspensionID, result: request.result, on: on, by: actor)
            let record = state.suspensions.last { $0.resumedOn == on }!
            var message = Approval_ClockResumed()
            message.header = header(id: id, state)
            message.suspension = record.proto
            message.deadline = deadline(state, try state.deadlineStatus(asOf: on, calendar: calendar, warning: settings.warning))
            return Change("clock.resumed", ["suspension": record.id, "result": record.result, "on": on.iso8601, "due_on": message.deadline.dueOn.civilDate?.iso8601 ?? ""],
                          events: try events(message, to: [intake(of: state), evaluation], aggregate: id))
        }
        var response = Approval_ResumeClockResponse()
        response.case = shown
        return response
    }

    public func requestExtension(request: Approval_RequestExtensionRequest, context: ServerContext) async throws -> Approval_RequestExtensionResponse {
        let caller = try ServerContext.requireCaller()
        let id = try Self.parseCaseID(request.caseID)
        if !request.approvedBySubject.isEmpty, request.approvedBySubject != caller.subject {
            throw RPCError.invalidArgument(field: "approved_by_subject", "the head approves an extension with their own token; \(request.approvedBySubject) is not the caller (\(caller.subject))", reason: "not_caller")
        }
        let actor = Self.actorOf(caller)
        let on = today
        let shown = try await changing(id, by: actor, shownTo: caller, purpose: "extension") { state, transaction in
            let serial = try await CaseStore.nextNumber(scope: "document:\(node):延期:\(on.year)", in: transaction)
            try state.extend(days: Int(request.extensionDays), reason: request.reason, by: actor, on: on, calendar: calendar) { state, record in
                extensionNotice(serial: serial, state: state, record: record)
            }
            let record = state.extensionRecord!
            var message = Approval_DeadlineExtended()
            message.header = header(id: id, state)
            message.extension = Approval_Extension.with {
                $0.extensionDays = Int32(record.days)
                $0.reason = record.reason
                $0.approvedBy = Common_ActorRef(record.approvedBy)
                $0.approvedOn = Common_CivilDate(record.approvedOn)
                if let notice = record.notice { $0.notice = Common_IssuedDocument(notice) }
            }
            message.deadline = deadline(state, try state.deadlineStatus(asOf: on, calendar: calendar, warning: settings.warning))
            return Change("clock.extended", ["days": String(record.days), "reason": record.reason, "due_on": message.deadline.dueOn.civilDate?.iso8601 ?? ""],
                          events: try events(message, to: [intake(of: state), evaluation], aggregate: id))
        }
        var response = Approval_RequestExtensionResponse()
        response.case = shown
        return response
    }

    public func recordJointReview(request: Approval_RecordJointReviewRequest, context: ServerContext) async throws -> Approval_RecordJointReviewResponse {
        let caller = try ServerContext.requireCaller()
        let id = try Self.parseCaseID(request.caseID)
        let input = request.review
        var violations: [Common_FieldViolation] = []
        let kind = JointReviewKind(proto: input.kind)
        if kind == nil { violations.append(Common_FieldViolation.with { $0.field = "review.kind"; $0.description_p = "required: section, deputy or collective"; $0.reason = "required" }) }
        let outcome = StepConclusion(proto: input.outcome)
        if outcome == nil { violations.append(Common_FieldViolation.with { $0.field = "review.outcome"; $0.description_p = "required: the resolution (propose grant or deny)"; $0.reason = "required" }) }
        var opinions: [ParticipantOpinion] = []
        for (index, opinion) in input.opinions.enumerated() {
            guard let vote = Vote(proto: opinion.vote) else {
                violations.append(Common_FieldViolation.with { $0.field = "review.opinions[\(index)].vote"; $0.description_p = "required: agree, disagree or abstain"; $0.reason = "required" })
                continue
            }
            opinions.append(ParticipantOpinion(participant: opinion.participant.actor, title: opinion.title, opinion: opinion.opinion, vote: vote))
        }
        let now = clock()
        if input.hasHeldAt, input.heldAt.date > now.addingTimeInterval(300) {
            violations.append(Common_FieldViolation.with { $0.field = "review.held_at"; $0.description_p = "a meeting is recorded after it was held, not before"; $0.reason = "out_of_range" })
        }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let actor = Self.actorOf(caller)
        let key = CallMetadata.idempotencyKey
        if let key, key.unicodeScalars.count > FieldLimits.identifier.maximumLength {
            throw RPCError.invalidArgument(field: "idempotency-key", "at most \(FieldLimits.identifier.maximumLength) characters (\(FieldLimits.identifier.domain))", reason: "too_long")
        }
        // A repeat of a recorded meeting (same key, same convener) answers the case as it is: the
        // check runs on the locked row, so two copies sent at once record one meeting.
        let updated = try await database.withTransaction { transaction in
            let stored = try await find(id, on: transaction, forUpdate: true)
            if stored.state.recordedJointReview(key: key, by: actor.subject) != nil, actor.node == stored.state.decidingNode.code { return stored }
            return try await changingLocked(stored, by: actor, in: transaction) { state, _ in
                let record = JointReviewRecord(
                    id: "jr\(state.jointReviews.count + 1)", kind: kind!, heldAt: input.hasHeldAt ? input.heldAt.date : now, location: input.location,
                    convenedBy: actor, opinions: opinions, conclusion: input.conclusion, outcome: outcome!, minutesFileID: input.minutesFileID, requestKey: key)
                try state.recordJointReview(record)
                let votes = opinions.map { "\($0.participant.subject):\($0.vote.rawValue)" }.joined(separator: ",")
                return Change("joint_review.recorded", ["review": record.id, "kind": record.kind.rawValue, "votes": votes, "outcome": record.outcome.rawValue, "conclusion": record.conclusion])
            }
        }
        var response = Approval_RecordJointReviewResponse()
        response.case = try await viewing(updated, for: caller, purpose: "joint_review")
        return response
    }

    // MARK: Decision

    /// The 准予/不予行政许可决定书 text, numbered per kind and year.
    /// 暂停计时告知书: which procedure, why, how long, and that its time is not counted (Art. 45).
    func suspensionNotice(serial: Int, state: CaseState, record: SuspensionRecord) -> Document {
        let number = "\(node)审暂〔\(record.suspendedOn.year)〕\(serial)号"
        let lines = [
            settings.agencyName, "暂停计时告知书", number, "",
            "办件编号：\(state.caseNumber)", "申请事项：\(state.item.name)（\(state.item.implementationCode)）", "受理日期：\(state.acceptedOn.iso8601)",
            "你（单位）申请的上述事项，依法需要进行\(record.reason.chineseName)。根据《中华人民共和国行政许可法》第四十五条，所需时间不计算在法定审批期限内，预计需要\(record.expectedDays)个工作日。",
            "自\(record.suspendedOn.year)年\(record.suspendedOn.month)月\(record.suspendedOn.day)日起暂停计算审批期限，程序结束后恢复计算，届时另行告知新的办结期限。",
            "说明：\(record.noticeText)", "",
            settings.agencyName, "\(record.suspendedOn.year)年\(record.suspendedOn.month)月\(record.suspendedOn.day)日",
        ]
        return Document(id: "\(state.caseNumber)-\(record.id)", number: number, title: "暂停计时告知书",
                        issuedOn: record.suspendedOn, agency: settings.agencyName, text: lines.joined(separator: "\n"))
    }

    /// 延长审批期限告知书: the approval, the reason and the new due date (Art. 42). Joint or
    /// centralised handling (¶2) is extended with the approval of the government's head and cites ¶2.
    func extensionNotice(serial: Int, state: CaseState, record: ExtensionRecord) -> Document {
        let number = "\(node)审延〔\(record.approvedOn.year)〕\(serial)号"
        let due = (try? state.clocks.statutory.deadline(in: calendar))
        let ground = state.item.jointHandling
            ? "本事项实行联合办理，经本级人民政府负责人批准，根据《中华人民共和国行政许可法》第四十二条第二款"
            : "经本机关负责人批准，根据《中华人民共和国行政许可法》第四十二条第一款"
        var lines = [
            settings.agencyName, "延长审批期限告知书", number, "",
            "办件编号：\(state.caseNumber)", "申请事项：\(state.item.name)（\(state.item.implementationCode)）", "受理日期：\(state.acceptedOn.iso8601)",
            "你（单位）申请的上述事项，因\(record.reason)，不能在法定期限内作出决定。\(ground)，审批期限延长\(record.days)个工作日。",
        ]
        if let due { lines.append("延长后的办结期限为\(due.year)年\(due.month)月\(due.day)日（如有不计入期限的程序，相应顺延）。") }
        lines += ["", settings.agencyName, "\(record.approvedOn.year)年\(record.approvedOn.month)月\(record.approvedOn.day)日"]
        return Document(id: "\(state.caseNumber)-X", number: number, title: "延长审批期限告知书",
                        issuedOn: record.approvedOn, agency: settings.agencyName, text: lines.joined(separator: "\n"))
    }

    func decisionDocument(serial: Int, state: CaseState, record: DecisionRecord) -> Document {
        let grant = record.outcome.isGrant
        let kind = grant ? "许准" : "许不"
        let number = "\(node)\(kind)〔\(record.decidedOn.year)〕\(serial)号"
        var lines = [settings.agencyName, grant ? "准予行政许可决定书" : "不予行政许可决定书", number, "", "办件编号：\(state.caseNumber)",
                     "申请事项：\(state.item.name)（\(state.item.implementationCode)）", "受理日期：\(state.acceptedOn.iso8601)"]
        switch record.outcome {
        case .grant(let terms) where record.deemedRenewal == true:
            let renewal = state.renewal
            lines.append("你（单位）于\(renewal?.appliedOn.iso8601 ?? "")申请延续行政许可（证照标识 \(renewal?.licenceIdentifier ?? "")），本机关在该行政许可有效期届满（\(renewal?.window.validUntil.iso8601 ?? "")）前未作出是否准予延续的决定。根据《中华人民共和国行政许可法》第五十条第二款，视为准予延续。")
            lines.append("许可范围：原许可范围不变")
            lines.append("延续后有效期：\(terms.validFrom?.iso8601 ?? "") 至 \(terms.validUntil?.iso8601 ?? "长期")")
        case .grant where state.change != nil:
            let change = state.change!
            lines.append("你（单位）申请变更行政许可（证照标识 \(change.licenceIdentifier)）。\(change.isRecordedOnly ? "所申请变更事项属于登记事项，予以登记" : "经审查，变更申请符合法定条件、标准")，根据《中华人民共和国行政许可法》第四十九条，准予变更，换发证照，原证照同时失效（已换发）。")
            lines.append("变更事项：\(change.summary)")
            lines.append("有效期：不变")
        case .grant(let terms):
            lines.append("经审查，你（单位）的申请符合法定条件、标准，根据《中华人民共和国行政许可法》第三十八条第一款，决定准予行政许可。")
            lines.append("许可范围：\(terms.scope)")
            if !terms.place.isEmpty { lines.append("地址：\(terms.place)") }
            for (index, condition) in terms.conditions.enumerated() { lines.append("附加条件\(index + 1)：\(condition)") }
            lines.append("有效期：\(terms.validFrom?.iso8601 ?? record.decidedOn.iso8601) 至 \(terms.validUntil?.iso8601 ?? "长期")")
            if record.instant { lines.append("本决定由智能审批规则作出，规则核验记录附卷。") }
        case .deny(let terms):
            lines.append("经审查，你（单位）的申请不符合法定条件，根据《中华人民共和国行政许可法》第三十八条第二款，决定不予行政许可。理由如下：")
            for (index, reason) in terms.reasons.enumerated() { lines.append("\(index + 1). \(reason)") }
            lines.append("依据：\(terms.legalBasis)")
            lines.append(terms.appealRights)
        }
        if let hearing = state.hearing, let held = hearing.hearingOn, hearing.recordClosedOn != nil {
            lines.append("本决定根据\(held.year)年\(held.month)月\(held.day)日听证的听证笔录作出（《中华人民共和国行政许可法》第四十八条第二款）。")
        }
        lines += ["", settings.agencyName, "\(record.decidedOn.year)年\(record.decidedOn.month)月\(record.decidedOn.day)日"]
        return Document(id: "\(state.caseNumber)-D", number: number, title: grant ? "准予行政许可决定书" : "不予行政许可决定书",
                        issuedOn: record.decidedOn, agency: settings.agencyName, text: lines.joined(separator: "\n"))
    }

    /// CaseDecided to the window that accepted, certificate (grants become licences), supervision
    /// and evaluation (of both nodes when they differ).
    func decidedEvents(_ state: CaseState, id: UUID, in transaction: PostgresConnection) async throws -> [OutboxEvent] {
        let applicantSealed = try await CaseStore.applicantSealed(of: id, on: transaction)
        var message = Approval_CaseDecided()
        message.header = header(id: id, state)
        message.decision = state.decision!.proto
        if let applicantSealed { message.applicant = try openApplicant(applicantSealed, of: id) }
        message.item = state.item.proto
        message.acceptanceKind = state.acceptanceKind.proto
        message.acceptedOn = Common_CivilDate(state.acceptedOn)
        message.bundleID = state.bundleID
        message.returns = Int32(state.returns)
        if let renewal = state.renewal { message.renewal = Common_Renewal(renewal) }
        if let change = state.change { message.change = Common_LicenceChange(change) }
        return try events(message, to: [intake(of: state), certificate, supervision, evaluation, "evaluation@\(state.acceptingNode.code)"], aggregate: id)
    }

    public func decide(request: Approval_DecideRequest, context: ServerContext) async throws -> Approval_DecideResponse {
        let caller = try ServerContext.requireCaller()
        let id = try Self.parseCaseID(request.caseID)
        var outcome: Outcome?
        switch request.outcome {
        case .grant(let grant)?:
            if grant.hasValidFrom, grant.validFrom.civilDate == nil { throw RPCError.invalidArgument(field: "grant.valid_from", "not a calendar date", reason: "format") }
            if grant.hasValidUntil, grant.validUntil.civilDate == nil { throw RPCError.invalidArgument(field: "grant.valid_until", "not a calendar date", reason: "format") }
            outcome = .grant(GrantTerms(proto: grant))
        case .denial(let denial)?: outcome = .deny(DenialTerms(proto: denial))
        case nil: outcome = nil
        }
        let actor = Self.actorOf(caller)
        let on = today
        let now = clock()
        let shown = try await changing(id, expectedRevision: request.expectedRevision, by: actor, shownTo: caller, purpose: "decide") { state, transaction in
            let grant = outcome?.isGrant ?? true
            // The number is taken inside this transaction; a refused decision rolls it back.
            let serial = try await CaseStore.nextNumber(scope: "document:\(node):\(grant ? "许准" : "许不"):\(on.year)", in: transaction)
            let document = { (state: CaseState, record: DecisionRecord) in decisionDocument(serial: serial, state: state, record: record) }
            if request.opinion.isEmpty {
                try state.decide(outcome, by: actor, on: on, at: now, calendar: calendar, defaultAppealRights: settings.appealRightsTemplate, document: document)
            } else {
                try state.reviewAndDecide(
                    opinion: request.opinion, outcome, by: actor, on: on, at: now, calendar: calendar, defaultAppealRights: settings.appealRightsTemplate,
                    document: document)
            }
            let decision = state.decision!
            var change = Change("case.decided", ["outcome": decision.outcome.isGrant ? "grant" : "deny", "document": decision.document?.number ?? "",
                                                 "on_time": String(decision.onTime), "working_days_taken": String(decision.workingDaysTaken)],
                                events: try await decidedEvents(state, id: id, in: transaction))
            if !request.opinion.isEmpty { change.earlier = [try signed(id: id, state, by: actor, asOfficer: true)] }
            return change
        }
        var response = Approval_DecideResponse()
        response.case = shown
        return response
    }

    /// Runs the item's rule set; on a grant the decision and its events are written too.
    func instantChange(_ state: inout CaseState, id: UUID, facts: [String: String], requestedBy: String, in transaction: PostgresConnection) async throws -> Change {
        let on = today
        let now = clock()
        let serial = try await CaseStore.nextNumber(scope: "document:\(node):许准:\(on.year)", in: transaction)
        let (granted, trace) = try state.instantApprove(
            ruleSet: settings.instantRuleSets[state.item.instantRuleSet], facts: facts, requestedBy: requestedBy, on: on, at: now, calendar: calendar
        ) { state, record in decisionDocument(serial: serial, state: state, record: record) }
        let summary = trace.map { "\($0.ruleID)=\($0.passed ? "pass" : "fail")" }.joined(separator: ",")
        guard granted else {
            // The unused number is released with the rollback of nothing: take it back explicitly.
            try await transaction.execute("UPDATE number_counters SET last = last - 1 WHERE scope = \("document:\(node):许准:\(on.year)") AND last = \(serial)")
            return Change("instant.fell_back", ["rule_set": state.item.instantRuleSet, "trace": summary, "requested_by": requestedBy])
        }
        return Change("case.decided", ["outcome": "grant", "instant": "true", "rule_set": state.item.instantRuleSet, "trace": summary,
                                       "document": state.decision?.document?.number ?? ""],
                      events: try await decidedEvents(state, id: id, in: transaction))
    }

    public func instantApprove(request: Approval_InstantApproveRequest, context: ServerContext) async throws -> Approval_InstantApproveResponse {
        let caller = try ServerContext.requireCaller()
        let id = try Self.parseCaseID(request.caseID)
        let actor = Self.actorOf(caller)
        let updated = try await changing(id, by: actor) { state, transaction in
            try await instantChange(&state, id: id, facts: request.facts, requestedBy: caller.subject, in: transaction)
        }
        var response = Approval_InstantApproveResponse()
        response.case = try await viewing(updated, for: caller, purpose: "instant_approve")
        response.granted = updated.state.status == .granted
        response.trace = updated.state.instantAttempts.last?.trace.map(\.proto) ?? []
        return response
    }

    public func withdraw(request: Approval_WithdrawRequest, context: ServerContext) async throws -> Approval_WithdrawResponse {
        let caller = try ServerContext.requireCaller()
        let id = try Self.parseCaseID(request.caseID)
        let actor = Self.actorOf(caller)
        let on = today
        let shown = try await changing(id, by: actor, shownTo: caller, purpose: "withdraw") { state, _ in
            try state.withdraw(reason: request.withdrawal.reason, requestFileID: request.withdrawal.requestFileID, on: on, by: actor)
            var message = Approval_CaseWithdrawn()
            message.header = header(id: id, state)
            message.withdrawal = state.withdrawal!.proto
            return Change("case.withdrawn", ["reason": state.withdrawal!.reason, "request_file_id": request.withdrawal.requestFileID],
                          events: try events(message, to: [intake(of: state), evaluation], aggregate: id))
        }
        var response = Approval_WithdrawResponse()
        response.case = shown
        return response
    }

    /// GrantRevoked / GrantCancelled to certificate, supervision, evaluation and the window.
    func afterGrantEvents(_ message: some SwiftProtobuf.Message, state: CaseState, id: UUID) throws -> [OutboxEvent] {
        try events(message, to: [certificate, supervision, evaluation, intake(of: state)], aggregate: id)
    }

    func revoked(_ state: CaseState, id: UUID) throws -> [OutboxEvent] {
        var message = Approval_GrantRevoked()
        message.header = header(id: id, state)
        message.revocation = state.revocation!.proto
        if let licence = state.licence { message.licence = licence.proto }
        return try afterGrantEvents(message, state: state, id: id)
    }

    func cancelled(_ state: CaseState, id: UUID) throws -> [OutboxEvent] {
        var message = Approval_GrantCancelled()
        message.header = header(id: id, state)
        message.cancellation = state.cancellation!.proto
        if let licence = state.licence { message.licence = licence.proto }
        return try afterGrantEvents(message, state: state, id: id)
    }

    public func revoke(request: Approval_RevokeRequest, context: ServerContext) async throws -> Approval_RevokeResponse {
        let caller = try ServerContext.requireCaller()
        let id = try Self.parseCaseID(request.caseID)
        let actor = Self.actorOf(caller)
        let on = today
        let input = request.revocation
        let shown = try await changing(id, by: actor, shownTo: caller, purpose: "revoke") { state, _ in
            try state.revoke(ground: RevocationGround(proto: input.ground), facts: input.facts, publicInterestAssessment: input.publicInterestAssessment,
                             publicInterestSeriouslyHarmed: input.publicInterestSeriouslyHarmed, findingID: input.findingID, by: actor, on: on)
            let record = state.revocation!
            return Change("grant.revoked", ["ground": record.ground.rawValue, "facts": record.facts, "finding_id": record.findingID],
                          events: try revoked(state, id: id))
        }
        var response = Approval_RevokeResponse()
        response.case = shown
        return response
    }

    public func cancel(request: Approval_CancelRequest, context: ServerContext) async throws -> Approval_CancelResponse {
        let caller = try ServerContext.requireCaller()
        let id = try Self.parseCaseID(request.caseID)
        let actor = Self.actorOf(caller)
        let on = today
        let input = request.cancellation
        let shown = try await changing(id, by: actor, shownTo: caller, purpose: "cancel") { state, _ in
            try state.cancel(ground: CancellationGround(proto: input.ground), facts: input.facts, findingID: input.findingID, by: actor, on: on)
            let record = state.cancellation!
            return Change("grant.cancelled", ["ground": record.ground.rawValue, "facts": record.facts, "finding_id": record.findingID],
                          events: try cancelled(state, id: id))
        }
        var response = Approval_CancelResponse()
        response.case = shown
        return response
    }

    public func dismissRevocationReview(request: Approval_DismissRevocationReviewRequest, context: ServerContext) async throws -> Approval_DismissRevocationReviewResponse {
        let caller = try ServerContext.requireCaller()
        let id = try Self.parseCaseID(request.caseID)
        let actor = Self.actorOf(caller)
        let shown = try await changing(id, by: actor, shownTo: caller, purpose: "dismiss_revocation_review") { state, _ in
            try state.dismissRevocationReview(reason: request.reason, by: actor)
            return Change("revocation_review.dismissed", ["finding_id": state.revocationReview?.findingID ?? "", "reason": request.reason])
        }
        var response = Approval_DismissRevocationReviewResponse()
        response.case = shown
        return response
    }
}
