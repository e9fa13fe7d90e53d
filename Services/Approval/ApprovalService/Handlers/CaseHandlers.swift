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

/// Opening cases, reading them, and walking the sign-off chain.
extension ApprovalAPI {
    /// What opening a case needs, from an intake event or the OpenCase RPC.
    struct Opening {
        var applicationID: String
        var applicationNumber: String
        var bundleID: String
        var acceptingNode: Common_NodeRef
        var item: ItemSnapshot
        var applicant: Common_Applicant
        var kind: AcceptanceKind
        var acceptedOn: CivilDate
        var materials: [CaseMaterial]
        var firstReviewOpinion: String
        var assignee: String?
        /// Set when intake accepted a renewal application (Art. 50).
        var renewal: RenewalSubject? = nil
        /// Set when intake accepted a change application (Art. 49).
        var change: LicenceChangeRequest? = nil
    }

    /// Opens the case of one accepted item, or returns the one that exists for (application, item):
    /// one case per item however often the acceptance arrives. Items that allow instant approval
    /// are evaluated at once (秒批); if a rule fails the case waits for the officer.
    func open(_ opening: Opening, by actor: CaseActor, in transaction: PostgresConnection) async throws -> (StoredCase, created: Bool) {
        if let existing = try await CaseStore.find(applicationID: opening.applicationID, implementationCode: opening.item.implementationCode, on: transaction) {
            return (existing, false)
        }
        let id = UUID()
        let now = clock()
        let on = today
        let serial = try await CaseStore.nextNumber(scope: "case:\(node):\(on.iso8601)", in: transaction)
        let number = "\(node)-\(on.iso8601.replacingOccurrences(of: "-", with: ""))-\(String(format: "%06d", serial))"
        let state = CaseState(
            caseID: id.uuidString.lowercased(), caseNumber: number, applicationID: opening.applicationID, applicationNumber: opening.applicationNumber,
            bundleID: opening.bundleID, acceptingNode: NodeInfo(code: opening.acceptingNode.divisionCode, name: opening.acceptingNode.name),
            decidingNode: NodeInfo(code: node, name: settings.agencyName), item: opening.item, acceptanceKind: opening.kind, acceptedOn: opening.acceptedOn,
            materials: opening.materials, firstReviewOpinion: opening.firstReviewOpinion, assignee: opening.assignee, openedAt: now,
            renewal: opening.renewal, change: opening.change)
        var stored = StoredCase(id: id, state: state, applicantSealed: try sealApplicant(opening.applicant, caseID: id), revision: 1, createdAt: now, updatedAt: now)
        let level = try state.deadlineStatus(asOf: on, calendar: calendar, warning: settings.warning).level
        stored.state.noteReportedWarning(level)
        guard let head = try await CaseStore.insert(stored, derived: try derived(stored.state), in: transaction) else {
            // Another replica opened it between our look-up and the insert.
            guard let existing = try await CaseStore.find(applicationID: opening.applicationID, implementationCode: opening.item.implementationCode, on: transaction) else {
                throw RPCError(code: .aborted, message: "case for \(opening.applicationID)/\(opening.item.implementationCode) is being opened concurrently; retry")
            }
            return (existing, false)
        }
        try await AuditLog.append([AuditLog.Entry(caseID: id, action: "case.opened", actor: actor, at: now, details: [
            "case_number": number, "application_id": opening.applicationID, "implementation_code": opening.item.implementationCode,
            "item_version": String(opening.item.version), "tier": opening.item.tier.rawValue, "accepted_on": opening.acceptedOn.iso8601,
            "accepting_node": opening.acceptingNode.divisionCode, "acceptance_kind": opening.kind.rawValue,
        ])], after: head, in: transaction)
        var opened = Approval_CaseOpened()
        opened.header = header(stored)
        opened.acceptanceKind = opening.kind.proto
        opened.acceptedOn = Common_CivilDate(opening.acceptedOn)
        opened.deadline = deadline(state, try state.deadlineStatus(asOf: on, calendar: calendar, warning: settings.warning))
        var openingEvents = try events(opened, to: [intake(of: state), evaluation], aggregate: id)
        if level != .normal {
            // Opened already inside the warning window (a short promised limit): evaluation hears it now.
            var warning = Approval_CaseWarningChanged()
            warning.header = opened.header
            warning.level = level.proto
            warning.deadline = opened.deadline
            warning.at = Google_Protobuf_Timestamp(date: now)
            openingEvents += try events(warning, to: [evaluation], aggregate: id)
        }
        try await Outbox.enqueue(openingEvents, in: transaction)
        if let change = opening.change, change.isRecordedOnly {
            // 备案式变更: nothing for the chain to review; granted as recorded, re-issued at once.
            let register = CaseActor.system("change-register", node: node)
            stored = try await store(stored, by: register, { state, transaction in
                let serial = try await CaseStore.nextNumber(scope: "document:\(node):许准:\(on.year)", in: transaction)
                _ = try state.recordChange(on: on, at: now, by: register, calendar: calendar) { state, record in
                    decisionDocument(serial: serial, state: state, record: record)
                }
                return Change("case.decided", ["outcome": "grant", "recorded_change": change.summary, "document": state.decision?.document?.number ?? ""],
                              events: try await decidedEvents(state, id: id, in: transaction))
            }, in: transaction)
            return (stored, true)
        }
        if opening.item.instantApprovalAllowed {
            let system = CaseActor.system("instant-approval", node: node)
            stored = try await store(stored, by: system, { state, transaction in
                try await instantChange(&state, id: id, facts: [:], requestedBy: "case.opened", in: transaction)
            }, in: transaction)
        }
        return (stored, true)
    }

    public func openCase(request: Approval_OpenCaseRequest, context: ServerContext) async throws -> Approval_OpenCaseResponse {
        let caller = try ServerContext.requireCaller()
        // The holder code as intake stores it, so the licence and the indexes name one holder.
        var request = request
        request.applicant.idNumber = IdentityCode.normalized(request.applicant.idNumber)
        var violations: [Common_FieldViolation] = []
        func bad(_ field: String, _ description: String, _ reason: String = "required") {
            violations.append(Common_FieldViolation.with { $0.field = field; $0.description_p = description; $0.reason = reason })
        }
        if request.applicationID.isEmpty { bad("application_id", "required") }
        if request.item.implementationCode.isEmpty { bad("item.implementation_code", "required") }
        if request.item.name.isEmpty { bad("item.name", "required") }
        if request.item.tier == .unspecified { bad("item.tier", "required: sole, section, deputy or collective") }
        if request.item.statutoryDays < 0 || request.item.statutoryDays > 60 { bad("item.statutory_days", "0 (= 20) … 60 working days", "out_of_range") }
        if request.item.promisedDays < 0 || (request.item.statutoryDays > 0 && request.item.promisedDays > request.item.statutoryDays) {
            bad("item.promised_days", "0 (= statutory) … statutory_days", "out_of_range")
        }
        if !DivisionCode.isValid(request.acceptingNode.divisionCode) { bad("accepting_node.division_code", "a 6-digit division code", "format") }
        if request.applicant.name.isEmpty { bad("applicant.name", "required") }
        if request.applicant.idNumber.isEmpty { bad("applicant.id_number", "required") }
        let kind = AcceptanceKind(proto: request.acceptanceKind)
        if kind == nil { bad("acceptance_kind", "required") }
        let acceptedOn = request.hasAcceptedOn ? request.acceptedOn.civilDate : nil
        if acceptedOn == nil { bad("accepted_on", "required: a calendar date") } else if acceptedOn! > today { bad("accepted_on", "cannot be in the future", "out_of_range") }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        // The accepting window is this node or one of its counties (审核转报).
        guard DivisionCode.isSameOrAncestor(node, of: request.acceptingNode.divisionCode),
              caller.role == .peerNode || DivisionCode.isSameOrAncestor(node, of: caller.node) else {
            throw RPCError(code: .permissionDenied, message: "node \(node) opens cases accepted by itself or its counties; \(request.acceptingNode.divisionCode) (token of \(caller.node)) is neither")
        }
        let opening = Opening(
            applicationID: request.applicationID, applicationNumber: request.applicationNumber, bundleID: request.bundleID,
            acceptingNode: request.acceptingNode, item: ItemSnapshot(proto: request.item), applicant: request.applicant, kind: kind!,
            acceptedOn: acceptedOn!, materials: [], firstReviewOpinion: request.firstReviewOpinion,
            assignee: request.assigneeSubject.isEmpty ? nil : request.assigneeSubject)
        let (stored, created) = try await database.withTransaction { try await open(opening, by: Self.actorOf(caller), in: $0) }
        var response = Approval_OpenCaseResponse()
        response.case = try await viewing(stored, for: caller, purpose: "open_case")
        response.created = created
        return response
    }

    public func getCase(request: Approval_GetCaseRequest, context: ServerContext) async throws -> Approval_GetCaseResponse {
        let caller = try ServerContext.requireCaller()
        // The read and its personal-data read log in one transaction: one commit, not two (#21).
        return try await database.withTransaction { connection in
            let stored: StoredCase
            switch request.key {
            case .caseID(let text)?:
                stored = try await find(try Self.parseCaseID(text), on: connection)
            case .caseNumber(let number)?:
                guard let found = try await CaseStore.find(number: number, on: connection) else {
                    throw RPCError(code: .notFound, message: "no case numbered \(number) at node \(node)")
                }
                stored = found
            case nil:
                throw RPCError.invalidArgument(field: "key", "required: case_id or case_number", reason: "required")
            }
            var response = Approval_GetCaseResponse()
            response.case = try await view(stored, for: caller, purpose: "get_case", on: connection)
            return response
        }
    }

    public func listCases(request: Approval_ListCasesRequest, context: ServerContext) async throws -> Approval_ListCasesResponse {
        let caller = try ServerContext.requireCaller()
        var violations: [Common_FieldViolation] = []
        guard request.page.pageSize >= 0 else { throw RPCError.invalidArgument(field: "page.page_size", "must not be negative", reason: "out_of_range") }
        let size = request.page.pageSize == 0 ? 50 : min(Int(request.page.pageSize), 500)
        var statuses: [String] = []
        for (index, status) in request.statuses.enumerated() {
            guard let value = CaseStatus(proto: status) else {
                violations.append(Common_FieldViolation.with { $0.field = "statuses[\(index)]"; $0.description_p = "not a case status"; $0.reason = "unknown" })
                continue
            }
            statuses.append(value.rawValue)
        }
        func date(_ field: String, _ value: Common_CivilDate, present: Bool) -> String? {
            guard present else { return nil }
            guard let date = value.civilDate else {
                violations.append(Common_FieldViolation.with { $0.field = field; $0.description_p = "not a calendar date"; $0.reason = "format" })
                return nil
            }
            return date.iso8601
        }
        let from = date("accepted.from", request.accepted.from, present: request.accepted.hasFrom)
        let to = date("accepted.to", request.accepted.to, present: request.accepted.hasTo)
        let role: String = request.nextRole == .unspecified ? "" : (ApprovalRole(proto: request.nextRole)?.rawValue ?? "")
        let minimum: String = switch request.minWarning {
        case .yellow: "yellow"
        case .red: "red"
        default: ""
        }
        var after: CasePageKey?
        if !request.page.pageToken.isEmpty {
            guard let key = CasePageKey(token: request.page.pageToken) else {
                throw RPCError.invalidArgument(field: "page.page_token", "not a token from a previous page", reason: "format")
            }
            after = key
        }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        // Only the filters asked for reach the SQL, so the planner can use the open cases' index
        // (a bound "$1 = '' OR …" hides every condition from it).
        // Open statuses are written as constants, once: the partial indexes of open cases need the
        // condition to imply theirs in a generic plan too, and the same condition written three
        // times made the planner expect one row of the queue and pick a bitmap scan that sorted the
        // whole queue (74 ms for the first calls at 110,000 cases; 1.5 ms once the plan was generic).
        let wanted = Set(statuses)
        var openStated = true
        var filter: SQLQuery
        switch wanted {
        case [CaseStatus.inProgress.rawValue, CaseStatus.suspended.rawValue]: filter = "status IN ('in_progress', 'suspended')"
        case [CaseStatus.inProgress.rawValue]: filter = "status = 'in_progress'"
        case [CaseStatus.suspended.rawValue]: filter = "status = 'suspended'"
        case []: filter = "TRUE"; openStated = false
        default: filter = "status = ANY(\(SQLArray(statuses))::text[])"; openStated = false
        }
        func whenOpen(_ condition: SQLQuery) -> SQLQuery { openStated ? condition : "status IN ('in_progress', 'suspended') AND \(condition)" }
        if !request.assigneeSubject.isEmpty { filter = "\(filter) AND next_assignee = \(request.assigneeSubject)" }
        if !request.departmentCode.isEmpty { filter = "\(filter) AND department_code = \(request.departmentCode)" }
        if !request.implementationCode.isEmpty { filter = "\(filter) AND implementation_code = \(request.implementationCode)" }
        if !request.applicationID.isEmpty { filter = "\(filter) AND application_id = \(request.applicationID)" }
        if let from { filter = "\(filter) AND accepted_on >= \(from)::date" }
        if let to { filter = "\(filter) AND accepted_on <= \(to)::date" }
        if !role.isEmpty { filter = "\(filter) AND next_role = \(role)" }
        if request.unassignedOnly { filter = "\(filter) AND \(whenOpen("next_assignee IS NULL"))" }
        if request.overdueOnly { filter = "\(filter) AND status = 'in_progress' AND due_on < \(today.iso8601)::date" }
        if !minimum.isEmpty {
            filter = "\(filter) AND \(whenOpen("(warning = 'red' OR (\(minimum) = 'yellow' AND warning = 'yellow'))"))"
        }
        if request.revocationReviewOpen { filter = "\(filter) AND revocation_review_open" }
        var page = filter
        if let after {
            page = """
                \(filter) AND (COALESCE(due_on, 'infinity'::date), accepted_on, case_number)
                    > (COALESCE(\(after.dueOn?.iso8601)::date, 'infinity'::date), \(after.acceptedOn.iso8601)::date, \(after.caseNumber))
                """
        }
        // The page, its total and its read log in one transaction: one commit, not three (#21).
        return try await database.withTransaction { connection in
            let rows = try await connection.query("""
                SELECT \(unescaped: CaseStore.columns), due_on::text AS page_due, accepted_on::text AS page_accepted, case_number AS page_number
                FROM cases WHERE \(page)
                ORDER BY COALESCE(due_on, 'infinity'::date), accepted_on, case_number LIMIT \(size + 1)
                """)
            // Counted up to `ListTotal.cap` only: a broad filter counted every case ever (162–517 ms at 1,000,000).
            let total = try await connection.query(ListTotal.query(from: "cases", where: filter)).one().decode("n", as: Int.self)
            let shown = try rows.prefix(size).map(CaseStore.decode)
            var response = Approval_ListCasesResponse()
            response.cases = try await views(shown, for: caller, purpose: "list_cases", on: connection)
            response.page.totalSize = Int64(total)
            if rows.count > size, let last = rows.prefix(size).last {
                // The key is the columns the rows were sorted by, not the state's copy of them.
                let due = try last.decode("page_due", as: String?.self)
                response.page.nextPageToken = CasePageKey(
                    dueOn: try due.map { try CivilDate(parsing: $0) }, acceptedOn: try CivilDate(parsing: try last.decode("page_accepted", as: String.self)),
                    caseNumber: try last.decode("page_number", as: String.self)).token
            }
            return response
        }
    }

    // MARK: The chain

    func conclusion(_ value: Approval_StepConclusion) -> StepConclusion? { StepConclusion(proto: value) }

    public func reviewStep(request: Approval_ReviewStepRequest, context: ServerContext) async throws -> Approval_ReviewStepResponse {
        let caller = try ServerContext.requireCaller()
        let shown = try await sign(request.caseID, stepID: request.stepID, conclusion: request.conclusion, opinion: request.opinion,
                                   expectedRevision: request.expectedRevision, caller: caller, asOfficer: true, purpose: "review_step")
        var response = Approval_ReviewStepResponse()
        response.case = shown
        return response
    }

    public func signOff(request: Approval_SignOffRequest, context: ServerContext) async throws -> Approval_SignOffResponse {
        let caller = try ServerContext.requireCaller()
        let shown = try await sign(request.caseID, stepID: request.stepID, conclusion: request.conclusion, opinion: request.opinion,
                                   expectedRevision: request.expectedRevision, caller: caller, asOfficer: false, purpose: "sign_off")
        var response = Approval_SignOffResponse()
        response.case = shown
        return response
    }

    func sign(_ caseID: String, stepID: String, conclusion: Approval_StepConclusion, opinion: String, expectedRevision: Int64, caller: Caller, asOfficer: Bool, purpose: String) async throws -> Approval_Case {
        let id = try Self.parseCaseID(caseID)
        let actor = Self.actorOf(caller)
        let now = clock()
        return try await changing(id, expectedRevision: expectedRevision, by: actor, shownTo: caller, purpose: purpose) { state, _ in
            try state.sign(stepID: stepID, conclusion: self.conclusion(conclusion), opinion: opinion, by: actor, at: now, asOfficer: asOfficer)
            return try signed(id: id, state, by: actor, asOfficer: asOfficer)
        }
    }

    /// The audit entry and event of the step `actor` has just signed in `state`.
    func signed(id: UUID, _ state: CaseState, by actor: CaseActor, asOfficer: Bool) throws -> Change {
        let step = state.steps.last { $0.completedBy?.subject == actor.subject && $0.status == .completed }!
        var completed = Approval_StepCompleted()
        completed.header = header(id: id, state)
        completed.step = step.proto
        return Change(asOfficer ? "step.reviewed" : "step.signed",
                      ["step": step.id, "role": step.role.rawValue, "conclusion": step.conclusion?.rawValue ?? "", "opinion": step.opinion],
                      events: [try event(completed, to: evaluation, aggregate: id)])
    }

    public func returnToStep(request: Approval_ReturnToStepRequest, context: ServerContext) async throws -> Approval_ReturnToStepResponse {
        let caller = try ServerContext.requireCaller()
        let id = try Self.parseCaseID(request.caseID)
        let actor = Self.actorOf(caller)
        let now = clock()
        let shown = try await changing(id, expectedRevision: request.expectedRevision, by: actor, shownTo: caller, purpose: "return_to_step") { state, _ in
            try state.returnTo(targetIndex: Int(request.targetStepIndex), reason: request.reason, by: actor, at: now)
            var returned = Approval_CaseReturned()
            returned.header = header(id: id, state)
            returned.targetStepIndex = request.targetStepIndex
            returned.reason = request.reason
            return Change("case.returned", ["target_step_index": String(request.targetStepIndex), "reason": request.reason, "returns": String(state.returns)],
                          events: [try event(returned, to: evaluation, aggregate: id)])
        }
        var response = Approval_ReturnToStepResponse()
        response.case = shown
        return response
    }

    public func reassign(request: Approval_ReassignRequest, context: ServerContext) async throws -> Approval_ReassignResponse {
        let caller = try ServerContext.requireCaller()
        let id = try Self.parseCaseID(request.caseID)
        let actor = Self.actorOf(caller)
        let shown = try await changing(id, by: actor, shownTo: caller, purpose: "reassign") { state, _ in
            try state.reassign(stepID: request.stepID, to: request.newAssigneeSubject, reason: request.reason, by: actor)
            return Change("step.reassigned", ["step": request.stepID.isEmpty ? (state.activeStep?.id ?? "") : request.stepID,
                                              "to": request.newAssigneeSubject, "reason": request.reason])
        }
        var response = Approval_ReassignResponse()
        response.case = shown
        return response
    }

    public func claimStep(request: Approval_ClaimStepRequest, context: ServerContext) async throws -> Approval_ClaimStepResponse {
        let caller = try ServerContext.requireCaller()
        let id = try Self.parseCaseID(request.caseID)
        let actor = Self.actorOf(caller)
        let shown = try await changing(id, by: actor, shownTo: caller, purpose: "claim_step") { state, _ in
            try state.claim(stepID: request.stepID, by: actor)
            return Change("step.claimed", ["step": request.stepID.isEmpty ? (state.activeStep?.id ?? "") : request.stepID])
        }
        var response = Approval_ClaimStepResponse()
        response.case = shown
        return response
    }

    public func delegateStep(request: Approval_DelegateStepRequest, context: ServerContext) async throws -> Approval_DelegateStepResponse {
        let caller = try ServerContext.requireCaller()
        let id = try Self.parseCaseID(request.caseID)
        let actor = Self.actorOf(caller)
        let shown = try await changing(id, by: actor, shownTo: caller, purpose: "delegate_step") { state, _ in
            try state.delegate(stepID: request.stepID, to: request.delegateSubject, reason: request.reason, by: actor)
            return Change("step.delegated", ["step": request.stepID.isEmpty ? (state.activeStep?.id ?? "") : request.stepID,
                                             "to": request.delegateSubject, "reason": request.reason])
        }
        var response = Approval_DelegateStepResponse()
        response.case = shown
        return response
    }
}
