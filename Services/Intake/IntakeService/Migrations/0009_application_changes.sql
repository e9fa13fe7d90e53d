-- WatchApplication (#21): a change of an application's revision NOTIFYs its id on
-- `intake_application_changed`, inside the writing transaction (delivered at COMMIT, nothing on a
-- rollback), so a front-end waiting for the licence is told once per change instead of polling
-- GetApplication every 100 ms (a read and a read-log row, two commits a poll). A trigger rather
-- than a statement in ApplicationStore.update, so no write path (handlers, the event consumer,
-- the deemed-acceptance sweeper, a repair by hand) can forget it.
CREATE OR REPLACE FUNCTION intake_application_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('intake_application_changed', NEW.id::text);
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER applications_changed AFTER UPDATE OF revision ON applications
    FOR EACH ROW WHEN (OLD.revision IS DISTINCT FROM NEW.revision)
    EXECUTE FUNCTION intake_application_changed();
