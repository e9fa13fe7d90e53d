import Foundation

/// When a running case turns yellow (黄牌预警) before its limit; red is always "overdue".
/// Configurable per node because local rules differ.
public struct WarningPolicy: Sendable, Hashable, Codable {
    /// Yellow when this many working days or fewer are left (and the case is not overdue).
    public var yellowWhenDaysLeftAtMost: Int

    public init(yellowWhenDaysLeftAtMost: Int) {
        self.yellowWhenDaysLeftAtMost = yellowWhenDaysLeftAtMost
    }

    /// OneSeal's default: yellow with 3 working days or fewer left. Not a national figure.
    public static let `default` = WarningPolicy(yellowWhenDaysLeftAtMost: 3)
}

/// The warning colour of a running case, as shown on the efficiency board.
public enum WarningLevel: String, Sendable, Hashable, Codable, Comparable, CaseIterable {
    case normal
    case yellow
    case red

    public static func < (lhs: WarningLevel, rhs: WarningLevel) -> Bool {
        let order: [WarningLevel] = [.normal, .yellow, .red]
        return order.firstIndex(of: lhs)! < order.firstIndex(of: rhs)!
    }
}

/// Where a statutory clock stands on a given day.
public struct DeadlineStatus: Sendable, Hashable, Codable {
    public let asOf: CivilDate
    /// The last day of the period (a projection while `isSuspended`).
    public let deadline: CivilDate
    public let totalWorkingDays: Int
    /// Counted working days after the act, through `asOf`.
    public let workingDaysUsed: Int
    /// Whether a suspension is running on `asOf`.
    public let isSuspended: Bool
    /// Past the end of the deadline day.
    public let isOverdue: Bool
    public let level: WarningLevel

    public init(
        asOf: CivilDate,
        deadline: CivilDate,
        totalWorkingDays: Int,
        workingDaysUsed: Int,
        isSuspended: Bool,
        warning: WarningPolicy
    ) {
        self.asOf = asOf
        self.deadline = deadline
        self.totalWorkingDays = totalWorkingDays
        self.workingDaysUsed = workingDaysUsed
        self.isSuspended = isSuspended
        self.isOverdue = asOf > deadline
        let left = totalWorkingDays - workingDaysUsed
        self.level = isOverdue ? .red : (left <= warning.yellowWhenDaysLeftAtMost ? .yellow : .normal)
    }

    /// Working days left after `asOf`; 0 on the deadline day, negative once overdue by that many
    /// counted working days.
    public var workingDaysLeft: Int { totalWorkingDays - workingDaysUsed }

    /// The instant the period ends (00:00 Beijing time after the deadline day).
    public var deadlineInstant: Date { deadline.endOfDayInstant() }
}
