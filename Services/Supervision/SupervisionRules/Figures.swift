import Foundation
import OneSealCore

/// A calendar quarter (季度), the period of the 季度通报.
public struct Quarter: Sendable, Hashable, Codable, CustomStringConvertible {
    public let year: Int
    public let quarter: Int

    public init?(year: Int, quarter: Int) {
        guard (2000...9999).contains(year), (1...4).contains(quarter) else { return nil }
        self.year = year
        self.quarter = quarter
    }

    /// The quarter `date` falls in.
    public init(containing date: CivilDate) {
        self.year = date.year
        self.quarter = (date.month - 1) / 3 + 1
    }

    public var firstDay: CivilDate { CivilDate(year: year, month: (quarter - 1) * 3 + 1, day: 1)! }
    public var lastDay: CivilDate {
        let month = quarter * 3
        return CivilDate(year: year, month: month, day: CivilDate.daysInMonth(year: year, month: month))!
    }

    public func contains(_ date: CivilDate) -> Bool { firstDay <= date && date <= lastDay }

    public var description: String { "\(year)Q\(quarter)" }
}

/// Time counted only on working days: hours of [start, end) that fall on a working day (Beijing
/// time). A push at 16:00 on a Friday claimed at 09:00 on Monday took 8 + 9 = 17 working hours; the
/// weekend in between does not count against the department.
public enum WorkingHours {
    public static func between(_ start: Date, _ end: Date, calendar: WorkingDayCalendar) throws(SupervisionRuleError) -> Double {
        guard start < end else { return 0 }
        var seconds = 0.0
        var day = CivilDate(start)
        let last = CivilDate(end)
        while day <= last {
            if try onCalendar({ () throws(CalendarError) in try calendar.isWorkingDay(day) }) {
                let from = max(start, day.startOfDayInstant())
                let to = min(end, day.endOfDayInstant())
                if to > from { seconds += to.timeIntervalSince(from) }
            }
            day = day.next
        }
        return seconds / 3600
    }
}

/// What the figures need to know about one push.
public struct PushFacts: Sendable, Hashable {
    public var departmentCode: String
    public var pushedAt: Date
    public var pushedOnTime: Bool
    public var status: PushStatus
    public var claimedAt: Date?
    public var claimedOnTime: Bool
    public var rejected: Bool
    public var claimDue: CivilDate

    public init(departmentCode: String, pushedAt: Date, pushedOnTime: Bool, status: PushStatus, claimedAt: Date?, claimedOnTime: Bool, rejected: Bool, claimDue: CivilDate) {
        self.departmentCode = departmentCode
        self.pushedAt = pushedAt
        self.pushedOnTime = pushedOnTime
        self.status = status
        self.claimedAt = claimedAt
        self.claimedOnTime = claimedOnTime
        self.rejected = rejected
        self.claimDue = claimDue
    }
}

/// One department's (or the total's) figures for a quarter.
public struct DepartmentFigures: Sendable, Hashable, Codable {
    public var departmentCode: String
    public var pushed = 0
    public var pushedOnTime = 0
    public var claimed = 0
    public var claimedOnTime = 0
    /// claimedOnTime / pushed (0 when nothing was pushed).
    public var claimOnTimeRate = 0.0
    /// Claim latency in working hours.
    public var latencyMeanHours = 0.0
    public var latencyMedianHours = 0.0
    public var latencyP90Hours = 0.0
    public var latencyWorstHours = 0.0
    public var rejected = 0
    public var rerouted = 0
    public var unclaimedOverdue = 0
    public var findings = 0
    /// Pushes not rejected / pushed: how right the boundary list was (0 when nothing was pushed).
    public var accuracy = 0.0

    public init(departmentCode: String) { self.departmentCode = departmentCode }
}

/// The quarterly figures (季度通报): per department, pushes made in the quarter (Beijing dates).
public enum QuarterlyFigures {
    /// `findings` counts the findings each department submitted in the quarter; `now` decides which
    /// unclaimed pushes are overdue. Departments are listed in code order; `total` sums them.
    public static func compute(
        quarter: Quarter, pushes: [PushFacts], findings: [String: Int], now: Date, calendar: WorkingDayCalendar
    ) throws(SupervisionRuleError) -> (departments: [DepartmentFigures], total: DepartmentFigures) {
        var groups: [String: [PushFacts]] = [:]
        for push in pushes where quarter.contains(CivilDate(push.pushedAt)) {
            groups[push.departmentCode, default: []].append(push)
        }
        for code in findings.keys where groups[code] == nil { groups[code] = [] }
        var departments: [DepartmentFigures] = []
        var all: [PushFacts] = []
        for code in groups.keys.sorted() {
            let group = groups[code]!
            all += group
            departments.append(try figures(code, group, findings: findings[code] ?? 0, now: now, calendar: calendar))
        }
        let total = try figures("", all, findings: findings.values.reduce(0, +), now: now, calendar: calendar)
        return (departments, total)
    }

    static func figures(_ code: String, _ pushes: [PushFacts], findings: Int, now: Date, calendar: WorkingDayCalendar) throws(SupervisionRuleError) -> DepartmentFigures {
        var out = DepartmentFigures(departmentCode: code)
        var latencies: [Double] = []
        for push in pushes {
            out.pushed += 1
            if push.pushedOnTime { out.pushedOnTime += 1 }
            if push.rejected { out.rejected += 1 }
            switch push.status {
            case .claimed:
                out.claimed += 1
                if push.claimedOnTime { out.claimedOnTime += 1 }
                if let claimedAt = push.claimedAt { latencies.append(try WorkingHours.between(push.pushedAt, claimedAt, calendar: calendar)) }
            case .rerouted:
                out.rerouted += 1
            case .pending:
                if now >= push.claimDue.endOfDayInstant() { out.unclaimedOverdue += 1 }
            case .rejected:
                break
            }
        }
        out.findings = findings
        if out.pushed > 0 {
            out.claimOnTimeRate = Double(out.claimedOnTime) / Double(out.pushed)
            out.accuracy = Double(out.pushed - out.rejected) / Double(out.pushed)
        }
        latencies.sort()
        if !latencies.isEmpty {
            out.latencyMeanHours = latencies.reduce(0, +) / Double(latencies.count)
            out.latencyMedianHours = median(latencies)
            out.latencyP90Hours = latencies[Int((0.9 * Double(latencies.count)).rounded(.up)) - 1]
            out.latencyWorstHours = latencies.last!
        }
        return out
    }

    /// Median of sorted values: the middle one, or the mean of the two middle ones.
    static func median(_ sorted: [Double]) -> Double {
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}
