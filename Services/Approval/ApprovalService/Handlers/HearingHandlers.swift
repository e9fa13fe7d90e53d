import ApprovalContracts
import ApprovalRules
import Foundation
import GRPCCore
import OneSealAuth
import OneSealCore
import OneSealProto
import OneSealServiceKit
import OneSealStore

/// Hearings (听证, Arts. 46–48): the notice of the right, the request, the schedule and the record,
/// each a numbered written document where the law wants one, each in one transaction with its audit
/// entry (and, for the request and the record, the clock events intake and evaluation follow).
extension ApprovalAPI {
    public func notifyHearingRight(request: Approval_NotifyHearingRightRequest, context: ServerContext) async throws -> Approval_NotifyHearingRightResponse {
        let caller = try ServerContext.requireCaller()
        let id = try Self.parseCaseID(request.caseID)
        let actor = Self.actorOf(caller)
        let on = today
        let shown = try await changing(id, expectedRevision: request.expectedRevision, by: actor, shownTo: caller, purpose: "notify_hearing_right") { state, transaction in
            let serial = try await CaseStore.nextNumber(scope: "document:\(node):听告:\(on.year)", in: transaction)
            try state.notifyHearingRight(reason: request.reason, on: on, by: actor, calendar: calendar) { state, record in
                hearingRightNotice(serial: serial, state: state, record: record)
            }
            let hearing = state.hearing!
            return Change("hearing.right_notified", ["reason": hearing.reason, "last_day_to_request": hearing.lastDayToRequest.iso8601,
                                                     "document": hearing.rightNotice?.number ?? ""])
        }
        var response = Approval_NotifyHearingRightResponse()
        response.case = shown
        return response
    }

    public func requestHearing(request: Approval_RequestHearingRequest, context: ServerContext) async throws -> Approval_RequestHearingResponse {
        let caller = try ServerContext.requireCaller()
        let id = try Self.parseCaseID(request.caseID)
        let actor = Self.actorOf(caller)
        let on = today
        let shown = try await changing(id, by: actor, shownTo: caller, purpose: "request_hearing") { state, transaction in
            if caller.role == .applicant {
                // Per-object rule: only the case's own applicant (their ID number or USCC is the token's subject).
                guard let stored = try await CaseStore.find(id: id, on: transaction),
                      IdentityCode.normalized(try openApplicant(stored).idNumber) == IdentityCode.normalized(caller.subject) else {
                    throw RPCError(code: .permissionDenied, message: "only the applicant of case \(state.caseNumber) may request its hearing with an applicant token")
                }
            }
            let suspensionID = "sp\(state.suspensions.count + 1)"
            let serial = try await CaseStore.nextNumber(scope: "document:\(node):暂停:\(on.year)", in: transaction)
            try state.requestHearing(by: request.requestedBy, on: on, recordedBy: actor, calendar: calendar, suspensionID: suspensionID) { state, record in
                suspensionNotice(serial: serial, state: state, record: record)
            }
            let record = state.suspensions.last!
            var message = Approval_ClockSuspended()
            message.header = header(id: id, state)
            message.suspension = record.proto
            return Change("hearing.requested", ["requested_by": request.requestedBy, "on": on.iso8601, "suspension": suspensionID,
                                                "hold_by": state.hearing?.holdBy?.iso8601 ?? ""],
                          events: try events(message, to: [intake(of: state), evaluation], aggregate: id))
        }
        var response = Approval_RequestHearingResponse()
        response.case = shown
        return response
    }

    public func scheduleHearing(request: Approval_ScheduleHearingRequest, context: ServerContext) async throws -> Approval_ScheduleHearingResponse {
        let caller = try ServerContext.requireCaller()
        let id = try Self.parseCaseID(request.caseID)
        guard request.hasHearingOn, let hearingOn = request.hearingOn.civilDate else {
            throw RPCError.invalidArgument(field: "hearing_on", "required: a calendar date", reason: "required")
        }
        let actor = Self.actorOf(caller)
        let on = today
        let shown = try await changing(id, by: actor, shownTo: caller, purpose: "schedule_hearing") { state, transaction in
            let serial = try await CaseStore.nextNumber(scope: "document:\(node):听通:\(on.year)", in: transaction)
            try state.scheduleHearing(
                on: hearingOn, place: request.place, publicity: HearingPublicity(proto: request.publicity), presidingOfficer: request.presidingOfficer,
                noticeSentOn: on, by: actor, calendar: calendar
            ) { state, record in hearingNotice(serial: serial, state: state, record: record) }
            let hearing = state.hearing!
            return Change("hearing.scheduled", ["hearing_on": hearingOn.iso8601, "place": hearing.place ?? "", "publicity": hearing.publicity?.rawValue ?? "",
                                                "presiding_officer": hearing.presidingOfficer ?? "", "document": hearing.hearingNotice?.number ?? ""])
        }
        var response = Approval_ScheduleHearingResponse()
        response.case = shown
        return response
    }

    public func recordHearing(request: Approval_RecordHearingRequest, context: ServerContext) async throws -> Approval_RecordHearingResponse {
        let caller = try ServerContext.requireCaller()
        let id = try Self.parseCaseID(request.caseID)
        let actor = Self.actorOf(caller)
        let on = today
        let shown = try await changing(id, by: actor, shownTo: caller, purpose: "record_hearing") { state, _ in
            try state.recordHearing(request.record, on: on, by: actor)
            let record = state.suspensions.last { $0.resumedOn == on }!
            var message = Approval_ClockResumed()
            message.header = header(id: id, state)
            message.suspension = record.proto
            message.deadline = deadline(state, try state.deadlineStatus(asOf: on, calendar: calendar, warning: settings.warning))
            return Change("hearing.recorded", ["on": on.iso8601, "suspension": record.id, "due_on": message.deadline.dueOn.civilDate?.iso8601 ?? ""],
                          events: try events(message, to: [intake(of: state), evaluation], aggregate: id))
        }
        var response = Approval_RecordHearingResponse()
        response.case = shown
        return response
    }

    /// 听证权利告知书 (Art. 47): the right, the 5 days, and what follows from silence.
    func hearingRightNotice(serial: Int, state: CaseState, record: HearingRecord) -> Document {
        let on = record.rightNotifiedOn
        let number = "\(node)听告〔\(on.year)〕\(serial)号"
        let lines = [
            settings.agencyName, "听证权利告知书", number, "",
            "办件编号：\(state.caseNumber)", "申请事项：\(state.item.name)（\(state.item.implementationCode)）",
            "你（单位）申请的上述行政许可\(record.reason)。根据《中华人民共和国行政许可法》第四十七条，你（单位）及利害关系人有权要求听证。",
            "如要求听证，应当在被告知听证权利之日起五日内（最迟\(record.lastDayToRequest.year)年\(record.lastDayToRequest.month)月\(record.lastDayToRequest.day)日）提出；逾期未提出的，视为放弃听证权利。本机关将在收到听证申请之日起二十日内组织听证，听证不收取费用，所需时间不计算在审批期限内。",
            "", settings.agencyName, "\(on.year)年\(on.month)月\(on.day)日",
        ]
        return Document(id: "\(state.caseNumber)-H1", number: number, title: "听证权利告知书", issuedOn: on, agency: settings.agencyName, text: lines.joined(separator: "\n"))
    }

    /// 听证通知书 (Art. 48 (1)): time, place, publicity and the presiding officer, 7 working days ahead.
    func hearingNotice(serial: Int, state: CaseState, record: HearingRecord) -> Document {
        let sent = today
        let held = record.hearingOn!
        let number = "\(node)听通〔\(sent.year)〕\(serial)号"
        let lines = [
            settings.agencyName, "听证通知书", number, "",
            "办件编号：\(state.caseNumber)", "申请事项：\(state.item.name)（\(state.item.implementationCode)）",
            "根据\(record.requestedBy ?? "申请人")的申请，本机关定于\(held.year)年\(held.month)月\(held.day)日在\(record.place ?? "")举行听证，\(record.publicity?.chineseName ?? "")。",
            "听证主持人：\(record.presidingOfficer ?? "")。申请人、利害关系人认为主持人与该行政许可事项有直接利害关系的，有权申请回避（《中华人民共和国行政许可法》第四十八条）。",
            "", settings.agencyName, "\(sent.year)年\(sent.month)月\(sent.day)日",
        ]
        return Document(id: "\(state.caseNumber)-H2", number: number, title: "听证通知书", issuedOn: sent, agency: settings.agencyName, text: lines.joined(separator: "\n"))
    }
}
