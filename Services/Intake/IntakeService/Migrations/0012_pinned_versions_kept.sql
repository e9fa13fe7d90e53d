-- A stored application names the catalogue versions it pins, not their content (#21, decision 73):
-- a version's content is the rules of every application and case that pinned it, so the catalogue
-- keeps it for good. Refused: changing a version's code, number, content or content hash;
-- deleting a version an application pins; emptying the catalogue while applications exist. Other
-- columns (the change note, by hand) may still change, and the NOTIFY of 0010 still hears it.
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
    IF EXISTS (SELECT 1 FROM applications WHERE state->'items' @> jsonb_build_array(jsonb_build_object(
               'version', jsonb_build_object('implementationCode', OLD.implementation_code, 'version', OLD.version)))) THEN
        RAISE EXCEPTION 'version % of item % is pinned by stored applications: it cannot be deleted', OLD.version, OLD.implementation_code
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN OLD;
END
$$;

CREATE OR REPLACE TRIGGER catalogue_items_kept BEFORE UPDATE OR DELETE ON catalogue_items
    FOR EACH ROW EXECUTE FUNCTION intake_catalogue_version_kept();
CREATE OR REPLACE TRIGGER catalogue_items_kept_whole BEFORE TRUNCATE ON catalogue_items
    FOR EACH STATEMENT EXECUTE FUNCTION intake_catalogue_version_kept();
