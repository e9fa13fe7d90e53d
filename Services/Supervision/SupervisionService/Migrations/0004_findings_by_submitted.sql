-- The findings list as keyset pages, oldest first (#21, decision 58): the bureau's list of every
-- finding and a department's own read these indexes in order instead of counting and skipping
-- every row before an OFFSET; a case's list keeps `findings_case` (a case has a handful).
CREATE INDEX IF NOT EXISTS findings_by_submitted ON findings (submitted_at, id);
CREATE INDEX IF NOT EXISTS findings_department_by_submitted ON findings (department_code, submitted_at, id);
