-- A case's state is stored as the JSON text approval wrote (`json`), not PostgreSQL's binary
-- `jsonb` (#21 step 16, decision 78): no statement looks inside it, every write parsed it into
-- jsonb's tree and every read printed it back. As `json` it comes back byte for byte as written
-- (checked to be JSON on the way in), so a write need not ask for it back. lz4 compresses a state
-- that outgrows a page's share in a fraction of pglz's time.
ALTER TABLE cases ALTER COLUMN state TYPE json USING state::json;
-- A server built without lz4 keeps its default (pglz).
DO $$ BEGIN
    ALTER TABLE cases ALTER COLUMN state SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'cases.state keeps the default compression: this server has no lz4';
END $$;
