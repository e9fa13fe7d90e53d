-- An application's state is stored as the JSON text intake wrote (`json`), not PostgreSQL's binary
-- `jsonb` (#21 step 16, decision 78). No statement looks inside it but this file's trigger (a
-- catalogue version's deletion, rare): every write parsed ≈ 4 KB into jsonb's tree and every read
-- printed it back as text, and intake then had to ask for that text (RETURNING) to know what its
-- next read would say. As `json` the text comes back byte for byte as written, still checked to be
-- JSON on the way in. lz4 compresses the rows that outgrow a page's share in a fraction of pglz's time.
ALTER TABLE applications ALTER COLUMN state TYPE json USING state::json;
-- A server built without lz4 keeps its default (pglz).
DO $$ BEGIN
    ALTER TABLE applications ALTER COLUMN state SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'applications.state keeps the default compression: this server has no lz4';
END $$;

-- 0012's trigger, the one reader of the state inside the database, casts it to jsonb to compare.
CREATE OR REPLACE FUNCTION intake_catalogue_version_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        IF EXISTS (SELECT 1 FROM applications) THEN
            RAISE EXCEPTION 'catalogue_items holds the versions stored applications pin: it cannot be emptied'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NULL;
    ELSIF TG_OP = 'UPDATE' THEN
        IF NEW.implementation_code IS DISTINCT FROM OLD.implementation_code OR NEW.version IS DISTINCT FROM OLD.version
           OR NEW.content IS DISTINCT FROM OLD.content OR NEW.content_hash IS DISTINCT FROM OLD.content_hash THEN
            RAISE EXCEPTION 'version % of item % is the rules of the applications that pin it: publish a new version instead of changing it',
                OLD.version, OLD.implementation_code USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END IF;
    IF EXISTS (SELECT 1 FROM applications WHERE state::jsonb->'items' @> jsonb_build_array(jsonb_build_object(
               'version', jsonb_build_object('implementationCode', OLD.implementation_code, 'version', OLD.version)))) THEN
        RAISE EXCEPTION 'version % of item % is pinned by stored applications: it cannot be deleted', OLD.version, OLD.implementation_code
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN OLD;
END
$$;
