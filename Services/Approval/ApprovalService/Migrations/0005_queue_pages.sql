-- The role's queue and a person's own cases in page order (#21, scripts/bench-million-rows): with
-- a million closed cases the queue page sorted every open case of the role (88 ms at 1,000,000
-- closed + 10,000 open; 1.9 ms with this index). The predicates match ListCases' queue and
-- "mine" filters, so the planner can read a page straight off the index.
CREATE INDEX IF NOT EXISTS cases_queue_by_due ON cases (next_role, (COALESCE(due_on, 'infinity'::date)), accepted_on, case_number)
    WHERE status IN ('in_progress', 'suspended') AND next_assignee IS NULL;
CREATE INDEX IF NOT EXISTS cases_assignee_by_due ON cases (next_assignee, (COALESCE(due_on, 'infinity'::date)), accepted_on, case_number)
    WHERE status IN ('in_progress', 'suspended');
