-- A case's licences, newest version first (#21, scripts/bench-million-rows): renewals, changes and
-- ListLicences by case looked the case up through `licences_one_per_case`, which holds version 1
-- only, and scanned the table otherwise (505 ms at 1,000,000 licences; 0.04 ms with this index).
CREATE INDEX IF NOT EXISTS licences_by_case ON licences (case_id, version DESC);
