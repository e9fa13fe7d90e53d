-- The figures' read model is kept in memory between calls and refreshed with what changed since
-- (ReadModelCache): each fact row carries the transaction that wrote it last, and a reader
-- fetches the rows written by transactions not yet finished at its previous read
-- (pg_snapshot_xmin), so a late commit is never skipped. A rebuild bumps the generation, which
-- makes every cache load the model again.
ALTER TABLE application_facts ADD COLUMN IF NOT EXISTS written_xact xid8 NOT NULL DEFAULT pg_current_xact_id();
ALTER TABLE case_facts ADD COLUMN IF NOT EXISTS written_xact xid8 NOT NULL DEFAULT pg_current_xact_id();
ALTER TABLE consultation_facts ADD COLUMN IF NOT EXISTS written_xact xid8 NOT NULL DEFAULT pg_current_xact_id();
ALTER TABLE push_facts ADD COLUMN IF NOT EXISTS written_xact xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX IF NOT EXISTS application_facts_written ON application_facts (written_xact);
CREATE INDEX IF NOT EXISTS case_facts_written ON case_facts (written_xact);
CREATE INDEX IF NOT EXISTS consultation_facts_written ON consultation_facts (written_xact);
CREATE INDEX IF NOT EXISTS push_facts_written ON push_facts (written_xact);
CREATE INDEX IF NOT EXISTS push_facts_node ON push_facts (node);

CREATE TABLE IF NOT EXISTS read_model_generation (
    id          integer PRIMARY KEY CHECK (id = 1),
    generation  bigint  NOT NULL
);
INSERT INTO read_model_generation (id, generation) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;
