-- A watch's view handed over by the write (#21, ApplicationWatches): the NOTIFY of a changed
-- application also names the transaction that wrote it (`<id>:<xid>`), so an intake process that
-- handed the new state to its watches knows that this very write committed — a write that rolled
-- back is never named — and the watches send it without reading the row again.
CREATE OR REPLACE FUNCTION intake_application_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('intake_application_changed', NEW.id::text || ':' || pg_current_xact_id()::text);
    RETURN NULL;
END
$$;
