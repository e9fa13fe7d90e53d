-- Supervision's settings cache (#21, decision 74, SupervisionSettings.swift): every change to the
-- policy (node_settings), a department, or the boundary list NOTIFYs `supervision_settings_changed`
-- inside the changing transaction (delivered at COMMIT, nothing on a rollback), so each supervision
-- process drops what it kept: `policy`, `department:<code>`, or '' (everything) for the boundary
-- list, whose entries govern items by code and by basic code, and for a TRUNCATE. Triggers rather
-- than statements in the handlers, so a change by hand (an operator's UPDATE) is heard too.
CREATE OR REPLACE FUNCTION supervision_settings_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' OR TG_TABLE_NAME <> 'departments' THEN
        PERFORM pg_notify('supervision_settings_changed', CASE WHEN TG_OP <> 'TRUNCATE' AND TG_TABLE_NAME = 'node_settings' THEN 'policy' ELSE '' END);
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('supervision_settings_changed', 'department:' || OLD.code);
    ELSE
        PERFORM pg_notify('supervision_settings_changed', 'department:' || NEW.code);
        IF TG_OP = 'UPDATE' AND OLD.code IS DISTINCT FROM NEW.code THEN
            PERFORM pg_notify('supervision_settings_changed', 'department:' || OLD.code);
        END IF;
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER node_settings_changed AFTER INSERT OR UPDATE OR DELETE ON node_settings
    FOR EACH STATEMENT EXECUTE FUNCTION supervision_settings_changed();
CREATE OR REPLACE TRIGGER departments_changed AFTER INSERT OR UPDATE OR DELETE ON departments
    FOR EACH ROW EXECUTE FUNCTION supervision_settings_changed();
CREATE OR REPLACE TRIGGER boundary_entries_changed AFTER INSERT OR UPDATE OR DELETE ON boundary_entries
    FOR EACH STATEMENT EXECUTE FUNCTION supervision_settings_changed();
CREATE OR REPLACE TRIGGER boundary_departments_changed AFTER INSERT OR UPDATE OR DELETE ON boundary_departments
    FOR EACH STATEMENT EXECUTE FUNCTION supervision_settings_changed();
CREATE OR REPLACE TRIGGER node_settings_truncated AFTER TRUNCATE ON node_settings
    FOR EACH STATEMENT EXECUTE FUNCTION supervision_settings_changed();
CREATE OR REPLACE TRIGGER departments_truncated AFTER TRUNCATE ON departments
    FOR EACH STATEMENT EXECUTE FUNCTION supervision_settings_changed();
CREATE OR REPLACE TRIGGER boundary_entries_truncated AFTER TRUNCATE ON boundary_entries
    FOR EACH STATEMENT EXECUTE FUNCTION supervision_settings_changed();
CREATE OR REPLACE TRIGGER boundary_departments_truncated AFTER TRUNCATE ON boundary_departments
    FOR EACH STATEMENT EXECUTE FUNCTION supervision_settings_changed();
