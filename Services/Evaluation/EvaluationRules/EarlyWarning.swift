import OneSealCore

/// One running clock near or past its limit (电子监察).
public struct Warning: Sendable, Hashable {
    public enum Clock: String, Sendable, Hashable { case approval, rectification }
    public var clock: Clock
    /// Case id, or rectification id.
    public var id: String
    public var attribution: Attribution
    public var dueOn: CivilDate
    public var level: WarningLevel
    /// Working days after today up to the due day (0 on the due day).
    public var workingDaysLeft: Int
    /// Working days past the due day (0 unless red).
    public var overdueWorkingDays: Int
    public var suspended: Bool
}

/// Early warnings (E10): each running case's level is judged today from the due day approval last
/// reported — red once today is past the due day, yellow with `policy` working days or fewer
/// left — rather than taken from the last CaseWarningChanged, which lags by a sweep. A suspended
/// clock is stopped, so it is never yellow or red. Open rectification tickets are judged the
/// same way against their own due day.
public enum EarlyWarnings {
    public static func level(dueOn: CivilDate, today: CivilDate, suspended: Bool, policy: WarningPolicy, calendar: WorkingDayCalendar) throws(EvaluationRuleError) -> (level: WarningLevel, left: Int, overdue: Int) {
        if suspended { return (.normal, try onCalendar { () throws(CalendarError) in try calendar.workingDays(from: today, to: dueOn) }, 0) }
        if today > dueOn {
            let overdue = try onCalendar { () throws(CalendarError) in try calendar.workingDays(from: dueOn, to: today) }
            return (.red, 0, overdue)
        }
        let left = try onCalendar { () throws(CalendarError) in try calendar.workingDays(from: today, to: dueOn) }
        return (left <= policy.yellowWhenDaysLeftAtMost ? .yellow : .normal, left, 0)
    }

    /// Warnings at `minimum` or above, red first, then by due day.
    public static func list(
        model: ReadModel, rectifications: [RectificationFact], today: CivilDate, policy: WarningPolicy, calendar: WorkingDayCalendar,
        minimum: WarningLevel = .yellow, admits: (Attribution) -> Bool = { _ in true }
    ) throws(EvaluationRuleError) -> [Warning] {
        var out: [Warning] = []
        // Thousands of running cases share a few dozen due days: each (due day, suspended) is
        // counted on the calendar once.
        var judgedByDue: [DueKey: (level: WarningLevel, left: Int, overdue: Int)] = [:]
        for fact in model.cases.values where fact.isRunning(on: today) {
            guard let due = fact.dueOn else { continue }
            let attribution = Figures.attribution(of: fact, applications: model.applications)
            guard admits(attribution) else { continue }
            let key = DueKey(dueOn: due, suspended: fact.suspended)
            let judged: (level: WarningLevel, left: Int, overdue: Int)
            if let known = judgedByDue[key] {
                judged = known
            } else {
                judged = try level(dueOn: due, today: today, suspended: fact.suspended, policy: policy, calendar: calendar)
                judgedByDue[key] = judged
            }
            guard judged.level >= minimum else { continue }
            out.append(Warning(clock: .approval, id: fact.id, attribution: attribution, dueOn: due, level: judged.level,
                               workingDaysLeft: judged.left, overdueWorkingDays: judged.overdue, suspended: fact.suspended))
        }
        for ticket in rectifications where !ticket.void && ticket.rectifiedOn == nil {
            guard admits(ticket.attribution) else { continue }
            let judged = try level(dueOn: ticket.dueOn, today: today, suspended: false, policy: policy, calendar: calendar)
            guard judged.level >= minimum else { continue }
            out.append(Warning(clock: .rectification, id: ticket.id, attribution: ticket.attribution, dueOn: ticket.dueOn, level: judged.level,
                               workingDaysLeft: judged.left, overdueWorkingDays: judged.overdue, suspended: false))
        }
        return out.sorted { ($0.level, $1.dueOn, $1.id) > ($1.level, $0.dueOn, $0.id) }
    }

    struct DueKey: Hashable {
        var dueOn: CivilDate
        var suspended: Bool
    }

    /// Yellow and red counts per window or per officer, for the board.
    public static func counts(_ warnings: [Warning], by groupBy: GroupBy) -> [String: (yellow: Int, red: Int)] {
        var out: [String: (yellow: Int, red: Int)] = [:]
        for warning in warnings {
            let key = warning.attribution.key(groupBy)
            var entry = out[key] ?? (0, 0)
            if warning.level == .red { entry.red += 1 } else if warning.level == .yellow { entry.yellow += 1 }
            out[key] = entry
        }
        return out
    }
}
