-- A push's state is stored as the JSON text supervision wrote (`json`), not PostgreSQL's binary
-- `jsonb` (#21 step 16, decision 78): no statement looks inside it, every write parsed it into
-- jsonb's tree and every read printed it back. As `json` it comes back as written, checked to be
-- JSON on the way in.
ALTER TABLE pushes ALTER COLUMN state TYPE json USING state::json;
