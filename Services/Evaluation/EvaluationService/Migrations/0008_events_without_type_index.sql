-- The event log's index on `type` (0002) served no statement: the log is read in arrival order
-- (`seq`, the rebuild and the warm-up) and looked up by `event_id` (its unique key). Every event
-- paid for it — ≈ 26 per case at a county and as many at its city (#21 step 14). An operator's
-- ad-hoc look-up by type (`WHERE NOT filed`) reads the log in order as before.
DROP INDEX IF EXISTS events_type;
