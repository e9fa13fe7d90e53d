extension WorkingDayCalendar {
    /// The national calendar for the years whose notices ship with OneSeal (2025, 2026), taken
    /// listed in docs/law.md#working-days-and-the-calendar. Operators load later years with `loading(_:)`.
    public static let china: WorkingDayCalendar = {
        do {
            return try WorkingDayCalendar().loading(builtInChinaText)
        } catch {
            preconditionFailure("built-in calendar text is invalid: \(error)")
        }
    }()

    /// The built-in notices in the calendar text format, so the same parser checks them.
    ///
    /// 2025: 国办发明电〔2024〕12号. 2026: 国办发明电〔2025〕7号.
    public static let builtInChinaText = """
        # 2025 — 元旦, 春节, 清明, 劳动节, 端午, 国庆+中秋
        2025 off 2025-01-01
        2025 off 2025-01-28..2025-02-04
        2025 off 2025-04-04..2025-04-06
        2025 off 2025-05-01..2025-05-05
        2025 off 2025-05-31..2025-06-02
        2025 off 2025-10-01..2025-10-08
        2025 workday 2025-01-26
        2025 workday 2025-02-08
        2025 workday 2025-04-27
        2025 workday 2025-09-28
        2025 workday 2025-10-11

        # 2026 — 元旦, 春节, 清明, 劳动节, 端午, 中秋, 国庆
        2026 off 2026-01-01..2026-01-03
        2026 off 2026-02-15..2026-02-23
        2026 off 2026-04-04..2026-04-06
        2026 off 2026-05-01..2026-05-05
        2026 off 2026-06-19..2026-06-21
        2026 off 2026-09-25..2026-09-27
        2026 off 2026-10-01..2026-10-07
        2026 workday 2026-01-04
        2026 workday 2026-02-14
        2026 workday 2026-02-28
        2026 workday 2026-05-09
        2026 workday 2026-09-20
        2026 workday 2026-10-10
        """
}
