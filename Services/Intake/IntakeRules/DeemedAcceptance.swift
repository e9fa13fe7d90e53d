import OneSealCore

/// Art. 32: an application not answered within 5 working days of receipt is accepted, and accepted
/// *from the day of receipt* — so the approval clock of a deemed-accepted case starts at receipt,
/// not at the day the sweeper noticed.
public enum DeemedAcceptance {
    /// Working days the window has to accept, refuse or issue the one correction notice.
    public static let period = StatutoryPeriod.acceptanceDecision

    /// The last day of the intake decision: the 5th working day after receipt (the day of receipt
    /// is not counted). The application is deemed accepted once this day has ended.
    public static func deadline(receivedOn: CivilDate, calendar: WorkingDayCalendar = .china) throws(IntakeRuleError) -> CivilDate {
        try onCalendar { () throws(CalendarError) in try calendar.addingWorkingDays(period.workingDays, to: receivedOn) }
    }

    /// True from the day after the deadline on: by then silence has become acceptance.
    public static func isDeemedAccepted(receivedOn: CivilDate, today: CivilDate, calendar: WorkingDayCalendar = .china) throws(IntakeRuleError) -> Bool {
        today > (try deadline(receivedOn: receivedOn, calendar: calendar))
    }

    /// The acceptance date of a deemed acceptance: the day of receipt (Art. 32).
    public static func acceptanceDate(receivedOn: CivilDate) -> CivilDate { receivedOn }
}

/// The approval clock of an accepted case: from the acceptance date, the item's statutory days,
/// extendable once by 10 working days (15 under joint handling, Art. 42).
public enum ApprovalDeadline {
    public static func clock(acceptedOn: CivilDate, item: CatalogueItem) -> StatutoryClock {
        // No extension and no suspension: the initialiser's checks cannot fail.
        try! StatutoryClock(actDate: acceptedOn, period: item.approvalPeriod)
    }

    /// The last day of the statutory period.
    public static func deadline(acceptedOn: CivilDate, item: CatalogueItem, calendar: WorkingDayCalendar = .china) throws(IntakeRuleError) -> CivilDate {
        try onCalendar { () throws(CalendarError) in try calendar.addingWorkingDays(item.statutoryDays, to: acceptedOn) }
    }

    /// The promised completion day (承诺办结), what the receipt shows the applicant.
    public static func promisedOn(acceptedOn: CivilDate, item: CatalogueItem, calendar: WorkingDayCalendar = .china) throws(IntakeRuleError) -> CivilDate {
        try onCalendar { () throws(CalendarError) in try calendar.addingWorkingDays(item.promisedDays, to: acceptedOn) }
    }
}
