import Foundation
import OneSealCore

/// What a push tells a department about.
public enum PushKind: String, Sendable, Hashable, Codable, CaseIterable {
    case grant, licence, change, revocation, cancellation, commitment
}

/// Where a push stands. `pending` → `claimed` (final) or `rejected` → `rerouted` (final).
public enum PushStatus: String, Sendable, Hashable, Codable, CaseIterable {
    case pending, claimed, rejected, rerouted
}

/// The values each node may configure (docs/law.md#supervision-push), with their defaults.
public struct SupervisionPolicy: Sendable, Hashable, Codable {
    /// Working days from the decision (issue, status change) by which the push must reach the department.
    public var pushWorkingDays: Int
    /// Working days from the push by which the department must claim it.
    public var claimWorkingDays: Int
    /// Some cities treat "pushed = claimed": a push is claimed the moment it reaches the department.
    public var pushedIsClaimed: Bool

    public init(pushWorkingDays: Int = 1, claimWorkingDays: Int = 1, pushedIsClaimed: Bool = false) {
        self.pushWorkingDays = pushWorkingDays
        self.claimWorkingDays = claimWorkingDays
        self.pushedIsClaimed = pushedIsClaimed
    }

    public static let `default` = SupervisionPolicy()

    /// Reads node_settings values (`supervision.push_working_days`, `supervision.claim_working_days`,
    /// `supervision.pushed_is_claimed`); unknown keys are ignored, bad values refused by name.
    public static func from(settings: [String: String]) throws(SupervisionRuleError) -> SupervisionPolicy {
        var policy = SupervisionPolicy()
        var violations: [FieldViolation] = []
        func days(_ key: String) -> Int? {
            guard let text = settings[key] else { return nil }
            guard let value = Int(text.trimmed), (1...30).contains(value) else {
                violations.append(FieldViolation(field: key, description: "'\(text)' is not a number of working days in 1...30", reason: "out_of_range"))
                return nil
            }
            return value
        }
        if let value = days("supervision.push_working_days") { policy.pushWorkingDays = value }
        if let value = days("supervision.claim_working_days") { policy.claimWorkingDays = value }
        if let text = settings["supervision.pushed_is_claimed"] {
            switch text.trimmed.lowercased() {
            case "true", "yes", "1", "on": policy.pushedIsClaimed = true
            case "false", "no", "0", "off": policy.pushedIsClaimed = false
            default: violations.append(FieldViolation(field: "supervision.pushed_is_claimed", description: "'\(text)' is not true or false", reason: "format"))
            }
        }
        guard violations.isEmpty else { throw .invalidArgument(violations) }
        return policy
    }
}

/// A push's two clocks: the push deadline runs from the pushed fact (decision, issue, status change);
/// the claim deadline from the day the push reached the department. Both count working days on the
/// real calendar: the day of the act is not counted and a period ends at the end of its last day.
public struct PushSchedule: Sendable, Hashable, Codable {
    public let sourceOn: CivilDate
    public let pushDue: CivilDate
    public let pushedOn: CivilDate
    public let claimDue: CivilDate

    /// The same push deadline with the claim clock restarted from `arrivedOn`: an endpoint department
    /// whose system was down is given its full claim period from the day the push actually arrived.
    public func arrived(on arrivedOn: CivilDate, policy: SupervisionPolicy, calendar: WorkingDayCalendar) throws(SupervisionRuleError) -> PushSchedule {
        guard arrivedOn > pushedOn else { return self }
        return try PushSchedule(sourceOn: sourceOn, pushedOn: arrivedOn, policy: policy, calendar: calendar)
    }

    public init(sourceOn: CivilDate, pushedOn: CivilDate, policy: SupervisionPolicy, calendar: WorkingDayCalendar) throws(SupervisionRuleError) {
        self.sourceOn = sourceOn
        self.pushedOn = pushedOn
        self.pushDue = try onCalendar { () throws(CalendarError) in try calendar.addingWorkingDays(policy.pushWorkingDays, to: sourceOn) }
        self.claimDue = try onCalendar { () throws(CalendarError) in try calendar.addingWorkingDays(policy.claimWorkingDays, to: pushedOn) }
    }

    /// Whether a push that reached the department on `arrivedOn` met its push deadline.
    public func pushedOnTime(arrivedOn: CivilDate) -> Bool { arrivedOn <= pushDue }

    /// Whether a claim on `claimedOn` met the claim deadline.
    public func claimedOnTime(claimedOn: CivilDate) -> Bool { claimedOn <= claimDue }

    /// Whether an unclaimed push is overdue at `now` (the claim deadline day has ended, Beijing time).
    public func isClaimOverdue(now: Date) -> Bool { now >= claimDue.endOfDayInstant() }
}

/// Who did something to a push (the verified caller).
public struct PushActor: Sendable, Hashable, Codable {
    public var subject: String
    public var role: String
    public var department: String?
    public var node: String

    public init(subject: String, role: String, department: String?, node: String) {
        self.subject = subject
        self.role = role
        self.department = department
        self.node = node
    }
}

/// A push's life cycle as a value: claim, reject, re-route, each refusing what its state does not allow.
public struct PushState: Sendable, Hashable, Codable {
    public let departmentCode: String
    public private(set) var schedule: PushSchedule
    public private(set) var status: PushStatus
    public private(set) var claimedAt: Date?
    public private(set) var claimedOnTime: Bool
    public private(set) var autoClaimed: Bool
    public private(set) var rejectionReason: String
    public private(set) var rejectedAt: Date?
    public private(set) var suggestedDepartment: String?

    public init(departmentCode: String, schedule: PushSchedule) {
        self.departmentCode = departmentCode
        self.schedule = schedule
        self.status = .pending
        self.claimedAt = nil
        self.claimedOnTime = false
        self.autoClaimed = false
        self.rejectionReason = ""
        self.rejectedAt = nil
        self.suggestedDepartment = nil
    }

    /// A department may act only on its own pushes.
    public func checkOwner(_ department: String?) throws(SupervisionRuleError) {
        guard let department, department == departmentCode else {
            throw .permissionDenied("this push is for department \(departmentCode); a token of \(department.map { "department \($0)" } ?? "no department") may not act on it")
        }
    }

    /// The push reached the department on `arrivedOn` (an endpoint acknowledged it): a pending push's
    /// claim clock runs from that day.
    public mutating func arrived(on arrivedOn: CivilDate, policy: SupervisionPolicy, calendar: WorkingDayCalendar) throws(SupervisionRuleError) {
        guard status == .pending else { return }
        schedule = try schedule.arrived(on: arrivedOn, policy: policy, calendar: calendar)
    }

    /// 认领. On time when claimed on or before the claim deadline day.
    public mutating func claim(at instant: Date) throws(SupervisionRuleError) {
        switch status {
        case .pending: break
        case .claimed: throw .failedPrecondition("the push was already claimed\(claimedAt.map { " at \($0)" } ?? "")")
        case .rejected: throw .failedPrecondition("the push was rejected; it waits for the bureau to re-route it")
        case .rerouted: throw .failedPrecondition("the push was re-routed to other departments")
        }
        status = .claimed
        claimedAt = instant
        claimedOnTime = schedule.claimedOnTime(claimedOn: CivilDate(instant))
    }

    /// "Pushed = claimed" nodes: claimed the moment the push reaches the department, always on time.
    public mutating func autoClaim(at instant: Date) throws(SupervisionRuleError) {
        try claim(at: instant)
        autoClaimed = true
        claimedOnTime = true
    }

    /// 退回: not this department's business. The reason must say why (at least 4 characters).
    public mutating func reject(reason: String, suggested: String?, at instant: Date) throws(SupervisionRuleError) {
        let text = reason.trimmed
        guard text.count >= 4 else {
            throw .invalidArgument([FieldViolation(field: "reason", description: text.isEmpty ? "required: say why this department is not responsible" : "too short to say why this department is not responsible", reason: text.isEmpty ? "required" : "too_short")])
        }
        if let suggested, suggested == departmentCode {
            throw .invalidArgument([FieldViolation(field: "suggested_department.code", description: "suggest another department than the rejecting one", reason: "same_department")])
        }
        switch status {
        case .pending: break
        case .claimed: throw .failedPrecondition("a claimed push cannot be rejected; report a finding instead")
        case .rejected: throw .failedPrecondition("the push was already rejected")
        case .rerouted: throw .failedPrecondition("the push was re-routed to other departments")
        }
        status = .rejected
        rejectionReason = text
        rejectedAt = instant
        suggestedDepartment = suggested
    }

    /// The bureau re-routes a rejected (or plainly wrong, still pending) push; the new departments get new pushes.
    public mutating func reroute(to departments: [String]) throws(SupervisionRuleError) {
        guard !departments.isEmpty else {
            throw .invalidArgument([FieldViolation(field: "departments", description: "at least one department to re-route to", reason: "required")])
        }
        if departments.contains(departmentCode) {
            throw .invalidArgument([FieldViolation(field: "departments", description: "re-routing to the same department \(departmentCode) changes nothing", reason: "same_department")])
        }
        switch status {
        case .pending, .rejected: break
        case .claimed: throw .failedPrecondition("the department claimed the push; it can no longer be re-routed")
        case .rerouted: throw .failedPrecondition("the push was already re-routed")
        }
        status = .rerouted
    }
}

/// Retry delay of endpoint delivery after `attempts` failures: 1 s doubling to at most 5 minutes,
/// with up to 20 % jitter so replicas and departments do not retry in lock step.
public enum DeliveryBackoff {
    public static func delay(afterFailures attempts: Int, jitter: Double = Double.random(in: 0...0.2)) -> Duration {
        let base = min(pow(2.0, Double(max(attempts - 1, 0))), 300.0)
        return .milliseconds(Int((base * (1 + min(max(jitter, 0), 0.2)) * 1000).rounded()))
    }
}
