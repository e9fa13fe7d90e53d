// EvaluationRules — the evaluation service's rules as plain Swift values, tested without a
// database (issue #7): ratings and their indicators, the bad-review rectification ticket life
// cycle, efficiency figures folded from events, early-warning status, and monthly flags.
