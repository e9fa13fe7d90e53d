import OneSealCore

/// Shorthand for a date literal in tests; traps on a typo so a bad literal cannot pass silently.
func day(_ text: String) -> CivilDate {
    do { return try CivilDate(parsing: text) } catch { fatalError("bad test date \(text): \(error)") }
}
