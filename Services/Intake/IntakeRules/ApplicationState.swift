import Foundation
import OneSealCore

/// One application's intake as a value (Art. 32): the pinned items, the materials, and exactly one
/// outcome. `apply` either moves it on or refuses with the reason, so the service stores only
/// states these rules produced.
///
///     submitted ──accept / acceptWithDeficiency / acceptByCommitment──▶ accepted
///         │  ├──reject──▶ notAccepted                      (deemAccept after 5 working days)
///         │  └──issueCorrectionNotice (once)──▶ correctionRequested ──supplyCorrection──▶ submitted
///         └──withdraw──▶ withdrawn        correctionRequested ──reject / withdraw──▶ …
public struct ApplicationState: Sendable, Hashable, Codable {
    public let items: [PinnedItem]
    public private(set) var materials: [ProvidedMaterial]
    /// The day the application first reached the bureau.
    public let receivedOn: CivilDate
    /// The day the current 5-working-day intake clock started: receipt, or the last supplement.
    public private(set) var intakeClockStartedOn: CivilDate
    /// Last day of the intake decision; after it the application is deemed accepted.
    public private(set) var intakeDeadline: CivilDate
    public private(set) var status: ApplicationStatus
    public private(set) var outcome: IntakeOutcome?
    public private(set) var acceptanceKind: AcceptanceKind?
    /// The day the approval clock starts from (the day of receipt for a deemed acceptance).
    public private(set) var acceptedOn: CivilDate?
    /// The one correction notice, once issued.
    public private(set) var correctionNotice: CorrectionNotice?
    public private(set) var notAccepted: NotAcceptedDecision?
    public private(set) var deficiency: DeficiencyTerms?
    public private(set) var commitment: CommitmentDecision?
    public private(set) var history: [IntakeHistoryEntry]

    // What the window recorded beyond the intake decision (ApplicationRecord.swift); the wire
    // record is rendered from these, so they are the only copy.

    /// The node whose window took the application (results are delivered there).
    public private(set) var acceptingNode: NodeRef?
    /// One per pinned item, in the same order.
    public private(set) var itemTracks: [ItemTrack]
    public private(set) var receipt: AcceptanceReceipt?
    /// 不予受理决定书, once issued.
    public private(set) var notAcceptedDocument: IssuedDocument?
    public private(set) var forwarding: Forwarding?
    public private(set) var delivery: Delivery?
    /// The applicant's choice of delivery (送达方式), without the address (sealed by the service,
    /// DeliveryChoice.swift). Optional so applications stored before it decode unchanged.
    public internal(set) var deliveryPreference: DeliveryPreference?
    /// The clerk who made the last intake decision (none for a deemed acceptance), and when.
    public private(set) var decidedBy: ActorRef?
    public private(set) var decidedAt: Date?
    /// Visits the applicant made to a window for this application (最多跑一次).
    public private(set) var visits: Int
    /// Set when this is a renewal application (延续, Art. 50): the licence and its window, checked
    /// when it was received. Optional so applications stored before renewals decode unchanged.
    public private(set) var renewal: RenewalSubject?
    /// Set when this is a change application (变更, Art. 49), checked when it was received.
    public private(set) var change: LicenceChangeRequest?

    /// A submitted application. Refuses no items, the same item twice, and inactive items.
    public init(
        items: [PinnedItem], materials: [ProvidedMaterial], receivedOn: CivilDate, calendar: WorkingDayCalendar = .china,
        acceptingNode: NodeRef? = nil, visits: Int = 0, renewal: RenewalSubject? = nil, change: LicenceChangeRequest? = nil
    ) throws(IntakeRuleError) {
        guard !items.isEmpty else { throw .invalidArgument([FieldViolation(field: "items", description: "at least one item", reason: "required")]) }
        var violations: [FieldViolation] = []
        if renewal != nil, change != nil {
            violations.append(FieldViolation(field: "change", description: "an application is a renewal or a change, not both", reason: "change.with_renewal"))
        }
        if change != nil, items.count != 1 {
            violations.append(FieldViolation(field: "items", description: "a change application names exactly one item, the one that issued the licence", reason: "change.one_item"))
        }
        if renewal != nil, items.count != 1 {
            // A renewal extends one licence, decided by the item that granted it: no bundle.
            violations.append(FieldViolation(field: "items", description: "a renewal application names exactly one item, the one that issued the licence", reason: "renewal.one_item"))
        }
        var seen = Set<String>()
        for (index, pinned) in items.enumerated() {
            if !seen.insert(pinned.item.implementationCode).inserted {
                violations.append(FieldViolation(field: indexPath("items", index), description: "“\(pinned.item.implementationCode)” is requested twice", reason: "duplicate"))
            }
        }
        guard violations.isEmpty else { throw .invalidArgument(violations) }
        if let inactive = items.first(where: { !$0.item.active }) {
            throw .failedPrecondition("item \(inactive.item.implementationCode) (\(inactive.item.name)) is no longer open for applications")
        }
        self.items = items
        self.materials = materials
        self.receivedOn = receivedOn
        self.intakeClockStartedOn = receivedOn
        self.intakeDeadline = try DeemedAcceptance.deadline(receivedOn: receivedOn, calendar: calendar)
        self.status = .submitted
        self.history = [IntakeHistoryEntry(on: receivedOn, action: "submit", status: .submitted)]
        self.acceptingNode = acceptingNode
        self.itemTracks = items.map { ItemTrack(implementationCode: $0.item.implementationCode, progress: .pendingIntake, implementingNode: $0.item.implementingNode) }
        self.visits = visits
        self.renewal = renewal
        self.change = change
    }

    /// The automatic check of the current materials against the pinned items.
    public var check: MaterialCheck { MaterialCheck(items: items.map(\.item), provided: materials) }

    /// The outcomes the clerk may choose now (`SubmitApplicationResponse.allowed_outcomes`).
    public var allowedOutcomes: [IntakeOutcome] {
        guard status == .submitted else { return status == .correctionRequested ? [.notAccepted] : [] }
        let check = self.check
        var outcomes: [IntakeOutcome] = []
        if check.isComplete { outcomes.append(.accepted) }
        if !check.isComplete, correctionNotice == nil { outcomes.append(.correctionRequested) }
        outcomes.append(.notAccepted)
        if !check.isComplete, (try? deficiencyChecks(expanded(check.problems.map(\.key)))) != nil { outcomes.append(.acceptedWithDeficiency) }
        if items.allSatisfy(\.item.commitmentAllowed) { outcomes.append(.acceptedByCommitment) }
        return outcomes
    }

    /// The approval clock of one accepted item: from the acceptance date, its statutory days.
    public func approvalClock(for implementationCode: String) -> StatutoryClock? {
        guard let acceptedOn, let pinned = items.first(where: { $0.item.implementationCode == implementationCode }) else { return nil }
        return ApprovalDeadline.clock(acceptedOn: acceptedOn, item: pinned.item)
    }

    public mutating func apply(_ action: IntakeAction, calendar: WorkingDayCalendar = .china) throws(IntakeRuleError) {
        var next = self
        try next.perform(action, calendar: calendar)
        next.history.append(IntakeHistoryEntry(on: action.date, action: action.name, status: next.status))
        self = next
    }

    private mutating func perform(_ action: IntakeAction, calendar: WorkingDayCalendar) throws(IntakeRuleError) {
        switch action {
        case .accept(let on):
            try requireAwaitingDecision(action, on: on)
            let check = self.check
            guard check.isComplete else {
                throw .failedPrecondition("cannot accept: materials are not complete (\(Self.list(check.problems))); issue the correction notice, or accept with deficiency or by commitment where the item allows it")
            }
            accept(.complete, outcome: .accepted, on: on)

        case .issueCorrectionNotice(let problems, let on, let onTheSpot):
            try requireAwaitingDecision(action, on: on)
            if let previous = correctionNotice {
                throw .failedPrecondition("a correction notice was already issued on \(previous.issuedOn); Art. 32 allows one notice listing everything at once — accept, or refuse with ground correction_not_made")
            }
            try checkNoticeMatchesCheck(problems)
            correctionNotice = CorrectionNotice(issuedOn: on, problems: problems, onTheSpot: onTheSpot)
            status = .correctionRequested
            outcome = .correctionRequested

        case .reject(let decision, let on):
            guard status == .submitted || status == .correctionRequested else { throw wrongState(action) }
            if status == .submitted { try requireBeforeDeadline(action, on: on) }
            try requireNotBeforeReceipt(on)
            var violations: [FieldViolation] = []
            if decision.ground == nil { violations.append(.required("ground")) }
            if decision.reason.isBlank { violations.append(.required("reason")) }
            if decision.legalBasis.isBlank { violations.append(.required("legal_basis")) }
            if decision.ground == .outsidePowers, decision.competentAgency.isBlank {
                violations.append(FieldViolation(field: "competent_agency", description: "required when the matter is outside this agency's powers: name the competent agency", reason: "required"))
            }
            guard violations.isEmpty else { throw .invalidArgument(violations) }
            if decision.ground == .correctionNotMade, correctionNotice == nil {
                throw .failedPrecondition("ground correction_not_made needs a correction notice, and none was issued")
            }
            notAccepted = decision
            status = .notAccepted
            outcome = .notAccepted
            endPendingItems(as: .notAccepted)

        case .acceptWithDeficiency(let decision, let on):
            try requireAwaitingDecision(action, on: on)
            var violations: [FieldViolation] = []
            if decision.supplyWithinDays < 1 || decision.supplyWithinDays > 60 {
                violations.append(FieldViolation(field: "supply_within_days", description: "must be 1–60 working days, was \(decision.supplyWithinDays)", reason: "out_of_range"))
            }
            if decision.undertaking.isBlank { violations.append(.required("undertaking")) }
            if decision.missing.isEmpty { violations.append(FieldViolation(field: "missing", description: "list the materials still missing", reason: "required")) }
            guard violations.isEmpty else { throw .invalidArgument(violations) }
            let check = self.check
            guard !check.isComplete else { throw .failedPrecondition("nothing is missing; accept the application instead") }
            let listed = expanded(decision.missing)
            let found = expanded(check.problems.map(\.key))
            try requireSameMaterials(listed: listed, found: found, field: "missing", what: "the deficiency list")
            try deficiencyChecks(listed)
            let supplyBy = try onCalendar { () throws(CalendarError) in try calendar.addingWorkingDays(decision.supplyWithinDays, to: on) }
            deficiency = DeficiencyTerms(missing: check.problems, supplyBy: supplyBy, undertaking: decision.undertaking, suppliedOn: nil)
            accept(.deficiency, outcome: .acceptedWithDeficiency, on: on)

        case .acceptByCommitment(let decision, let on):
            try requireAwaitingDecision(action, on: on)
            if let item = items.first(where: { !$0.item.commitmentAllowed }) {
                throw .failedPrecondition("item \(item.item.implementationCode) (\(item.item.name)) does not allow 告知承诺 acceptance")
            }
            var violations: [FieldViolation] = []
            if decision.commitmentText.isBlank { violations.append(.required("commitment_text")) }
            let allCodes = Set(items.flatMap { $0.item.materials.map(\.code) })
            for (index, code) in decision.replacedRequirementCodes.enumerated() where !allCodes.contains(code) {
                violations.append(FieldViolation(field: indexPath("replaced_requirement_codes", index), description: "no requested item lists material “\(code)”", reason: "unknown_material"))
            }
            guard violations.isEmpty else { throw .invalidArgument(violations) }
            let replaced = Set(decision.replacedRequirementCodes)
            let uncovered = check.problems.filter { !replaced.contains($0.requirementCode) }
            guard uncovered.isEmpty else {
                throw .failedPrecondition("the commitment does not replace \(Self.list(uncovered)); they must be supplied or listed in replaced_requirement_codes")
            }
            commitment = decision
            accept(.commitment, outcome: .acceptedByCommitment, on: on)

        case .supplyCorrection(let supplied, let on):
            guard status == .correctionRequested else { throw wrongState(action) }
            guard let notice = correctionNotice, on >= notice.issuedOn else {
                throw .invalidArgument([FieldViolation(field: "on", description: "a correction cannot precede the notice it answers", reason: "date.order")])
            }
            merge(supplied)
            intakeClockStartedOn = on
            intakeDeadline = try DeemedAcceptance.deadline(receivedOn: on, calendar: calendar)
            status = .submitted
            outcome = nil

        case .supplement(let supplied, let on):
            // Materials brought in while the application still waits for its decision (the
            // applicant returns with what the notice asked for, or with what the check found
            // missing before any notice): added, the intake clock keeps running from its start.
            guard status == .submitted else { throw wrongState(action) }
            try requireNotBeforeReceipt(on)
            merge(supplied)

        case .cureDeficiency(let supplied, let on):
            guard status == .accepted, acceptanceKind == .deficiency, var terms = deficiency, terms.suppliedOn == nil else { throw wrongState(action) }
            guard let acceptedOn, on >= acceptedOn else {
                throw .invalidArgument([FieldViolation(field: "on", description: "materials cannot be supplied before the acceptance", reason: "date.order")])
            }
            var after = self
            after.merge(supplied)
            let stillMissing = after.check.problems
            guard stillMissing.isEmpty else {
                throw .failedPrecondition("still missing after this supply: \(Self.list(stillMissing))")
            }
            terms.suppliedOn = on
            materials = after.materials
            deficiency = terms

        case .deemAccept(let today):
            guard status == .submitted else { throw wrongState(action) }
            guard today > intakeDeadline else {
                throw .failedPrecondition("the intake decision is due by the end of \(intakeDeadline); the application is not deemed accepted before \(intakeDeadline.next)")
            }
            accept(.deemed, outcome: .deemedAccepted, on: DeemedAcceptance.acceptanceDate(receivedOn: intakeClockStartedOn))

        case .withdraw(_, let on):
            guard status == .submitted || status == .correctionRequested else { throw wrongState(action) }
            try requireNotBeforeReceipt(on)
            status = .withdrawn
            endPendingItems(as: .withdrawn)
        }
    }

    // MARK: - The window's record of the acts

    /// The status the window shows: the intake status until acceptance, then what the items say:
    /// ready for delivery (待出件) once every item has its result (a grant whose item issues a
    /// licence waits for the licence), delivered once handed out.
    public var overallStatus: ApplicationStatus {
        guard status == .accepted else { return status }
        if delivery != nil { return .delivered }
        let results = itemTracks.map { track -> Bool in
            switch track.progress {
            case .denied, .withdrawn, .notAccepted, .licenceIssued, .delivered, .revoked, .cancelled: return true
            case .granted:
                let pinned = items.first { $0.item.implementationCode == track.implementationCode }
                return pinned.map { $0.item.licenceTypeCode.isEmpty } ?? true
            case .pendingIntake, .inApproval, .suspended: return false
            }
        }
        if !results.isEmpty, results.allSatisfy({ $0 }) {
            return itemTracks.allSatisfy { $0.progress == .withdrawn } ? .withdrawn : .readyForDelivery
        }
        if forwarding != nil { return .forwarded }
        return .accepted
    }

    /// 受理通知书, printed for an acceptance (the clerk's, or none for a deemed one).
    public mutating func issuedReceipt(_ receipt: AcceptanceReceipt, by actor: ActorRef?, at time: Date) throws(IntakeRuleError) {
        guard status == .accepted, self.receipt == nil else {
            throw .failedPrecondition("a receipt is issued once, for an accepted application; the application is \(status.rawValue)")
        }
        self.receipt = receipt
        decided(by: actor, at: time)
    }

    /// The numbered 补正材料通知书 of the notice the rules just recorded.
    public mutating func issuedCorrectionNotice(_ document: IssuedDocument, by actor: ActorRef, at time: Date) throws(IntakeRuleError) {
        guard var notice = correctionNotice, notice.document == nil else {
            throw .failedPrecondition("no correction notice waits for its document")
        }
        notice.document = document
        correctionNotice = notice
        decided(by: actor, at: time)
    }

    /// The numbered 不予受理决定书 of the refusal the rules just recorded.
    public mutating func issuedNotAcceptedNotice(_ document: IssuedDocument, by actor: ActorRef, at time: Date) throws(IntakeRuleError) {
        guard status == .notAccepted, notAcceptedDocument == nil else {
            throw .failedPrecondition("a 不予受理决定书 is issued once, for a refused application; the application is \(status.rawValue)")
        }
        notAcceptedDocument = document
        decided(by: actor, at: time)
    }

    private mutating func decided(by actor: ActorRef?, at time: Date) {
        decidedBy = actor
        decidedAt = time
    }

    /// Items whose approval cases were asked for (at this node, or at the node above by forwarding).
    public mutating func sentToApproval(_ implementationCodes: Set<String>) throws(IntakeRuleError) {
        guard status == .accepted else { throw .failedPrecondition("only an accepted application's items go to approval; the application is \(status.rawValue)") }
        for index in itemTracks.indices where implementationCodes.contains(itemTracks[index].implementationCode) {
            itemTracks[index].progress = itemTracks[index].progress.advanced(to: .inApproval)
        }
    }

    /// 审核转报 (Art. 43): once, for an accepted application; the forwarded items go to approval there.
    public mutating func forward(_ forwarding: Forwarding, items implementationCodes: Set<String>) throws(IntakeRuleError) {
        if let earlier = self.forwarding {
            throw .failedPrecondition("the application was already forwarded to \(earlier.toNode.divisionCode)")
        }
        try sentToApproval(implementationCodes)
        self.forwarding = forwarding
    }

    /// 出件: once, after every item has its result and any 容缺 materials arrived; granted items are
    /// delivered, a window collection is a visit.
    public mutating func deliver(_ delivery: Delivery) throws(IntakeRuleError) {
        guard overallStatus == .readyForDelivery else {
            throw .failedPrecondition("results are handed out once every item is decided (and its licence issued); the application is \(overallStatus.rawValue)")
        }
        if let terms = deficiency, terms.suppliedOn == nil {
            throw .failedPrecondition("容缺受理: the missing materials (due \(terms.supplyBy.iso8601)) have not been supplied; the result is not handed out before they are")
        }
        self.delivery = delivery
        if delivery.method == .window { visits += 1 }
        for index in itemTracks.indices where [.granted, .licenceIssued].contains(itemTracks[index].progress) {
            itemTracks[index].progress = .delivered
        }
    }

    /// The applicant came to a window for this application (a correction handed in there).
    public mutating func countWindowVisit() { visits += 1 }

    /// Applies what an event reports about one item. Progress never moves back: old news delivered
    /// late (another service's relay was down) keeps the further progress. Nil when the
    /// application has no such item.
    public mutating func updateItem<Result>(_ implementationCode: String, _ change: (inout ItemTrack) throws -> Result) rethrows -> Result? {
        guard let index = itemTracks.firstIndex(where: { $0.implementationCode == implementationCode }) else { return nil }
        var track = itemTracks[index]
        let before = track.progress
        let result = try change(&track)
        track.progress = before.advanced(to: track.progress)
        itemTracks[index] = track
        return result
    }

    // MARK: - Rules shared by the acts

    /// Items still waiting for intake end with the application (not accepted, withdrawn).
    private mutating func endPendingItems(as progress: ItemProgress) {
        for index in itemTracks.indices where itemTracks[index].progress == .pendingIntake {
            itemTracks[index].progress = progress
        }
    }

    private mutating func accept(_ kind: AcceptanceKind, outcome: IntakeOutcome, on: CivilDate) {
        status = .accepted
        self.outcome = outcome
        acceptanceKind = kind
        acceptedOn = on
    }

    /// A clerk's decision needs an application waiting for one, dated within the 5 working days.
    private func requireAwaitingDecision(_ action: IntakeAction, on: CivilDate) throws(IntakeRuleError) {
        guard status == .submitted else { throw wrongState(action) }
        try requireNotBeforeReceipt(on)
        try requireBeforeDeadline(action, on: on)
    }

    private func requireNotBeforeReceipt(_ on: CivilDate) throws(IntakeRuleError) {
        guard on >= intakeClockStartedOn else {
            throw .invalidArgument([FieldViolation(field: "on", description: "\(on) is before the application was received (\(intakeClockStartedOn))", reason: "date.order")])
        }
    }

    private func requireBeforeDeadline(_ action: IntakeAction, on: CivilDate) throws(IntakeRuleError) {
        guard on <= intakeDeadline else {
            throw .failedPrecondition("\(action.name) on \(on) is too late: the 5 working days ended on \(intakeDeadline), so by Art. 32 the application is accepted from \(intakeClockStartedOn); record the deemed acceptance")
        }
    }

    private func wrongState(_ action: IntakeAction) -> IntakeRuleError {
        let outcomeText = outcome.map { " (outcome \($0.rawValue))" } ?? ""
        return .failedPrecondition("\(action.name) is not allowed: the application is \(status.rawValue)\(outcomeText)")
    }

    /// A notice must list exactly what the check found: nothing complete, nothing left out.
    private func checkNoticeMatchesCheck(_ problems: [MaterialProblem]) throws(IntakeRuleError) {
        guard !problems.isEmpty else {
            throw .invalidArgument([FieldViolation(field: "problems", description: "a correction notice lists at least one problem", reason: "required")])
        }
        let found = expanded(check.problems.map(\.key))
        var violations: [FieldViolation] = []
        for (index, problem) in problems.enumerated() {
            let keys = expanded([problem.key])
            if keys.isEmpty {
                violations.append(FieldViolation(field: indexPath("problems", index), description: "no requested item lists material “\(problem.key)”", reason: "unknown_material"))
            } else if !keys.isSubset(of: found) {
                violations.append(FieldViolation(field: indexPath("problems", index), description: "“\(problem.materialName.isEmpty ? problem.key.description : problem.materialName)” (\(problem.key)) was found complete; a notice may list only what is missing or defective", reason: "correction.lists_complete_material"))
            }
        }
        let listed = expanded(problems.map(\.key))
        let left = found.subtracting(listed).sorted()
        if !left.isEmpty {
            violations.append(FieldViolation(field: "problems", description: "the notice leaves out \(left.map(\.description).joined(separator: ", ")); Art. 32 requires everything to be told at once", reason: "correction.incomplete"))
        }
        guard violations.isEmpty else { throw .invalidArgument(violations) }
    }

    private func requireSameMaterials(listed: Set<MaterialKey>, found: Set<MaterialKey>, field: String, what: String) throws(IntakeRuleError) {
        var violations: [FieldViolation] = []
        let extra = listed.subtracting(found).sorted()
        let left = found.subtracting(listed).sorted()
        if !extra.isEmpty {
            violations.append(FieldViolation(field: field, description: "\(extra.map(\.description).joined(separator: ", ")) not missing or defective", reason: "deficiency.lists_complete_material"))
        }
        if !left.isEmpty {
            violations.append(FieldViolation(field: field, description: "\(what) leaves out \(left.map(\.description).joined(separator: ", "))", reason: "deficiency.incomplete"))
        }
        guard violations.isEmpty else { throw .invalidArgument(violations) }
    }

    /// 容缺受理 only on items that allow it and only for their non-core materials.
    @discardableResult
    private func deficiencyChecks(_ keys: Set<MaterialKey>) throws(IntakeRuleError) -> Bool {
        for key in keys.sorted() {
            guard let pinned = items.first(where: { $0.item.implementationCode == key.implementationCode }) else { continue }
            guard pinned.item.deficiencyAllowed else {
                throw .failedPrecondition("item \(pinned.item.implementationCode) (\(pinned.item.name)) does not allow 容缺受理")
            }
            if let material = pinned.item.material(code: key.requirementCode), !material.deficiencyAllowed {
                throw .failedPrecondition("“\(material.name)” (\(key)) is a core material of \(pinned.item.name); 容缺受理 is only for non-core materials")
            }
        }
        return true
    }

    /// Keys with the item spelt out: a shared key (empty item) stands for every requested item that
    /// lists the material, so a notice may name a shared material once or per item.
    private func expanded(_ keys: [MaterialKey]) -> Set<MaterialKey> {
        var out = Set<MaterialKey>()
        for key in keys {
            for pinned in items where (key.implementationCode.isEmpty || key.implementationCode == pinned.item.implementationCode)
                && pinned.item.material(code: key.requirementCode) != nil {
                out.insert(MaterialKey(implementationCode: pinned.item.implementationCode, requirementCode: key.requirementCode))
            }
        }
        return out
    }

    /// Supplied materials replace those with the same requirement code and items, others are added.
    private mutating func merge(_ supplied: [ProvidedMaterial]) {
        for material in supplied {
            materials.removeAll { $0.requirementCode == material.requirementCode && Set($0.implementationCodes) == Set(material.implementationCodes) }
            materials.append(material)
        }
    }

    static func list(_ problems: [MaterialProblem]) -> String {
        problems.map { "\($0.materialName) (\($0.key)): \($0.kind.rawValue)" }.joined(separator: ", ")
    }
}

extension IntakeAction {
    /// The date the act happened on (the sweeper's "today" for a deemed acceptance).
    public var date: CivilDate {
        switch self {
        case .accept(let on), .issueCorrectionNotice(_, let on, _), .reject(_, let on), .acceptWithDeficiency(_, let on),
             .acceptByCommitment(_, let on), .supplyCorrection(_, let on), .supplement(_, let on), .cureDeficiency(_, let on), .withdraw(_, let on):
            on
        case .deemAccept(let today): today
        }
    }
}
