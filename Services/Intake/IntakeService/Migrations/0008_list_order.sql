-- ListApplications in its own order (#21, scripts/bench-million-rows): pages are keyset pages
-- after the last row's (submitted_at, id), and the WHERE holds only the filters asked for, so a
-- page reads the page's rows from an index instead of sorting every match. At 1,010,000
-- applications a list without a status filter took 25 s (an 800 MB on-disk sort; 31 s at
-- OFFSET 500,000) and the window's queue 100 ms; on these indexes 1.4 ms and 2.7 ms.
CREATE INDEX IF NOT EXISTS applications_by_submitted ON applications (submitted_at, id);
CREATE INDEX IF NOT EXISTS applications_status_by_submitted ON applications (status, submitted_at, id);
-- A day's applications in list order ("received today", a clerk's day): with only the two above, the
-- planner walked `applications_by_submitted` from the oldest row to reach today's (228 ms at 110,000).
CREATE INDEX IF NOT EXISTS applications_day_by_submitted ON applications (submitted_on, submitted_at, id);
