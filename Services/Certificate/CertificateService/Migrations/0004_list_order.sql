-- ListLicences newest first as keyset pages (#21, scripts/bench-million-rows): the list counted
-- every match with `COUNT(*) OVER ()` and sorted them all for each page (8.4 s at 1,000,000
-- licences); it now reads this index backwards after the last row's (issued_at, id) and counts
-- apart, stopping at 10,001 (0.2 ms for a page).
CREATE INDEX IF NOT EXISTS licences_by_issued ON licences (issued_at, id);
