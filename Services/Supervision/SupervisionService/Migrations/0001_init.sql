-- supervision: per-node settings (the values RULES.md says each node may configure), key → value.
CREATE TABLE IF NOT EXISTS node_settings (
    key         text PRIMARY KEY CHECK (key ~ '^[a-z][a-z0-9_.]*$'),
    value       text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
