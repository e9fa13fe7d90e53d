-- The guide cache (#21, GuideCache.swift): every change to the catalogue NOTIFYs
-- `intake_catalogue_changed` with the item's code inside the changing transaction (delivered at
-- COMMIT, nothing on a rollback), so each intake process drops that item's kept guide. Publication
-- only inserts; a trigger rather than a statement in CatalogueStore.publish, so a repair by hand
-- (an UPDATE, a DELETE, a TRUNCATE — the last NOTIFYs an empty code: drop every guide) is heard too.
CREATE OR REPLACE FUNCTION intake_catalogue_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM pg_notify('intake_catalogue_changed', '');
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('intake_catalogue_changed', OLD.implementation_code);
    ELSE
        PERFORM pg_notify('intake_catalogue_changed', NEW.implementation_code);
        IF TG_OP = 'UPDATE' AND OLD.implementation_code IS DISTINCT FROM NEW.implementation_code THEN
            PERFORM pg_notify('intake_catalogue_changed', OLD.implementation_code);
        END IF;
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER catalogue_items_changed AFTER INSERT OR UPDATE OR DELETE ON catalogue_items
    FOR EACH ROW EXECUTE FUNCTION intake_catalogue_changed();
CREATE OR REPLACE TRIGGER catalogue_items_truncated AFTER TRUNCATE ON catalogue_items
    FOR EACH STATEMENT EXECUTE FUNCTION intake_catalogue_changed();
