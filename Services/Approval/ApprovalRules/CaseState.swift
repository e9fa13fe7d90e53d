import Foundation
import OneSealCore

/// One approval case (办件) as the rules see it: everything needed to decide whether an act is
/// allowed and what it changes. Stored as JSON by the service; rendered as `approval.v1.Case`.
public struct CaseState: Sendable, Hashable, Codable {
    public private(set) var caseID: String
    public private(set) var caseNumber: String
    public private(set) var applicationID: String
    public private(set) var applicationNumber: String
    public private(set) var bundleID: String
    public private(set) var acceptingNode: NodeInfo
    public private(set) var decidingNode: NodeInfo
    public private(set) var item: ItemSnapshot
    public private(set) var acceptanceKind: AcceptanceKind
    public private(set) var acceptedOn: CivilDate
    public private(set) var status: CaseStatus
    public private(set) var steps: [Step]
    public private(set) var clocks: CaseClocks
    public private(set) var suspensions: [SuspensionRecord]
    public private(set) var extensionRecord: ExtensionRecord?
    public private(set) var jointReviews: [JointReviewRecord]
    public private(set) var decision: DecisionRecord?
    public private(set) var withdrawal: WithdrawalRecord?
    public private(set) var revocation: RevocationRecord?
    public private(set) var cancellation: CancellationRecord?
    public private(set) var firstReviewOpinion: String
    /// Times the case was sent back to an earlier step (the redo count).
    public private(set) var returns: Int
    public private(set) var licence: LicenceInfo?
    public private(set) var materials: [CaseMaterial]
    public private(set) var instantAttempts: [InstantAttempt]
    public private(set) var findings: [FindingRecord]
    public private(set) var revocationReview: RevocationReview?
    public private(set) var openedAt: Date
    /// The warning level last reported (the sweeper emits a change once).
    public private(set) var reportedWarning: WarningLevel
    /// Set on a renewal case (延续, Art. 50): decided by the licence's last valid day, or granted by
    /// law the day after (`deemRenewalGranted`). Optional so cases stored before renewals decode.
    public private(set) var renewal: RenewalSubject?
    /// Set on a change case (变更, Art. 49); a change with no reviewed matter is granted as recorded
    /// when the case opens (`recordChange`).
    public private(set) var change: LicenceChangeRequest?
    /// The hearing (听证, Arts. 46–48) once its right was notified; changed only by the hearing acts
    /// in `CaseState+Hearing.swift`. Optional so cases stored before hearings decode unchanged.
    public internal(set) var hearing: HearingRecord?

    /// Opens a case: the chain of the item's tier with the officer's step active (assigned to
    /// `assignee`, or left in the officer queue), both clocks started on the acceptance date.
    public init(
        caseID: String, caseNumber: String, applicationID: String, applicationNumber: String, bundleID: String = "",
        acceptingNode: NodeInfo, decidingNode: NodeInfo, item: ItemSnapshot, acceptanceKind: AcceptanceKind, acceptedOn: CivilDate,
        materials: [CaseMaterial] = [], firstReviewOpinion: String = "", assignee: String? = nil, openedAt: Date,
        renewal: RenewalSubject? = nil, change: LicenceChangeRequest? = nil
    ) {
        self.caseID = caseID
        self.caseNumber = caseNumber
        self.applicationID = applicationID
        self.applicationNumber = applicationNumber
        self.bundleID = bundleID
        self.acceptingNode = acceptingNode
        self.decidingNode = decidingNode
        self.item = item
        self.acceptanceKind = acceptanceKind
        self.acceptedOn = acceptedOn
        self.status = .inProgress
        self.steps = ApprovalChain.roles(for: item.tier).enumerated().map { index, role in
            var step = Step(index: index, role: role, round: 1, status: index == 0 ? .active : .pending)
            if index == 0 {
                step.assignee = assignee.flatMap { $0.isEmpty ? nil : $0 }
                step.activatedAt = openedAt
            }
            return step
        }
        self.clocks = CaseClocks(acceptedOn: acceptedOn, item: item)
        self.suspensions = []
        self.jointReviews = []
        self.firstReviewOpinion = firstReviewOpinion
        self.returns = 0
        self.materials = materials
        self.instantAttempts = []
        self.findings = []
        self.openedAt = openedAt
        self.reportedWarning = .normal
        self.renewal = renewal
        self.change = change
    }

    // MARK: Reading

    /// The step waiting for its signer, if any.
    public var activeStep: Step? { steps.first { $0.status == .active } }

    /// Steps of the current round that are not undone by a return.
    public var liveSteps: [Step] { steps.filter { $0.status != .returned } }

    /// Every live step is signed; only the decision is missing.
    public var awaitingDecision: Bool {
        status.isOpen && decision == nil && !liveSteps.isEmpty && liveSteps.allSatisfy { $0.status == .completed }
    }

    /// The role whose holder acts next: the active step's, or the decider's once the chain is signed.
    public var nextRole: ApprovalRole? {
        guard status.isOpen else { return nil }
        if let active = activeStep { return active.role }
        return awaitingDecision ? liveSteps.last?.role : nil
    }

    /// The person the case waits for, if assigned.
    public var nextAssignee: String? {
        guard status.isOpen else { return nil }
        if let active = activeStep { return active.assignee }
        return awaitingDecision ? liveSteps.last?.completedBy?.subject : nil
    }

    public var openSuspension: SuspensionRecord? { suspensions.first { $0.resumedOn == nil } }

    /// The day the clocks stopped for good (decision, withdrawal), if they did.
    public var finishedOn: CivilDate? { decision?.decidedOn ?? withdrawal?.withdrawnOn }

    /// The case's deadline status (promised limit) as of `date`, or as of the day it finished.
    public func deadlineStatus(asOf date: CivilDate, calendar: WorkingDayCalendar, warning: WarningPolicy) throws(ApprovalRuleError) -> DeadlineStatus {
        let on = finishedOn.map { min($0, date) } ?? date
        return try ApprovalRuleError.clock { try clocks.promised.status(asOf: on, in: calendar, warning: warning) }
    }

    public func statutoryStatus(asOf date: CivilDate, calendar: WorkingDayCalendar, warning: WarningPolicy) throws(ApprovalRuleError) -> DeadlineStatus {
        let on = finishedOn.map { min($0, date) } ?? date
        return try ApprovalRuleError.clock { try clocks.statutory.status(asOf: on, in: calendar, warning: warning) }
    }

    /// The first day the case shows yellow under `warning` (stored so the sweeper can find cases
    /// turning yellow with an index instead of recomputing every clock): the day the counted working
    /// days reach `total − yellow days`. nil while a suspension holds the clock.
    public func yellowOn(calendar: WorkingDayCalendar, warning: WarningPolicy) throws(ApprovalRuleError) -> CivilDate? {
        guard openSuspension == nil else { return nil }
        let used = clocks.promised.totalWorkingDays - warning.yellowWhenDaysLeftAtMost
        guard used > 0 else { return acceptedOn }
        var probe = clocks.promised
        // A clock of `used` days with the same suspensions ends on the day `used` days are counted.
        probe = try ApprovalRuleError.clock {
            try StatutoryClock(actDate: probe.actDate, period: StatutoryPeriod(workingDays: used), suspensions: probe.suspensions)
        }
        return try ApprovalRuleError.clock { try probe.deadline(in: calendar) }
    }

    // MARK: Guards

    func requireOpen(_ act: String) throws(ApprovalRuleError) {
        guard status.isOpen else {
            throw .failedPrecondition("case \(caseNumber) is \(status.rawValue); it cannot be \(act)")
        }
    }

    func requireRunning(_ act: String) throws(ApprovalRuleError) {
        try requireOpen(act)
        if let open = openSuspension {
            throw .failedPrecondition("the clock of case \(caseNumber) is suspended for \(open.reason.chineseName) since \(open.suspendedOn); resume it before the case can be \(act)")
        }
    }

    /// Finds the step `stepID` names, or the active one when empty.
    func stepIndex(_ stepID: String) throws(ApprovalRuleError) -> Int {
        if stepID.isEmpty {
            guard let index = steps.firstIndex(where: { $0.status == .active }) else {
                throw .failedPrecondition("case \(caseNumber) has no active step")
            }
            return index
        }
        guard let index = steps.firstIndex(where: { $0.id == stepID }) else {
            throw .invalidArgument([FieldViolation(field: "step_id", description: "case \(caseNumber) has no step '\(stepID)' (steps: \(steps.map(\.id).joined(separator: ", ")))", reason: "not_found")])
        }
        return index
    }

    /// Whether `actor`'s token gives the capacity of `role` (the director may act as a deputy).
    static func holds(_ actor: CaseActor, _ role: ApprovalRole) -> Bool {
        guard let capacity = actor.approvalRole else { return false }
        if capacity == role { return true }
        return role == .deputyDirector && capacity == .director
    }

    /// Officers and section chiefs act within their section: a token naming a department may act
    /// only on cases of that department (a token without one is not restricted).
    func requireSection(_ actor: CaseActor) throws(ApprovalRuleError) {
        guard let role = actor.approvalRole, role == .officer || role == .sectionChief else { return }
        if !actor.department.isEmpty, !item.departmentCode.isEmpty, actor.department != item.departmentCode {
            throw .permissionDenied("\(actor.subject) works for section \(actor.department); case \(caseNumber) belongs to \(item.departmentCode) (\(item.departmentName))")
        }
    }

    /// Separation of duties: nobody signs two steps of the same round (a delegate cannot sign their
    /// own delegated review and then the next step too). The collective meeting step is the
    /// meeting's, not a person's, so the director who chaired it may still sign the decision.
    func signedOtherStep(_ subject: String, except index: Int) -> Step? {
        liveSteps.first { step in
            step.index != index && step.status == .completed && step.role != .collectiveMeeting && step.completedBy?.subject == subject
        }
    }

    func requireSigner(_ actor: CaseActor, of index: Int) throws(ApprovalRuleError) {
        let step = steps[index]
        guard Self.holds(actor, step.role) else {
            throw .permissionDenied("step \(step.id) of case \(caseNumber) is for the \(step.role.chineseName) (\(step.role.tokenRole)); \(actor.subject) acts as \(actor.role)")
        }
        try requireSection(actor)
        if let assignee = step.assignee, assignee != actor.subject {
            throw .permissionDenied("step \(step.id) of case \(caseNumber) is assigned to \(assignee), not \(actor.subject)")
        }
        if let other = signedOtherStep(actor.subject, except: index) {
            throw .permissionDenied("\(actor.subject) already signed step \(other.id) (\(other.role.chineseName)) of this round; one person cannot sign two steps of the same case")
        }
    }

    // MARK: Signing the chain

    /// The officer's review (承办审查) or a leader's sign-off (审核/审批) of the active step: records
    /// the conclusion and the specific opinion, then activates the next step (or leaves the case
    /// awaiting the decision).
    public mutating func sign(
        stepID: String, conclusion: StepConclusion?, opinion: String, by actor: CaseActor, at instant: Date, asOfficer: Bool
    ) throws(ApprovalRuleError) {
        var violations: [FieldViolation] = []
        if conclusion == nil { violations.append(FieldViolation(field: "conclusion", description: "required: propose grant or propose deny", reason: "required")) }
        if let problem = OpinionCheck.problem(opinion, field: "opinion") { violations.append(problem) }
        if !violations.isEmpty { throw .invalidArgument(violations) }
        try requireRunning("signed")
        let index = try stepIndex(stepID)
        let step = steps[index]
        guard step.status == .active else {
            let state = step.status == .pending ? "not reached yet" : step.status.rawValue
            throw .failedPrecondition("step \(step.id) (\(step.role.chineseName)) of case \(caseNumber) is \(state); the active step is \(activeStep?.id ?? "none")")
        }
        if asOfficer, step.role != .officer {
            throw .failedPrecondition("step \(step.id) is the \(step.role.chineseName)'s sign-off; use SignOff (ReviewStep is the officer's review)")
        }
        if !asOfficer, step.role == .officer {
            throw .failedPrecondition("step \(step.id) is the officer's review; use ReviewStep")
        }
        if step.role == .collectiveMeeting {
            throw .failedPrecondition("step \(step.id) is the collective study: it is completed by recording the meeting (RecordJointReview), not by a signature")
        }
        try requireSigner(actor, of: index)
        complete(index, conclusion: conclusion!, opinion: opinion.trimmed, by: actor, at: instant)
    }

    mutating func complete(_ index: Int, conclusion: StepConclusion, opinion: String, by actor: CaseActor, at instant: Date) {
        steps[index].status = .completed
        steps[index].conclusion = conclusion
        steps[index].opinion = opinion
        steps[index].completedAt = instant
        steps[index].completedBy = actor
        if steps[index].assignee == nil { steps[index].assignee = actor.subject }
        if let next = steps.indices.first(where: { $0 > index && steps[$0].status == .pending }) {
            steps[next].status = .active
            steps[next].activatedAt = instant
        }
    }

    // MARK: Work queue

    /// Takes an unassigned step from the queue of the caller's role.
    public mutating func claim(stepID: String, by actor: CaseActor) throws(ApprovalRuleError) {
        try requireOpen("claimed")
        let index = try stepIndex(stepID)
        let step = steps[index]
        guard step.status == .active || step.status == .pending else {
            throw .failedPrecondition("step \(step.id) of case \(caseNumber) is \(step.status.rawValue); only active or pending steps can be claimed")
        }
        guard Self.holds(actor, step.role), step.role != .collectiveMeeting else {
            throw .permissionDenied("step \(step.id) is for the \(step.role.chineseName); \(actor.subject) acts as \(actor.role)")
        }
        try requireSection(actor)
        if let assignee = step.assignee {
            throw .failedPrecondition(assignee == actor.subject ? "step \(step.id) is already yours" : "step \(step.id) of case \(caseNumber) is already with \(assignee); ask for a reassignment")
        }
        if let other = signedOtherStep(actor.subject, except: index) {
            throw .permissionDenied("\(actor.subject) already signed step \(other.id) of this round and cannot take step \(step.id) as well")
        }
        steps[index].assignee = actor.subject
    }

    /// Gives an open step to someone else (改派). Only a more senior role (or the director) may.
    public mutating func reassign(stepID: String, to subject: String, reason: String, by actor: CaseActor) throws(ApprovalRuleError) {
        var violations: [FieldViolation] = []
        if subject.isBlank { violations.append(.required("new_assignee_subject")) }
        if reason.isBlank { violations.append(FieldViolation(field: "reason", description: "required: why the step changes hands", reason: "required")) }
        if !violations.isEmpty { throw .invalidArgument(violations) }
        try requireOpen("reassigned")
        let index = try stepIndex(stepID)
        let step = steps[index]
        guard step.status == .active || step.status == .pending else {
            throw .failedPrecondition("step \(step.id) of case \(caseNumber) is \(step.status.rawValue); only active or pending steps can be reassigned")
        }
        guard step.role != .collectiveMeeting else { throw .failedPrecondition("the collective study is not assigned to a person") }
        guard let capacity = actor.approvalRole, capacity == .director || capacity.rank > step.role.rank else {
            throw .permissionDenied("only a role above the \(step.role.chineseName) (or the director) may reassign step \(step.id); \(actor.subject) acts as \(actor.role)")
        }
        try requireSection(actor)
        if let other = signedOtherStep(subject, except: index) {
            throw .failedPrecondition("\(subject) already signed step \(other.id) of this round; one person cannot sign two steps of the same case")
        }
        steps[index].assignee = subject
        steps[index].delegatedBy = nil
        steps[index].delegationReason = ""
    }

    /// The assignee hands their step to a colleague while on leave (委托). The step keeps who
    /// delegated it; the delegate may not be someone who signed another step of the round.
    public mutating func delegate(stepID: String, to subject: String, reason: String, by actor: CaseActor) throws(ApprovalRuleError) {
        var violations: [FieldViolation] = []
        if subject.isBlank { violations.append(.required("delegate_subject")) }
        if reason.isBlank { violations.append(FieldViolation(field: "reason", description: "required: why (e.g. leave dates)", reason: "required")) }
        if subject == actor.subject { violations.append(FieldViolation(field: "delegate_subject", description: "cannot delegate a step to yourself", reason: "self")) }
        if !violations.isEmpty { throw .invalidArgument(violations) }
        try requireOpen("delegated")
        let index = try stepIndex(stepID)
        let step = steps[index]
        guard step.status == .active || step.status == .pending else {
            throw .failedPrecondition("step \(step.id) of case \(caseNumber) is \(step.status.rawValue); only active or pending steps can be delegated")
        }
        guard step.assignee == actor.subject else {
            throw .permissionDenied("only the assignee of step \(step.id) (\(step.assignee ?? "nobody yet")) may delegate it")
        }
        if let other = signedOtherStep(subject, except: index) {
            throw .failedPrecondition("\(subject) already signed step \(other.id) of this round; a delegate cannot review the same case twice")
        }
        if step.delegatedBy?.subject == subject {
            throw .failedPrecondition("\(subject) delegated this step to \(actor.subject); hand it back by reassignment, not a second delegation")
        }
        steps[index].delegatedBy = step.delegatedBy ?? actor
        steps[index].delegationReason = reason.trimmed
        steps[index].assignee = subject
    }

    // MARK: Return (redo)

    /// Sends the case back to an earlier step with a reason (退回): every live step from the target
    /// on is marked returned, and a fresh round of the chain from the target's role is appended,
    /// with its first step active and given to whoever signed the target step. Counted as a redo.
    public mutating func returnTo(targetIndex: Int, reason: String, by actor: CaseActor, at instant: Date) throws(ApprovalRuleError) {
        if let problem = OpinionCheck.problem(reason, field: "reason") { throw .invalidArgument([problem]) }
        try requireRunning("returned")
        guard steps.indices.contains(targetIndex), steps[targetIndex].status == .completed else {
            throw .invalidArgument([FieldViolation(field: "target_step_index", description: "\(targetIndex) is not a signed step of the current round (signed: \(liveSteps.filter { $0.status == .completed }.map { String($0.index) }.joined(separator: ", ")))", reason: "not_a_signed_step")])
        }
        // Who sends it back: the holder of the active step, or the decider once the chain is signed.
        let currentIndex: Int
        if let active = activeStep {
            currentIndex = active.index
            guard Self.holds(actor, active.role), active.assignee == nil || active.assignee == actor.subject else {
                throw .permissionDenied("only the holder of the active step \(active.id) (\(active.role.chineseName)\(active.assignee.map { ", " + $0 } ?? "")) may send case \(caseNumber) back")
            }
        } else if awaitingDecision, let last = liveSteps.last {
            currentIndex = last.index
            guard last.completedBy?.subject == actor.subject else {
                throw .permissionDenied("only \(last.completedBy?.subject ?? "the decider"), who signed the last step, may send case \(caseNumber) back before deciding")
            }
        } else {
            throw .failedPrecondition("case \(caseNumber) has no step to return from")
        }
        guard targetIndex < currentIndex else {
            throw .invalidArgument([FieldViolation(field: "target_step_index", description: "must be an earlier step than the current one (\(currentIndex))", reason: "not_earlier")])
        }
        let chain = ApprovalChain.roles(for: item.tier)
        let target = steps[targetIndex]
        guard let from = chain.firstIndex(of: target.role) else {
            throw .failedPrecondition("step \(target.id) has role \(target.role.rawValue), which is not in the chain of tier \(item.tier.rawValue)")
        }
        let previousSigners = Dictionary(liveSteps.compactMap { step in step.completedBy.map { (step.role, $0.subject) } }, uniquingKeysWith: { first, _ in first })
        let round = (steps.map(\.round).max() ?? 1) + 1
        for index in steps.indices where index >= targetIndex && steps[index].status != .returned {
            steps[index].status = .returned
        }
        var first = true
        for role in chain[from...] {
            var step = Step(index: steps.count, role: role, round: round, status: first ? .active : .pending)
            step.assignee = role == .collectiveMeeting ? nil : previousSigners[role]
            if first { step.activatedAt = instant }
            steps.append(step)
            first = false
        }
        returns += 1
    }

    // MARK: Clock

    /// Stops the clock for a special procedure (Art. 45) from `on`; the applicant is told in
    /// writing what for and how long.
    public mutating func suspend(
        reason: SuspensionReason?, expectedDays: Int, noticeText: String, on date: CivilDate, by actor: CaseActor, id: String,
        notice: (CaseState, SuspensionRecord) -> Document? = { _, _ in nil }
    ) throws(ApprovalRuleError) {
        var violations: [FieldViolation] = []
        if reason == nil { violations.append(FieldViolation(field: "reason", description: "required: hearing, site inspection, testing, expert review …", reason: "required")) }
        if expectedDays <= 0 || expectedDays > 120 {
            violations.append(FieldViolation(field: "expected_days", description: "the working days the procedure is expected to take (1…120); the applicant is told (Art. 45)", reason: "out_of_range"))
        }
        if noticeText.trimmed.count < OpinionCheck.minimumLength {
            violations.append(FieldViolation(field: "notice_text", description: "the written notice to the applicant: which procedure, why, how long", reason: noticeText.isBlank ? "required" : "too_short"))
        }
        if !violations.isEmpty { throw .invalidArgument(violations) }
        try requireRunning("suspended")
        try requireHandler(actor)
        try openSuspension(reason!, expectedDays: expectedDays, noticeText: noticeText, on: date, by: actor, id: id, notice: notice)
    }

    /// Stops both clocks from `date` and records the suspension with its notice; the callers have
    /// checked the input, that the clock runs, and who may stop it.
    mutating func openSuspension(
        _ reason: SuspensionReason, expectedDays: Int, noticeText: String, on date: CivilDate, by actor: CaseActor, id: String,
        notice: (CaseState, SuspensionRecord) -> Document?
    ) throws(ApprovalRuleError) {
        try ApprovalRuleError.clock {
            try clocks.promised.suspend(reason, from: date)
            try clocks.statutory.suspend(reason, from: date)
        }
        var record = SuspensionRecord(id: id, reason: reason, expectedDays: expectedDays, noticeText: noticeText.trimmed, suspendedOn: date, result: "", suspendedBy: actor)
        status = .suspended
        record.notice = notice(self, record)
        suspensions.append(record)
    }

    /// Restarts the clock: the day of resumption is the last day not counted (the day of an act is
    /// not counted, 民法典 Art. 201); counting restarts the next day.
    public mutating func resume(suspensionID: String, result: String, on date: CivilDate, by actor: CaseActor) throws(ApprovalRuleError) {
        guard status == .suspended, let index = suspensions.firstIndex(where: { $0.resumedOn == nil }) else {
            throw .failedPrecondition("the clock of case \(caseNumber) is not suspended (status \(status.rawValue))")
        }
        if !suspensionID.isEmpty, suspensions[index].id != suspensionID {
            throw .failedPrecondition("suspension \(suspensionID) is not the open one (\(suspensions[index].id))")
        }
        if result.isBlank {
            throw .invalidArgument([FieldViolation(field: "result", description: "required: the outcome of the procedure (e.g. the expert panel's conclusion)", reason: "required")])
        }
        try requireHandler(actor)
        try ApprovalRuleError.clock {
            try clocks.promised.endSuspension(lastDay: date)
            try clocks.statutory.endSuspension(lastDay: date)
        }
        suspensions[index].resumedOn = date
        suspensions[index].result = result.trimmed
        suspensions[index].resumedBy = actor
        status = .inProgress
    }

    /// Anyone working on the case: the active step's holder, or any leader.
    func requireHandler(_ actor: CaseActor) throws(ApprovalRuleError) {
        guard let capacity = actor.approvalRole else { throw .permissionDenied("\(actor.role) does not handle approval cases") }
        try requireSection(actor)
        if capacity == .officer, let active = activeStep, active.role == .officer, let assignee = active.assignee, assignee != actor.subject {
            throw .permissionDenied("case \(caseNumber) is with officer \(assignee), not \(actor.subject)")
        }
    }

    /// The one extension (Art. 42): approved by the head of the agency with a reason told to the
    /// applicant, before the statutory period runs out; a second one is refused.
    public mutating func extend(
        days requested: Int, reason: String, by approver: CaseActor, on date: CivilDate, calendar: WorkingDayCalendar,
        notice: (CaseState, ExtensionRecord) -> Document? = { _, _ in nil }
    ) throws(ApprovalRuleError) {
        let maximum = clocks.maximumExtension
        var violations: [FieldViolation] = []
        if requested < 0 || requested > maximum {
            violations.append(FieldViolation(field: "extension_days", description: "at most \(maximum) working days (0 = \(maximum))", reason: "out_of_range"))
        }
        if let problem = OpinionCheck.problem(reason, field: "reason") { violations.append(problem) }
        if !violations.isEmpty { throw .invalidArgument(violations) }
        try requireOpen("extended")
        guard approver.approvalRole == .director else {
            throw .permissionDenied("an extension is approved by the head of the agency (主要负责人, role director); \(approver.subject) acts as \(approver.role)")
        }
        if let previous = extensionRecord {
            throw .failedPrecondition("case \(caseNumber) was already extended by \(previous.days) working days on \(previous.approvedOn); the law allows one extension (Art. 42)")
        }
        if openSuspension == nil {
            let due = try ApprovalRuleError.clock { try clocks.statutory.deadline(in: calendar) }
            if date > due {
                throw .failedPrecondition("the statutory period of case \(caseNumber) ended on \(due); an extension must be approved before it runs out")
            }
        }
        let days = requested == 0 ? maximum : requested
        try ApprovalRuleError.clock {
            try clocks.promised.extend(by: days)
            try clocks.statutory.extend(by: days)
        }
        var record = ExtensionRecord(days: days, reason: reason.trimmed, approvedBy: approver, approvedOn: date)
        record.notice = notice(self, record)
        extensionRecord = record
    }

    // MARK: Joint review

    /// Records a joint review meeting. Its kind must be the one the item's category calls for
    /// (分级会审, docs/law.md#approval-tiers-and-joint-review) and its convener must hold the matching role. For a collective-tier case
    /// whose active step is the collective study, the meeting completes that step.
    /// The meeting already recorded under this idempotency key by this convener, if any.
    public func recordedJointReview(key: String?, by subject: String) -> JointReviewRecord? {
        guard let key, !key.isEmpty else { return nil }
        return jointReviews.first { $0.requestKey == key && $0.convenedBy.subject == subject }
    }

    public mutating func recordJointReview(_ review: JointReviewRecord) throws(ApprovalRuleError) {
        var violations: [FieldViolation] = []
        let distinct = Set(review.opinions.map(\.participant.subject))
        let minimum = review.kind == .collective ? 3 : 2
        if review.opinions.count < minimum {
            violations.append(FieldViolation(field: "review.opinions", description: "a \(review.kind.chineseName) records at least \(minimum) participants' opinions", reason: "too_few_participants"))
        }
        if distinct.count != review.opinions.count {
            violations.append(FieldViolation(field: "review.opinions", description: "each participant appears once", reason: "duplicate_participant"))
        }
        for (index, opinion) in review.opinions.enumerated() {
            if opinion.participant.subject.isBlank { violations.append(.required("review.opinions[\(index)].participant.subject")) }
            if opinion.title.isBlank { violations.append(.required("review.opinions[\(index)].title")) }
            if let problem = OpinionCheck.problem(opinion.opinion, field: "review.opinions[\(index)].opinion") { violations.append(problem) }
        }
        if let problem = OpinionCheck.problem(review.conclusion, field: "review.conclusion") { violations.append(problem) }
        if review.location.isBlank { violations.append(.required("review.location")) }
        if !violations.isEmpty { throw .invalidArgument(violations) }
        try requireRunning("reviewed")
        guard let expected = JointReviewKind.required(for: item.tier) else {
            throw .failedPrecondition("\(item.name) is a sole-approval item (独任审批): it is decided by the officer, without a joint review")
        }
        guard review.kind == expected else {
            throw .failedPrecondition("\(item.name) is a \(item.tier.chineseName) item: its joint review is the \(expected.chineseName) (\(expected.rawValue)), not \(review.kind.rawValue)")
        }
        guard let capacity = review.convenedBy.approvalRole, review.kind.conveners.contains(capacity) else {
            throw .permissionDenied("a \(review.kind.chineseName) is convened by \(review.kind.conveners.map(\.chineseName).sorted().joined(separator: "/")); \(review.convenedBy.subject) acts as \(review.convenedBy.role)")
        }
        try requireSection(review.convenedBy)
        if review.kind == .collective {
            guard let active = activeStep, active.role == .collectiveMeeting else {
                throw .failedPrecondition("the collective study of case \(caseNumber) is held when its step is active (after the officer's review); the active step is \(activeStep.map { "\($0.id) (\($0.role.chineseName))" } ?? "none")")
            }
            jointReviews.append(review)
            complete(active.index, conclusion: review.outcome, opinion: review.conclusion.trimmed, by: review.convenedBy, at: review.heldAt)
        } else {
            jointReviews.append(review)
        }
    }

    // MARK: Decision

    /// The decision, by the signer of the chain's last step once every step is signed. It follows
    /// the last step's conclusion and the latest joint review's resolution; a grant states scope and
    /// validity, a denial its reasons, legal basis and the applicant's remedies (Art. 38 ¶2).
    public mutating func decide(
        _ outcome: Outcome?, by actor: CaseActor, on date: CivilDate, at instant: Date, calendar: WorkingDayCalendar, defaultAppealRights: String,
        document: (CaseState, DecisionRecord) -> Document? = { _, _ in nil }
    ) throws(ApprovalRuleError) {
        guard var outcome else {
            throw .invalidArgument([FieldViolation(field: "outcome", description: "required: grant or denial", reason: "required")])
        }
        outcome = try Self.validated(outcome, on: date, item: item, defaultAppealRights: defaultAppealRights, renewal: renewal)
        try requireRunning("decided")
        try requireHearingSettled(on: date)
        if let renewal, date > renewal.window.decisionDueBy {
            throw .failedPrecondition("case \(caseNumber) renews licence \(renewal.licenceIdentifier), valid until \(renewal.window.validUntil); undecided by then, the renewal is granted by law (视为准予延续, Art. 50) and the renewal sweeper records it")
        }
        guard awaitingDecision, let last = liveSteps.last else {
            let pending = activeStep.map { "step \($0.id) (\($0.role.chineseName)) is still waiting" } ?? "the chain is not complete"
            throw .failedPrecondition("case \(caseNumber) cannot be decided yet: \(pending)")
        }
        let decider = ApprovalChain.decidingRole(for: item.tier)
        guard Self.holds(actor, decider), last.completedBy?.subject == actor.subject else {
            throw .permissionDenied("case \(caseNumber) is decided by \(last.completedBy?.subject ?? "the signer of the last step") (\(decider.chineseName)), not \(actor.subject)")
        }
        let proposed: StepConclusion = outcome.isGrant ? .proposeGrant : .proposeDeny
        guard last.conclusion == proposed else {
            throw .failedPrecondition("the decision must follow the last signed conclusion (\(last.conclusion?.rawValue ?? "none")); send the case back to change it")
        }
        if let meeting = jointReviews.last, meeting.outcome != proposed {
            throw .failedPrecondition("the latest joint review (\(meeting.kind.chineseName)) resolved \(meeting.outcome.rawValue); the decision cannot contradict it without a new review")
        }
        try close(with: outcome, by: actor, on: date, at: instant, calendar: calendar, instant: false, trace: [], document: document)
    }

    /// 独任审批 "on the spot" (RULES.md, approval tiers): the officer handling a sole-tier case
    /// reviews and decides in one act — the review step completed with `opinion` and the conclusion
    /// the outcome implies, then the decision, each checked as when taken apart (`sign`, `decide`).
    /// Refused, it changes nothing. Other tiers review with `sign` and decide after the chain.
    public mutating func reviewAndDecide(
        opinion: String, _ outcome: Outcome?, by actor: CaseActor, on date: CivilDate, at instant: Date, calendar: WorkingDayCalendar,
        defaultAppealRights: String, document: (CaseState, DecisionRecord) -> Document? = { _, _ in nil }
    ) throws(ApprovalRuleError) {
        guard item.tier == .sole else {
            throw .failedPrecondition(
                "\(item.name) is a \(item.tier.chineseName) item: only sole approval (独任审批) reviews and decides in one act; review with ReviewStep, then the chain signs and decides")
        }
        guard let outcome else {
            throw .invalidArgument([FieldViolation(field: "outcome", description: "required: grant or denial", reason: "required")])
        }
        var next = self
        try next.sign(stepID: "", conclusion: outcome.isGrant ? .proposeGrant : .proposeDeny, opinion: opinion, by: actor, at: instant, asOfficer: true)
        try next.decide(outcome, by: actor, on: date, at: instant, calendar: calendar, defaultAppealRights: defaultAppealRights, document: document)
        self = next
    }

    mutating func close(
        with outcome: Outcome, by actor: CaseActor, on date: CivilDate, at instant: Date, calendar: WorkingDayCalendar, instant isInstant: Bool,
        trace: [RuleEvaluation], document: (CaseState, DecisionRecord) -> Document?
    ) throws(ApprovalRuleError) {
        let status = try ApprovalRuleError.clock { try clocks.promised.status(asOf: date, in: calendar) }
        var record = DecisionRecord(
            outcome: outcome, decidedOn: date, decidedAt: instant, decidedBy: actor, document: nil, instant: isInstant, ruleTrace: trace,
            onTime: !status.isOverdue, workingDaysTaken: status.workingDaysUsed)
        record.document = document(self, record)
        decision = record
        self.status = outcome.isGrant ? .granted : .denied
    }

    /// Checks a grant or denial and fills defaults (validity from the item, the node's remedies text).
    /// A renewal's grant continues the licence without a gap: it defaults to the day after the old
    /// validity ends (`RenewalWindow.renewedFrom`) and runs the item's validity from there.
    public static func validated(
        _ outcome: Outcome, on date: CivilDate, item: ItemSnapshot, defaultAppealRights: String, renewal: RenewalSubject? = nil
    ) throws(ApprovalRuleError) -> Outcome {
        var violations: [FieldViolation] = []
        switch outcome {
        case .grant(var grant):
            if grant.scope.trimmed.count < 2 { violations.append(FieldViolation(field: "grant.scope", description: "required: what is permitted (许可范围), as printed on the licence", reason: "required")) }
            for (index, condition) in grant.conditions.enumerated() where condition.isBlank {
                violations.append(FieldViolation(field: "grant.conditions[\(index)]", description: "a condition cannot be blank", reason: "required"))
            }
            let from = grant.validFrom ?? renewal.map { max($0.window.renewedFrom, date) } ?? date
            if from < date { violations.append(FieldViolation(field: "grant.valid_from", description: "cannot be before the decision date \(date)", reason: "out_of_range")) }
            grant.validFrom = from
            if grant.validUntil == nil, item.licenceValidityMonths > 0 {
                grant.validUntil = from.adding(months: item.licenceValidityMonths).previous
            }
            if let until = grant.validUntil, until <= from {
                violations.append(FieldViolation(field: "grant.valid_until", description: "must be after valid_from \(from)", reason: "out_of_range"))
            }
            if !violations.isEmpty { throw .invalidArgument(violations) }
            grant.scope = grant.scope.trimmed
            return .grant(grant)
        case .deny(var denial):
            let reasons = denial.reasons.filter { !$0.isBlank }
            if reasons.isEmpty { violations.append(FieldViolation(field: "denial.reasons", description: "a denial gives its reasons in writing (Art. 38 ¶2)", reason: "required")) }
            for (index, reason) in denial.reasons.enumerated() {
                if let problem = OpinionCheck.problem(reason, field: "denial.reasons[\(index)]") { violations.append(problem) }
            }
            if denial.legalBasis.isBlank { violations.append(.required("denial.legal_basis")) }
            if denial.appealRights.isBlank {
                denial.appealRights = AppealRights.text(defaultAppealRights, reconsiderationAgency: denial.reconsiderationAgency, court: denial.court)
            }
            if let problem = AppealRights.problem(denial.appealRights) { violations.append(problem) }
            if !violations.isEmpty { throw .invalidArgument(violations) }
            denial.reasons = reasons.map(\.trimmed)
            return .deny(denial)
        }
    }


    // MARK: Renewal deemed granted

    /// Art. 50: "逾期未作决定的，视为准予延续". Called by the renewal sweeper on `date`; when the case
    /// renews a licence whose last valid day has passed and nobody decided, the renewal is granted
    /// by law: an open suspension ends the day before (the law's deadline does not wait for it),
    /// the waiting steps are left unsigned, and the decision records the sweeper, not a person, with
    /// `deemedRenewal` and `onTime = false` (the agency missed the deadline). The renewed validity
    /// starts the day after the old one ends. Returns false when there is nothing to do.
    public mutating func deemRenewalGranted(
        on date: CivilDate, at instant: Date, by actor: CaseActor, calendar: WorkingDayCalendar,
        document: (CaseState, DecisionRecord) -> Document? = { _, _ in nil }
    ) throws(ApprovalRuleError) -> Bool {
        guard let renewal, status.isOpen, renewal.window.isDeemedGranted(undecidedAsOf: date) else { return false }
        if let index = suspensions.firstIndex(where: { $0.resumedOn == nil }) {
            let lastDay = max(suspensions[index].suspendedOn, date.previous)
            try ApprovalRuleError.clock {
                try clocks.promised.endSuspension(lastDay: lastDay)
                try clocks.statutory.endSuspension(lastDay: lastDay)
            }
            suspensions[index].resumedOn = lastDay
            suspensions[index].result = "延续申请在有效期届满前未作决定，依法视为准予延续"
            suspensions[index].resumedBy = actor
        }
        for index in steps.indices where steps[index].status == .active { steps[index].status = .pending }
        let terms = GrantTerms(
            scope: "准予延续：\(renewal.licenceName)（\(renewal.licenceIdentifier)）许可范围不变",
            validFrom: renewal.window.renewedFrom,
            validUntil: item.licenceValidityMonths > 0 ? renewal.window.renewedValidUntil(months: item.licenceValidityMonths) : nil)
        let status = try ApprovalRuleError.clock { try clocks.statutory.status(asOf: date, in: calendar) }
        var record = DecisionRecord(
            outcome: .grant(terms), decidedOn: date, decidedAt: instant, decidedBy: actor, document: nil, instant: false, ruleTrace: [],
            onTime: false, workingDaysTaken: status.workingDaysUsed, deemedRenewal: true)
        record.document = document(self, record)
        decision = record
        self.status = .granted
        return true
    }

    // MARK: Recorded change

    /// Art. 49 for matters the item only records (备案式变更): the change is granted as the case opens,
    /// by the change register (a system actor), without the sign-off chain; the steps stay unsigned.
    /// A change with any reviewed matter goes through the chain and `decide` like any case.
    /// Returns false when the case is not a recorded-only change or is no longer open.
    public mutating func recordChange(
        on date: CivilDate, at instant: Date, by actor: CaseActor, calendar: WorkingDayCalendar,
        document: (CaseState, DecisionRecord) -> Document? = { _, _ in nil }
    ) throws(ApprovalRuleError) -> Bool {
        guard let change, change.isRecordedOnly, status == .inProgress, decision == nil else { return false }
        for index in steps.indices where steps[index].status == .active { steps[index].status = .pending }
        let terms = GrantTerms(scope: change.scope.isEmpty ? "变更登记：\(change.summary)" : change.scope, place: change.place)
        let status = try ApprovalRuleError.clock { try clocks.promised.status(asOf: date, in: calendar) }
        var record = DecisionRecord(
            outcome: .grant(terms), decidedOn: date, decidedAt: instant, decidedBy: actor, document: nil, instant: false, ruleTrace: [],
            onTime: !status.isOverdue, workingDaysTaken: status.workingDaysUsed)
        record.document = document(self, record)
        decision = record
        self.status = .granted
        return true
    }

    // MARK: Withdrawal

    /// The applicant withdraws before the decision (申请撤回); an open suspension ends that day.
    public mutating func withdraw(reason: String, requestFileID: String, on date: CivilDate, by actor: CaseActor) throws(ApprovalRuleError) {
        if reason.isBlank { throw .invalidArgument([FieldViolation(field: "withdrawal.reason", description: "required: the applicant's stated reason", reason: "required")]) }
        try requireOpen("withdrawn")
        if let index = suspensions.firstIndex(where: { $0.resumedOn == nil }) {
            try ApprovalRuleError.clock {
                try clocks.promised.endSuspension(lastDay: date)
                try clocks.statutory.endSuspension(lastDay: date)
            }
            suspensions[index].resumedOn = date
            suspensions[index].result = "申请人撤回申请，程序终止"
            suspensions[index].resumedBy = actor
        }
        for index in steps.indices where steps[index].status == .active { steps[index].status = .pending }
        withdrawal = WithdrawalRecord(reason: reason.trimmed, withdrawnOn: date, requestFileID: requestFileID, recordedBy: actor)
        status = .withdrawn
    }

    // MARK: After a grant

    static let leaders: Set<ApprovalRole> = [.deputyDirector, .director]

    /// Revokes a grant (撤销, Art. 69) by a leader's decision. Fraud or bribery must be revoked;
    /// on the other grounds the public interest is weighed and a serious harm forbids revocation.
    public mutating func revoke(
        ground: RevocationGround?, facts: String, publicInterestAssessment: String, publicInterestSeriouslyHarmed: Bool,
        findingID: String, by actor: CaseActor, on date: CivilDate
    ) throws(ApprovalRuleError) {
        var violations: [FieldViolation] = []
        if ground == nil { violations.append(FieldViolation(field: "revocation.ground", description: "required: an Art. 69 ground", reason: "required")) }
        if let problem = OpinionCheck.problem(facts, field: "revocation.facts") { violations.append(problem) }
        if ground != nil, ground?.isMandatory == false, publicInterestAssessment.trimmed.count < OpinionCheck.minimumLength {
            violations.append(FieldViolation(field: "revocation.public_interest_assessment", description: "Art. 69 ¶3: say how revoking affects the public interest", reason: "required"))
        }
        if !violations.isEmpty { throw .invalidArgument(violations) }
        guard let capacity = actor.approvalRole, Self.leaders.contains(capacity) else {
            throw .permissionDenied("revocation is a leader's decision (deputy director or director); \(actor.subject) acts as \(actor.role)")
        }
        guard status == .granted else {
            throw .failedPrecondition("only a grant can be revoked; case \(caseNumber) is \(status.rawValue)")
        }
        if publicInterestSeriouslyHarmed, ground?.isMandatory == false {
            throw .failedPrecondition("Art. 69 ¶3: a grant is not revoked when revoking would seriously harm the public interest (only fraud or bribery must be revoked regardless)")
        }
        revocation = RevocationRecord(
            ground: ground!, facts: facts.trimmed, publicInterestAssessment: publicInterestAssessment.trimmed,
            publicInterestSeriouslyHarmed: publicInterestSeriouslyHarmed, effectiveOn: date, decidedBy: actor, findingID: findingID, document: nil)
        if var review = revocationReview, review.state == .open {
            review.state = .revoked
            review.closingReason = facts.trimmed
            review.closedBy = actor
            revocationReview = review
        }
        status = .revoked
    }

    /// Cancels a grant (注销, Art. 70), by a leader or automatically on a department's withdrawal finding.
    public mutating func cancel(ground: CancellationGround?, facts: String, findingID: String, by actor: CaseActor, on date: CivilDate) throws(ApprovalRuleError) {
        var violations: [FieldViolation] = []
        if ground == nil { violations.append(FieldViolation(field: "cancellation.ground", description: "required: an Art. 70 ground", reason: "required")) }
        if let problem = OpinionCheck.problem(facts, field: "cancellation.facts") { violations.append(problem) }
        if !violations.isEmpty { throw .invalidArgument(violations) }
        if actor.role != "system" {
            guard let capacity = actor.approvalRole, Self.leaders.contains(capacity) else {
                throw .permissionDenied("cancellation is a leader's decision (deputy director or director); \(actor.subject) acts as \(actor.role)")
            }
        }
        guard status == .granted else {
            throw .failedPrecondition("only a standing grant can be cancelled; case \(caseNumber) is \(status.rawValue)")
        }
        cancellation = CancellationRecord(ground: ground!, facts: facts.trimmed, effectiveOn: date, decidedBy: actor, findingID: findingID)
        status = .cancelled
    }

    /// Records a supervising department's finding and applies what the law asks: a licence
    /// withdrawn by the department (吊销) is cancelled here (Art. 70 (4)); a grant that should not
    /// have been made, or a false commitment, opens a revocation review for a leader (Art. 69).
    /// Returns the effect recorded on the finding.
    @discardableResult
    public mutating func receive(_ finding: FindingRecord, on date: CivilDate) -> String {
        var finding = finding
        switch finding.kind {
        case .licenceWithdrawn where status == .granted:
            let facts = "\(finding.departmentName.isEmpty ? finding.departmentCode : finding.departmentName)依法吊销许可证件：\(finding.facts)"
            cancellation = CancellationRecord(
                ground: .revokedWithdrawnOrSuspended, facts: facts, effectiveOn: date,
                decidedBy: .system("supervision-finding", node: decidingNode.code), findingID: finding.id)
            status = .cancelled
            finding.effect = "cancelled"
        case .revocationRecommended where status == .granted, .commitmentFalse where status == .granted:
            if revocationReview?.state == .open {
                finding.effect = "recorded (revocation review already open)"
            } else {
                revocationReview = RevocationReview(findingID: finding.id, openedOn: date, state: .open, closingReason: "", closedBy: nil)
                finding.effect = "revocation_review_opened"
            }
        default:
            finding.effect = "recorded"
        }
        findings.append(finding)
        return finding.effect
    }

    /// Closes an open revocation review without revoking, with the leader's reasons.
    public mutating func dismissRevocationReview(reason: String, by actor: CaseActor) throws(ApprovalRuleError) {
        if let problem = OpinionCheck.problem(reason, field: "reason") { throw .invalidArgument([problem]) }
        guard let capacity = actor.approvalRole, Self.leaders.contains(capacity) else {
            throw .permissionDenied("a revocation review is closed by a leader (deputy director or director)")
        }
        guard var review = revocationReview, review.state == .open else {
            throw .failedPrecondition("case \(caseNumber) has no open revocation review")
        }
        review.state = .dismissed
        review.closingReason = reason.trimmed
        review.closedBy = actor
        revocationReview = review
    }
}

/// The applicant's remedies against a denial (Art. 38 ¶2): administrative reconsideration within
/// 60 days or a lawsuit within 6 months.
public enum AppealRights {
    public static let defaultTemplate = "如不服本决定，可以自收到本决定书之日起六十日内向{agency}申请行政复议，或者在六个月内依法向{court}提起行政诉讼。"

    public static func text(_ template: String, reconsiderationAgency: String, court: String) -> String {
        let base = template.isBlank ? defaultTemplate : template
        return base
            .replacingOccurrences(of: "{agency}", with: reconsiderationAgency.isBlank ? "本机关的上一级行政机关或者本级人民政府" : reconsiderationAgency)
            .replacingOccurrences(of: "{court}", with: court.isBlank ? "有管辖权的人民法院" : court)
    }

    /// A remedies text must name both remedies and both periods.
    public static func problem(_ text: String) -> FieldViolation? {
        let hasReconsideration = text.contains("行政复议") && (text.contains("六十日") || text.contains("60日") || text.contains("60 日"))
        let hasLitigation = text.contains("行政诉讼") && (text.contains("六个月") || text.contains("6个月") || text.contains("6 个月"))
        guard hasReconsideration, hasLitigation else {
            return FieldViolation(
                field: "denial.appeal_rights",
                description: "must state both remedies: 行政复议 within 六十日 and 行政诉讼 within 六个月 (Art. 38 ¶2)",
                reason: "appeal_rights.incomplete")
        }
        return nil
    }
}

extension CaseState {
    /// The licence the certificate service issued for this case's grant (LicenceIssued).
    public mutating func recordLicence(_ issued: LicenceInfo) {
        licence = issued
    }

    /// The warning level last announced (CaseWarningChanged), so each change is announced once;
    /// a closed case holds none.
    public mutating func noteReportedWarning(_ level: WarningLevel) {
        reportedWarning = status.isOpen ? level : .normal
    }
}

// 智能审批 (InstantApproval.swift declares the rule sets): here, beside the other acts, because only
// this file may change the case.
extension CaseState {
    /// Instant approval: when the item allows it, the case is still at the officer's first step and
    /// every rule of the item's set passes, the case is granted by the rules with the trace stored;
    /// otherwise the attempt (and why it failed) is recorded and the case stays with the officer.
    /// Returns whether it granted.
    @discardableResult
    public mutating func instantApprove(
        ruleSet: InstantRuleSet?, facts: [String: String], requestedBy: String, on date: CivilDate, at instant: Date,
        calendar: WorkingDayCalendar, document: (CaseState, DecisionRecord) -> Document? = { _, _ in nil }
    ) throws(ApprovalRuleError) -> (granted: Bool, trace: [RuleEvaluation]) {
        guard item.instantApprovalAllowed else {
            throw .failedPrecondition("\(item.name) (\(item.implementationCode)) does not allow instant approval; an officer decides it")
        }
        try requireRunning("instantly approved")
        guard returns == 0, let active = activeStep, active.index == 0, active.status == .active else {
            throw .failedPrecondition("instant approval applies only to a case not yet reviewed; case \(caseNumber) is past its first step")
        }
        guard let ruleSet else {
            let trace = [RuleEvaluation(ruleID: "rule_set", description: "规则集已声明", passed: false, detail: "rule set '\(item.instantRuleSet)' is not declared on this node")]
            instantAttempts.append(InstantAttempt(ruleSet: item.instantRuleSet, at: instant, passed: false, trace: trace, requestedBy: requestedBy))
            return (false, trace)
        }
        let trace = ruleSet.evaluate(self, facts: facts)
        let passed = !trace.isEmpty && trace.allSatisfy(\.passed)
        instantAttempts.append(InstantAttempt(ruleSet: ruleSet.name, at: instant, passed: passed, trace: trace, requestedBy: requestedBy))
        guard passed else { return (false, trace) }
        let scope = ruleSet.scope.replacingOccurrences(of: "{item}", with: item.name)
        let outcome = try Self.validated(.grant(GrantTerms(scope: scope)), on: date, item: item, defaultAppealRights: "", renewal: renewal)
        let system = CaseActor.system("instant-approval:\(ruleSet.name)", node: decidingNode.code)
        for index in steps.indices where steps[index].status != .completed {
            steps[index].status = .completed
            steps[index].conclusion = .proposeGrant
            steps[index].opinion = "智能审批：规则集 \(ruleSet.name) 全部 \(trace.count) 项规则通过"
            steps[index].completedAt = instant
            steps[index].completedBy = system
        }
        try close(with: outcome, by: system, on: date, at: instant, calendar: calendar, instant: true, trace: trace, document: document)
        return (true, trace)
    }
}
