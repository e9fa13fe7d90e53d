// SupervisionRules — the supervision-push rules as plain Swift values, tested without a database
// (issue #6): the boundary list (which departments supervise which items), push and claim life
// cycles with their working-day deadlines, feedback kinds and what each becomes, quarterly figures.
