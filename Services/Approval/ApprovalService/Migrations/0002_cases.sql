-- approval: cases. `state` is the rules' value (ApprovalRules.CaseState as JSON, no personal data); the
-- applicant is sealed apart (AES-256-GCM, ONESEAL_DATA_KEY_FILE, bound to the case id). The other
-- columns are copies of the state kept for the work lists and the warning sweeper.
CREATE TABLE IF NOT EXISTS cases (
    id                      uuid        PRIMARY KEY,
    case_number             text        NOT NULL UNIQUE,
    application_id          text        NOT NULL,
    implementation_code     text        NOT NULL,
    status                  text        NOT NULL,
    state                   jsonb       NOT NULL,
    applicant_sealed        bytea       NOT NULL,
    department_code         text        NOT NULL DEFAULT '',
    next_role               text,
    next_assignee           text,
    accepted_on             date        NOT NULL,
    due_on                  date,
    yellow_on               date,
    warning                 text        NOT NULL DEFAULT 'normal',
    revocation_review_open  boolean     NOT NULL DEFAULT false,
    revision                bigint      NOT NULL DEFAULT 1,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    -- One case per accepted item: a redelivered or repeated acceptance cannot open a second one.
    CONSTRAINT cases_one_per_item UNIQUE (application_id, implementation_code)
);
CREATE INDEX IF NOT EXISTS cases_queue ON cases (next_role, department_code, next_assignee) WHERE status IN ('in_progress', 'suspended');
CREATE INDEX IF NOT EXISTS cases_warning ON cases (yellow_on, due_on) WHERE status = 'in_progress';
CREATE INDEX IF NOT EXISTS cases_accepted ON cases (accepted_on);

-- The node's audit log, one hash chain (ApprovalRules.AuditRecord): entry_hash = SHA-256(previous_hash ‖
-- canonical bytes). Rows are only ever inserted; `oneseal audit verify` recomputes the chain.
CREATE TABLE IF NOT EXISTS audit_entries (
    sequence       bigint      PRIMARY KEY,
    case_id        text        NOT NULL,
    action         text        NOT NULL,
    actor_subject  text        NOT NULL,
    actor_role     text        NOT NULL,
    actor_node     text        NOT NULL,
    at_micros      bigint      NOT NULL,
    details_json   text        NOT NULL,
    previous_hash  bytea       NOT NULL,
    entry_hash     bytea       NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_entries_by_case ON audit_entries (case_id, sequence);

-- The chain head: the last sequence and hash. Appending locks this row (FOR UPDATE), which keeps the
-- chain linear with several replicas, and lets verification notice a deleted tail.
CREATE TABLE IF NOT EXISTS audit_head (
    id        integer PRIMARY KEY CHECK (id = 1),
    sequence  bigint  NOT NULL,
    hash      bytea   NOT NULL
);
INSERT INTO audit_head (id, sequence, hash) VALUES (1, 0, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea)
ON CONFLICT (id) DO NOTHING;

-- Numbers printed on case numbers and decision documents, per scope, taken in the printing transaction.
CREATE TABLE IF NOT EXISTS number_counters (
    scope  text   PRIMARY KEY,
    last   bigint NOT NULL
);

-- Every read of an unmasked applicant (个人信息保护法 / DESIGN §5).
CREATE TABLE IF NOT EXISTS personal_data_reads (
    seq      bigserial   PRIMARY KEY,
    at       timestamptz NOT NULL DEFAULT now(),
    subject  text        NOT NULL,
    role     text        NOT NULL,
    node     text        NOT NULL,
    case_id  uuid        NOT NULL,
    purpose  text        NOT NULL
);

-- Events approval received but could not file (unknown case, a type it does not consume): acknowledged
-- so they do not block the rest, and kept for the operator.
CREATE TABLE IF NOT EXISTS unmatched_events (
    event_id     text        PRIMARY KEY,
    type         text        NOT NULL,
    source_node  text        NOT NULL,
    reason       text        NOT NULL,
    payload      bytea       NOT NULL,
    at           timestamptz NOT NULL DEFAULT now()
);
