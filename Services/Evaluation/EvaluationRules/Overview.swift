// EvaluationRules — the evaluation service's rules as plain Swift values, tested without a
// database (issue #7): ratings and their indicators (Ratings.swift), the bad-review rectification
// ticket and appeals (Rectification.swift), the read model folded from other services' events
// (Facts.swift), efficiency figures (Figures.swift), early warnings (EarlyWarning.swift), monthly
// red/yellow flags (Flags.swift) and the monthly report with inline SVG charts (Report.swift,
// HTML.swift).
