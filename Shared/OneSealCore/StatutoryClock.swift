/// Counts a statutory period in working days from an act (receipt, acceptance, grant, push …).
///
/// The day of the act is not counted; counting starts the next day (民法典 Art. 201). A period of
/// N working days ends at the end of the Nth counted working day after the act. Working days
/// inside a suspension (Art. 45: hearing, testing, expert review …) are not counted, so each one
/// moves the deadline one working day later.
///
/// A value: store it with the case, change it with `extend`/`suspend`/`endSuspension`, and ask it
/// for the deadline and the days left against the node's `WorkingDayCalendar`.
public struct StatutoryClock: Sendable, Hashable, Codable {
    /// The day of the act; day 0, never counted.
    public let actDate: CivilDate
    public let period: StatutoryPeriod
    /// Working days granted by the one extension (0 when not extended).
    public private(set) var extensionDays: Int
    public private(set) var suspensions: [ClockSuspension]

    /// Checks that the extension is within the law and that each closed suspension ends on or
    /// after its start, so a stored clock read back cannot describe an impossible state.
    public init(
        actDate: CivilDate,
        period: StatutoryPeriod,
        extensionDays: Int = 0,
        suspensions: [ClockSuspension] = []
    ) throws(ClockError) {
        guard extensionDays >= 0, extensionDays <= period.maximumExtension else {
            throw .extensionExceedsLimit(requested: extensionDays, maximum: period.maximumExtension)
        }
        for suspension in suspensions {
            if let end = suspension.end, end < suspension.start {
                throw .invalidSuspension(start: suspension.start, end: end)
            }
        }
        self.actDate = actDate
        self.period = period
        self.extensionDays = extensionDays
        self.suspensions = suspensions
    }

    private enum CodingKeys: String, CodingKey { case actDate, period, extensionDays, suspensions }

    /// Decoding runs the same checks as `init`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(
            actDate: container.decode(CivilDate.self, forKey: .actDate),
            period: container.decode(StatutoryPeriod.self, forKey: .period),
            extensionDays: container.decodeIfPresent(Int.self, forKey: .extensionDays) ?? 0,
            suspensions: container.decodeIfPresent([ClockSuspension].self, forKey: .suspensions) ?? []
        )
    }

    /// A clock for a plain period with no extension and no suspension.
    public init(actDate: CivilDate, workingDays: Int) {
        self.actDate = actDate
        self.period = StatutoryPeriod(workingDays: workingDays)
        self.extensionDays = 0
        self.suspensions = []
    }

    /// The whole period including any extension.
    public var totalWorkingDays: Int { period.workingDays + extensionDays }

    /// The suspension still running, if any.
    public var openSuspension: ClockSuspension? { suspensions.first(where: \.isOpen) }

    /// Grants the one extension the law allows (Art. 42: the head's approval, the reason told to
    /// the applicant — recording those is the caller's job).
    public mutating func extend(by workingDays: Int) throws(ClockError) {
        guard extensionDays == 0 else { throw .alreadyExtended }
        guard workingDays > 0, workingDays <= period.maximumExtension else {
            throw .extensionExceedsLimit(requested: workingDays, maximum: period.maximumExtension)
        }
        extensionDays = workingDays
    }

    /// Stops the clock from `start` (inclusive) until `endSuspension(lastDay:)`.
    public mutating func suspend(_ reason: SuspensionReason, from start: CivilDate) throws(ClockError) {
        if let open = openSuspension { throw .alreadySuspended(since: open.start) }
        suspensions.append(ClockSuspension(reason: reason, start: start))
    }

    /// Ends the running suspension; `lastDay` is the last day not counted, counting resumes the
    /// day after.
    public mutating func endSuspension(lastDay: CivilDate) throws(ClockError) {
        guard let index = suspensions.firstIndex(where: \.isOpen) else { throw .notSuspended }
        guard lastDay >= suspensions[index].start else {
            throw .invalidSuspension(start: suspensions[index].start, end: lastDay)
        }
        suspensions[index].end = lastDay
    }

    /// Records a suspension whose end is already known, e.g. an expert review scheduled in advance.
    public mutating func addSuspension(_ suspension: ClockSuspension) throws(ClockError) {
        if let end = suspension.end, end < suspension.start {
            throw .invalidSuspension(start: suspension.start, end: end)
        }
        if suspension.isOpen, let open = openSuspension { throw .alreadySuspended(since: open.start) }
        suspensions.append(suspension)
    }

    /// Whether `date` is inside any suspension.
    public func isSuspended(on date: CivilDate) -> Bool {
        suspensions.contains { $0.contains(date) }
    }

    /// The last day of the period: the period ends at the end of this day
    /// (`deadline.endOfDayInstant()`).
    ///
    /// Throws `ClockError.suspensionOngoing` when an open suspension stops the clock before the
    /// period is used up, and `CalendarError.yearNotLoaded` when the count reaches a year the
    /// calendar does not know.
    public func deadline(in calendar: WorkingDayCalendar) throws -> CivilDate {
        try Self.deadline(actDate: actDate, workingDays: totalWorkingDays, suspensions: suspensions, calendar: calendar)
    }

    /// Counted working days from the day after the act through `date` inclusive.
    public func workingDaysUsed(asOf date: CivilDate, in calendar: WorkingDayCalendar) throws -> Int {
        guard actDate < date else { return 0 }
        var used = 0
        var day = actDate.next
        while day <= date {
            if try calendar.isWorkingDay(day), !isSuspended(on: day) { used += 1 }
            day = day.next
        }
        return used
    }

    /// Where the clock stands on `date`: days used and left, the deadline, overdue and warning.
    ///
    /// While a suspension is running on `date`, the deadline given is a projection assuming the
    /// clock restarts the next day (the deadline can only move later), and `isSuspended` is true.
    public func status(
        asOf date: CivilDate,
        in calendar: WorkingDayCalendar,
        warning: WarningPolicy = .default
    ) throws -> DeadlineStatus {
        let used = try workingDaysUsed(asOf: date, in: calendar)
        var projected = suspensions
        let suspendedNow = openSuspension.map { $0.start <= date } ?? false
        if let index = projected.firstIndex(where: \.isOpen) {
            projected[index].end = max(date, projected[index].start)
        }
        let deadline = try Self.deadline(
            actDate: actDate, workingDays: totalWorkingDays, suspensions: projected, calendar: calendar)
        return DeadlineStatus(
            asOf: date,
            deadline: deadline,
            totalWorkingDays: totalWorkingDays,
            workingDaysUsed: used,
            isSuspended: suspendedNow,
            warning: warning
        )
    }

    private static func deadline(
        actDate: CivilDate,
        workingDays: Int,
        suspensions: [ClockSuspension],
        calendar: WorkingDayCalendar
    ) throws -> CivilDate {
        var day = actDate
        var remaining = workingDays
        while remaining > 0 {
            day = day.next
            if let open = suspensions.first(where: { $0.isOpen && $0.start <= day }) {
                throw ClockError.suspensionOngoing(since: open.start)
            }
            if try calendar.isWorkingDay(day), !suspensions.contains(where: { $0.contains(day) }) {
                remaining -= 1
            }
        }
        return day
    }
}
