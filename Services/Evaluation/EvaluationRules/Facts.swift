import OneSealCore

// The read model: what evaluation knows about each application, case, consultation and push,
// folded from the other services' events. The fold is a pure function of the events (E8): the
// service applies it to each event as it arrives and, on a rebuild, to the whole stored log in
// arrival order; both give the same facts. It tolerates any interleaving of the independent
// streams (intake's and approval's events for one application arrive in any order): every event
// only sets the fields it knows, and figures join applications and cases when they are computed.

/// Who a case or an act is attributed to.
public struct StaffRef: Sendable, Hashable, Codable {
    public var subject: String
    public var name: String
    public init(subject: String, name: String = "") {
        self.subject = subject
        self.name = name
    }
}

/// A department (科室 / competent department).
public struct Department: Sendable, Hashable, Codable {
    public var code: String
    public var name: String
    public init(code: String, name: String = "") {
        self.code = code
        self.name = name
    }
}

/// One application as the window saw it (intake events).
public struct ApplicationFact: Sendable, Hashable, Codable {
    public var id: String
    public var number: String = ""
    /// The accepting node (division code) and its display name.
    public var node: String = ""
    public var nodeName: String = ""
    public var windowID: String = ""
    public var channel: String = ""
    public var submittedOn: CivilDate?
    public var acceptedOn: CivilDate?
    public var acceptanceKind: String = ""
    public var acceptedBy: StaffRef?
    public var correctionOn: CivilDate?
    public var notAcceptedOn: CivilDate?
    public var withdrawnOn: CivilDate?
    public var forwardedOn: CivilDate?
    public var deliveredOn: CivilDate?
    public var visits: Int = 0
    /// Implementation codes, with the item names and competent departments once accepted.
    public var items: [String] = []
    public var itemNames: [String: String] = [:]
    public var itemDepartments: [String: Department] = [:]
    public var caseIDs: [String] = []
    /// Keyed blind index (hex) of the applicant's ID number — never the number itself (E1).
    public var applicantIndex: String = ""

    public init(id: String) { self.id = id }

    /// Completed for rating purposes: the applicant's business here is over (E5).
    public var completedOn: CivilDate? { deliveredOn ?? notAcceptedOn ?? withdrawnOn }
}

/// One approval case (approval events; certificate events add the licence).
public struct CaseFact: Sendable, Hashable, Codable {
    public var id: String
    public var number: String = ""
    public var applicationID: String = ""
    public var applicationNumber: String = ""
    public var implementationCode: String = ""
    public var itemName: String = ""
    public var acceptingNode: String = ""
    public var decidingNode: String = ""
    public var nodeNames: [String: String] = [:]
    public var department: Department?
    public var officer: StaffRef?
    public var acceptedOn: CivilDate?
    public var openedOn: CivilDate?
    /// The statutory clock as approval last reported it.
    public var clockStartedOn: CivilDate?
    public var dueOn: CivilDate?
    public var workingDaysTotal: Int = 0
    public var suspended: Bool = false
    public var extended: Bool = false
    public var returns: Int = 0
    public var decidedOn: CivilDate?
    public var granted: Bool?
    public var onTime: Bool?
    public var workingDaysTaken: Int?
    public var withdrawnOn: CivilDate?
    public var revokedOn: CivilDate?
    public var cancelledOn: CivilDate?
    public var licenceIssuedOn: CivilDate?
    public var licenceWorkingDays: Int?
    public var applicantIndex: String = ""

    public init(id: String) { self.id = id }

    /// The node the case's figures belong to: where it is decided (a forwarded county application
    /// is decided, and counted as decided, at the city).
    public var node: String { decidingNode.isEmpty ? acceptingNode : decidingNode }

    public var completedOn: CivilDate? { decidedOn ?? withdrawnOn }

    /// Running on `day`: opened by then and neither decided nor withdrawn by then.
    public func isRunning(on day: CivilDate) -> Bool {
        guard let opened = openedOn ?? acceptedOn, opened <= day else { return false }
        if let decidedOn, decidedOn <= day { return false }
        if let withdrawnOn, withdrawnOn <= day { return false }
        return true
    }
}

public struct ConsultationFact: Sendable, Hashable, Codable {
    public var id: String
    public var node: String
    public var implementationCode: String
    public var windowID: String
    public var on: CivilDate
    public init(id: String, node: String, implementationCode: String, windowID: String, on: CivilDate) {
        self.id = id
        self.node = node
        self.implementationCode = implementationCode
        self.windowID = windowID
        self.on = on
    }
}

/// A supervision push (审管联动) for the departments' claim figures.
public struct PushFact: Sendable, Hashable, Codable {
    public var id: String
    public var node: String = ""
    public var department: Department?
    public var implementationCode: String = ""
    public var caseID: String = ""
    public var pushedOn: CivilDate?
    public var claimDueOn: CivilDate?
    public var claimedOn: CivilDate?
    public var rejectedOn: CivilDate?
    public var claimOverdue: Bool = false
    public var findings: Int = 0
    public init(id: String) { self.id = id }
}

/// An event, as the fold reads it. The service turns each proto event into one of these; an
/// event type it does not know becomes `.other` and is kept in the log without effect on figures.
public enum FactEvent: Sendable, Hashable {
    public struct Header: Sendable, Hashable {
        public var caseID: String
        public var caseNumber: String = ""
        public var applicationID: String = ""
        public var applicationNumber: String = ""
        public var implementationCode: String = ""
        public var itemName: String = ""
        public var acceptingNode: String = ""
        public var acceptingNodeName: String = ""
        public var decidingNode: String = ""
        public var decidingNodeName: String = ""
        public var department: Department?
        public var officer: StaffRef?
        public init(caseID: String) { self.caseID = caseID }
    }

    /// A statutory clock as approval reported it.
    public struct Clock: Sendable, Hashable {
        public var startedOn: CivilDate?
        public var dueOn: CivilDate?
        public var workingDaysTotal: Int
        public var suspended: Bool
        public var extensionDays: Int
        public init(startedOn: CivilDate?, dueOn: CivilDate?, workingDaysTotal: Int, suspended: Bool = false, extensionDays: Int = 0) {
            self.startedOn = startedOn
            self.dueOn = dueOn
            self.workingDaysTotal = workingDaysTotal
            self.suspended = suspended
            self.extensionDays = extensionDays
        }
    }

    public struct AcceptedItem: Sendable, Hashable {
        public var code: String
        public var name: String
        public var department: Department?
        public init(code: String, name: String, department: Department? = nil) {
            self.code = code
            self.name = name
            self.department = department
        }
    }

    case applicationSubmitted(applicationID: String, number: String, node: String, items: [String], channel: String, windowID: String, on: CivilDate)
    case applicationAccepted(applicationID: String, number: String, node: String, nodeName: String, kind: String, on: CivilDate, items: [AcceptedItem], windowID: String, acceptedBy: StaffRef?, applicantIndex: String)
    case correctionIssued(applicationID: String, number: String, on: CivilDate)
    case notAccepted(applicationID: String, number: String, on: CivilDate)
    case applicationWithdrawn(applicationID: String, on: CivilDate)
    case applicationForwarded(applicationID: String, on: CivilDate)
    case resultDelivered(applicationID: String, number: String, visits: Int, windowID: String, caseIDs: [String], on: CivilDate)
    case consultation(ConsultationFact)
    case caseOpened(Header, acceptedOn: CivilDate?, openedOn: CivilDate, clock: Clock?)
    case stepCompleted(Header)
    case caseReturned(Header, on: CivilDate)
    case clockChanged(Header, clock: Clock?, suspended: Bool)
    case caseDecided(Header, granted: Bool, decidedOn: CivilDate, onTime: Bool, workingDaysTaken: Int, returns: Int, acceptedOn: CivilDate?, applicantIndex: String)
    case caseWithdrawn(Header, on: CivilDate)
    case grantRevoked(Header, on: CivilDate)
    case grantCancelled(Header, on: CivilDate)
    case licenceIssued(caseID: String, applicationID: String, implementationCode: String, on: CivilDate, workingDaysAfterDecision: Int)
    case push(id: String, node: String, department: Department?, implementationCode: String, caseID: String, on: CivilDate, claimDueOn: CivilDate?, change: PushChange)
    case finding(pushID: String)
    /// Kept in the log, no effect on the read model.
    case other

    public enum PushChange: String, Sendable, Hashable { case created, claimed, rejected, claimOverdue }

    /// The facts this event touches, so the service loads just those rows.
    public var keys: (applications: [String], cases: [String], pushes: [String]) {
        switch self {
        case .applicationSubmitted(let id, _, _, _, _, _, _), .applicationAccepted(let id, _, _, _, _, _, _, _, _, _),
             .correctionIssued(let id, _, _), .notAccepted(let id, _, _), .applicationWithdrawn(let id, _),
             .applicationForwarded(let id, _):
            return ([id], [], [])
        case .resultDelivered(let id, _, _, _, _, _): return ([id], [], [])
        case .consultation: return ([], [], [])
        case .caseOpened(let header, _, _, _), .stepCompleted(let header), .caseReturned(let header, _), .clockChanged(let header, _, _),
             .caseDecided(let header, _, _, _, _, _, _, _), .caseWithdrawn(let header, _), .grantRevoked(let header, _), .grantCancelled(let header, _):
            return ([], [header.caseID], [])
        case .licenceIssued(let caseID, _, _, _, _): return ([], [caseID], [])
        case .push(let id, _, _, _, _, _, _, _): return ([], [], [id])
        case .finding(let id): return ([], [], [id])
        case .other: return ([], [], [])
        }
    }
}

/// The stored facts a batch of events touches — the rows the service locks, loads and writes
/// back once for the whole batch (#21). Each event reads and writes only the facts at its own
/// `keys` (`ReadModel.apply`), so folding a batch onto the rows at the union of its keys gives
/// every row the value folding the events one at a time gave it (tested in `BatchFoldTests`).
public struct FactKeys: Sendable, Hashable {
    public var applications: Set<String> = []
    public var cases: Set<String> = []
    public var pushes: Set<String> = []

    public init<S: Sequence<FactEvent>>(of events: S) {
        for event in events {
            let keys = event.keys
            applications.formUnion(keys.applications.lazy.filter { !$0.isEmpty })
            cases.formUnion(keys.cases.lazy.filter { !$0.isEmpty })
            pushes.formUnion(keys.pushes.lazy.filter { !$0.isEmpty })
        }
    }

    public var isEmpty: Bool { applications.isEmpty && cases.isEmpty && pushes.isEmpty }

    /// One name per fact for a transaction-scoped advisory lock (the names the one-event fold
    /// used, so old and new consumers exclude each other during a rolling upgrade), sorted: two
    /// batches that share facts lock them in the same order and cannot deadlock on them.
    public var lockNames: [String] {
        (applications.map { "application:" + $0 } + cases.map { "case:" + $0 } + pushes.map { "push:" + $0 }).sorted()
    }
}

/// The folded facts. `apply` is the whole fold.
public struct ReadModel: Sendable, Hashable {
    public var applications: [String: ApplicationFact] = [:]
    public var cases: [String: CaseFact] = [:]
    public var consultations: [String: ConsultationFact] = [:]
    public var pushes: [String: PushFact] = [:]

    public init(applications: [String: ApplicationFact] = [:], cases: [String: CaseFact] = [:], consultations: [String: ConsultationFact] = [:], pushes: [String: PushFact] = [:]) {
        self.applications = applications
        self.cases = cases
        self.consultations = consultations
        self.pushes = pushes
    }

    public init(folding events: some Sequence<FactEvent>) {
        self.init()
        for event in events { apply(event) }
    }

    public mutating func apply(_ event: FactEvent) {
        switch event {
        case .applicationSubmitted(let id, let number, let node, let items, let channel, let windowID, let on):
            update(application: id) {
                $0.number = number
                if $0.node.isEmpty { $0.node = node }
                for code in items where !$0.items.contains(code) { $0.items.append(code) }
                $0.channel = channel
                if !windowID.isEmpty { $0.windowID = windowID }
                $0.submittedOn = on
            }
        case .applicationAccepted(let id, let number, let node, let nodeName, let kind, let on, let items, let windowID, let acceptedBy, let index):
            update(application: id) {
                if $0.number.isEmpty { $0.number = number }
                if !node.isEmpty { $0.node = node }
                if !nodeName.isEmpty { $0.nodeName = nodeName }
                $0.acceptanceKind = kind
                $0.acceptedOn = on
                if $0.submittedOn == nil { $0.submittedOn = on }
                for item in items {
                    if !$0.items.contains(item.code) { $0.items.append(item.code) }
                    $0.itemNames[item.code] = item.name
                    if let department = item.department { $0.itemDepartments[item.code] = department }
                }
                if !windowID.isEmpty { $0.windowID = windowID }
                if let acceptedBy { $0.acceptedBy = acceptedBy }
                if !index.isEmpty { $0.applicantIndex = index }
            }
        case .correctionIssued(let id, let number, let on):
            update(application: id) {
                if $0.number.isEmpty { $0.number = number }
                $0.correctionOn = $0.correctionOn ?? on
            }
        case .notAccepted(let id, let number, let on):
            update(application: id) {
                if $0.number.isEmpty { $0.number = number }
                $0.notAcceptedOn = on
            }
        case .applicationWithdrawn(let id, let on):
            update(application: id) { $0.withdrawnOn = on }
        case .applicationForwarded(let id, let on):
            update(application: id) { $0.forwardedOn = $0.forwardedOn ?? on }
        case .resultDelivered(let id, let number, let visits, let windowID, let caseIDs, let on):
            update(application: id) {
                if $0.number.isEmpty { $0.number = number }
                $0.deliveredOn = on
                $0.visits = visits
                if $0.windowID.isEmpty { $0.windowID = windowID }
                for caseID in caseIDs where !$0.caseIDs.contains(caseID) { $0.caseIDs.append(caseID) }
            }
        case .consultation(let fact):
            consultations[fact.id] = fact
        case .caseOpened(let header, let acceptedOn, let openedOn, let clock):
            update(case: header) {
                if let acceptedOn { $0.acceptedOn = acceptedOn }
                $0.openedOn = openedOn
                if let clock { Self.set(clock, on: &$0) }
            }
        case .stepCompleted(let header):
            update(case: header) { _ in }
        case .caseReturned(let header, _):
            update(case: header) { $0.returns += 1 }
        case .clockChanged(let header, let clock, let suspended):
            update(case: header) {
                if let clock { Self.set(clock, on: &$0) }
                $0.suspended = suspended
            }
        case .caseDecided(let header, let granted, let decidedOn, let onTime, let taken, let returns, let acceptedOn, let index):
            update(case: header) {
                $0.granted = granted
                $0.decidedOn = decidedOn
                $0.onTime = onTime
                $0.workingDaysTaken = taken
                $0.returns = max($0.returns, returns)
                $0.suspended = false
                if $0.acceptedOn == nil { $0.acceptedOn = acceptedOn }
                if $0.openedOn == nil { $0.openedOn = acceptedOn ?? decidedOn }
                if !index.isEmpty { $0.applicantIndex = index }
            }
        case .caseWithdrawn(let header, let on):
            update(case: header) { $0.withdrawnOn = on }
        case .grantRevoked(let header, let on):
            update(case: header) { $0.revokedOn = on }
        case .grantCancelled(let header, let on):
            update(case: header) { $0.cancelledOn = on }
        case .licenceIssued(let caseID, let applicationID, let code, let on, let days):
            guard !caseID.isEmpty else { return }
            var fact = cases[caseID] ?? CaseFact(id: caseID)
            if fact.applicationID.isEmpty { fact.applicationID = applicationID }
            if fact.implementationCode.isEmpty { fact.implementationCode = code }
            fact.licenceIssuedOn = on
            fact.licenceWorkingDays = days
            cases[caseID] = fact
        case .push(let id, let node, let department, let code, let caseID, let on, let due, let change):
            var fact = pushes[id] ?? PushFact(id: id)
            if !node.isEmpty { fact.node = node }
            if let department { fact.department = department }
            if !code.isEmpty { fact.implementationCode = code }
            if !caseID.isEmpty { fact.caseID = caseID }
            if let due { fact.claimDueOn = due }
            switch change {
            case .created: fact.pushedOn = fact.pushedOn ?? on
            case .claimed: fact.claimedOn = on
            case .rejected: fact.rejectedOn = on
            case .claimOverdue: fact.claimOverdue = true
            }
            pushes[id] = fact
        case .finding(let pushID):
            guard !pushID.isEmpty else { return }
            var fact = pushes[pushID] ?? PushFact(id: pushID)
            fact.findings += 1
            pushes[pushID] = fact
        case .other:
            break
        }
    }

    private mutating func update(application id: String, _ change: (inout ApplicationFact) -> Void) {
        guard !id.isEmpty else { return }
        var fact = applications[id] ?? ApplicationFact(id: id)
        change(&fact)
        applications[id] = fact
    }

    private mutating func update(case header: FactEvent.Header, _ change: (inout CaseFact) -> Void) {
        guard !header.caseID.isEmpty else { return }
        var fact = cases[header.caseID] ?? CaseFact(id: header.caseID)
        if !header.caseNumber.isEmpty { fact.number = header.caseNumber }
        if !header.applicationID.isEmpty { fact.applicationID = header.applicationID }
        if !header.applicationNumber.isEmpty { fact.applicationNumber = header.applicationNumber }
        if !header.implementationCode.isEmpty { fact.implementationCode = header.implementationCode }
        if !header.itemName.isEmpty { fact.itemName = header.itemName }
        if !header.acceptingNode.isEmpty { fact.acceptingNode = header.acceptingNode }
        if !header.decidingNode.isEmpty { fact.decidingNode = header.decidingNode }
        if !header.acceptingNodeName.isEmpty { fact.nodeNames[header.acceptingNode] = header.acceptingNodeName }
        if !header.decidingNodeName.isEmpty { fact.nodeNames[header.decidingNode] = header.decidingNodeName }
        if let department = header.department, !department.code.isEmpty { fact.department = department }
        if let officer = header.officer, !officer.subject.isEmpty { fact.officer = officer }
        change(&fact)
        cases[header.caseID] = fact
    }

    private static func set(_ clock: FactEvent.Clock, on fact: inout CaseFact) {
        if let started = clock.startedOn { fact.clockStartedOn = started }
        if let due = clock.dueOn { fact.dueOn = due }
        if clock.workingDaysTotal > 0 { fact.workingDaysTotal = clock.workingDaysTotal }
        fact.suspended = clock.suspended
        if clock.extensionDays > 0 { fact.extended = true }
    }
}
