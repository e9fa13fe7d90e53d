-- approval: renewals (延续, 行政许可法 Art. 50). A renewal case carries the licence's last valid day in its
-- state; this copy lets the renewal sweeper find the open renewals nobody decided in time and grant them
-- by law (视为准予延续) the day after. NULL for every other case and once a case is closed.
ALTER TABLE cases ADD COLUMN IF NOT EXISTS renewal_due_on date;
CREATE INDEX IF NOT EXISTS cases_renewal_due ON cases (renewal_due_on) WHERE renewal_due_on IS NOT NULL AND status IN ('in_progress', 'suspended');
