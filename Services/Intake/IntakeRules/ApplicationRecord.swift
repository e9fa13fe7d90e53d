import Foundation
import OneSealCore

// What the window keeps about an application beyond the intake decision itself: the documents it
// issued, the progress of each item after acceptance, the forwarding and the hand-over. These
// values live inside `ApplicationState` so an application has one state, and the wire record
// (`intake.v1.Application`) is rendered from it, never stored beside it (docs/decisions.md H1).

/// A dated written document issued under an agency's seal; mirrors `common.v1.IssuedDocument`.
public struct IssuedDocument: Sendable, Hashable, Codable {
    public var documentID: String
    /// Document number (文号), e.g. "371302受〔2026〕12号".
    public var number: String
    public var title: String
    public var issuedOn: CivilDate?
    public var issuingAgency: String
    public var content: Data
    public var contentType: String

    public init(documentID: String, number: String, title: String, issuedOn: CivilDate?, issuingAgency: String, content: Data, contentType: String) {
        self.documentID = documentID
        self.number = number
        self.title = title
        self.issuedOn = issuedOn
        self.issuingAgency = issuingAgency
        self.content = content
        self.contentType = contentType
    }
}

/// Who did an act, as recorded on it; mirrors `common.v1.ActorRef`.
public struct ActorRef: Sendable, Hashable, Codable {
    public var subject: String
    public var name: String
    public var role: String
    public var department: DepartmentRef?
    /// Division code of the node the actor works at.
    public var node: String

    public init(subject: String, name: String = "", role: String, department: DepartmentRef? = nil, node: String = "") {
        self.subject = subject
        self.name = name
        self.role = role
        self.department = department
        self.node = node
    }
}

/// A statutory clock as another service reported it (approval's case deadline) or as intake
/// stopped it (the first review); mirrors `common.v1.Deadline`.
public struct ReportedDeadline: Sendable, Hashable, Codable {
    public var startedOn: CivilDate?
    public var dueOn: CivilDate?
    public var workingDaysTotal: Int
    public var workingDaysUsed: Int
    public var workingDaysLeft: Int
    public var overdue: Bool
    public var overdueWorkingDays: Int
    public var suspended: Bool
    public var extensionWorkingDays: Int
    public var warning: WarningLevel?
    public var finishedOn: CivilDate?

    public init(
        startedOn: CivilDate? = nil, dueOn: CivilDate? = nil, workingDaysTotal: Int = 0, workingDaysUsed: Int = 0, workingDaysLeft: Int = 0,
        overdue: Bool = false, overdueWorkingDays: Int = 0, suspended: Bool = false, extensionWorkingDays: Int = 0,
        warning: WarningLevel? = nil, finishedOn: CivilDate? = nil
    ) {
        self.startedOn = startedOn
        self.dueOn = dueOn
        self.workingDaysTotal = workingDaysTotal
        self.workingDaysUsed = workingDaysUsed
        self.workingDaysLeft = workingDaysLeft
        self.overdue = overdue
        self.overdueWorkingDays = overdueWorkingDays
        self.suspended = suspended
        self.extensionWorkingDays = extensionWorkingDays
        self.warning = warning
        self.finishedOn = finishedOn
    }
}

/// One requested item after submission: how far its approval has come, as the events of approval
/// and certificate report it (`intake.v1.ApplicationItem` without what the pinned item says).
public struct ItemTrack: Sendable, Hashable, Codable {
    public let implementationCode: String
    /// Changed only by `ApplicationState`, which never moves it back (`ItemProgress.advanced`).
    public internal(set) var progress: ItemProgress
    public var caseID: String
    public var caseNumber: String
    /// The node deciding the item: the pinned item's implementing node until approval names the
    /// deciding node.
    public var implementingNode: NodeRef
    /// The approval deadline as last reported.
    public var deadline: ReportedDeadline?
    /// The result licence once issued.
    public var licence: LicenceRef?
    /// Denial reasons once denied (short form).
    public var denialSummary: String
    /// The written notices approval issued on this item's clock (suspension, extension), in order.
    public var notices: [IssuedDocument]

    public init(
        implementationCode: String, progress: ItemProgress, caseID: String = "", caseNumber: String = "", implementingNode: NodeRef,
        deadline: ReportedDeadline? = nil, licence: LicenceRef? = nil, denialSummary: String = "", notices: [IssuedDocument] = []
    ) {
        self.implementationCode = implementationCode
        self.progress = progress
        self.caseID = caseID
        self.caseNumber = caseNumber
        self.implementingNode = implementingNode
        self.deadline = deadline
        self.licence = licence
        self.denialSummary = denialSummary
        self.notices = notices
    }

    /// Sets the progress an event reports; `ApplicationState.updateItem` keeps the further one.
    public mutating func report(_ progress: ItemProgress) { self.progress = progress }
}

/// 受理通知书 as issued: the approval clock starts from `ApplicationState.acceptedOn`.
public struct AcceptanceReceipt: Sendable, Hashable, Codable {
    /// The promised completion date of the slowest item, for the applicant.
    public let promisedOn: CivilDate
    public let document: IssuedDocument

    public init(promisedOn: CivilDate, document: IssuedDocument) {
        self.promisedOn = promisedOn
        self.document = document
    }
}

/// County → city forwarding (审核转报) with the first-review opinion (Art. 43).
public struct Forwarding: Sendable, Hashable, Codable {
    public let toNode: NodeRef
    public let forwardedAt: Date
    public let firstReviewOpinion: String
    public let forwardedBy: ActorRef
    public let firstReviewDeadline: ReportedDeadline?

    public init(toNode: NodeRef, forwardedAt: Date, firstReviewOpinion: String, forwardedBy: ActorRef, firstReviewDeadline: ReportedDeadline?) {
        self.toNode = toNode
        self.forwardedAt = forwardedAt
        self.firstReviewOpinion = firstReviewOpinion
        self.forwardedBy = forwardedBy
        self.firstReviewDeadline = firstReviewDeadline
    }
}

/// How results are handed over (`DeliveryMethod`).
public enum DeliveryMethod: String, Sendable, Hashable, Codable, CaseIterable {
    case window, mail, electronic
}

/// Handing the results to the applicant (出件).
public struct Delivery: Sendable, Hashable, Codable {
    public let method: DeliveryMethod
    public let deliveredAt: Date
    /// Who collected it, already masked for keeping (the full number was checked at the window).
    public let recipient: Applicant?
    public let trackingNumber: String
    public let licences: [LicenceRef]
    public let documentIDs: [String]
    public let clerk: ActorRef

    public init(method: DeliveryMethod, deliveredAt: Date, recipient: Applicant?, trackingNumber: String, licences: [LicenceRef], documentIDs: [String], clerk: ActorRef) {
        self.method = method
        self.deliveredAt = deliveredAt
        self.recipient = recipient
        self.trackingNumber = trackingNumber
        self.licences = licences
        self.documentIDs = documentIDs
        self.clerk = clerk
    }
}
