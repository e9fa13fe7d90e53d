-- The work list's pages (ListCases): open cases in due-date order, read a page at a time after the
-- previous page's last key (CasePageKey). A case with no due date sorts last.
CREATE INDEX IF NOT EXISTS cases_open_by_due ON cases ((COALESCE(due_on, 'infinity'::date)), accepted_on, case_number)
    WHERE status IN ('in_progress', 'suspended');
CREATE INDEX IF NOT EXISTS cases_by_due ON cases ((COALESCE(due_on, 'infinity'::date)), accepted_on, case_number);
