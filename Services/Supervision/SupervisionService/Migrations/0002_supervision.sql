-- supervision: departments, the boundary list (审管边界清单), pushes and their claims, findings, and every
-- event consumed (so nothing another service reported is dropped unseen).

-- Supervising departments (行业主管部门) this node pushes to. Never deleted: deactivated, so old pushes
-- and figures keep their department.
CREATE TABLE IF NOT EXISTS departments (
    code             text        PRIMARY KEY,
    name             text        NOT NULL,
    level            text        NOT NULL,
    node             text        NOT NULL,
    contact_name     text        NOT NULL DEFAULT '',
    contact_phone    text        NOT NULL DEFAULT '',
    delivery         text        NOT NULL CHECK (delivery IN ('pull', 'endpoint')),
    endpoint         text        NOT NULL DEFAULT '',
    active           boolean     NOT NULL DEFAULT true,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    updated_by       text        NOT NULL,
    updated_by_role  text        NOT NULL
);

-- One entry per item: key "impl:<implementation code>" or "basic:<basic code>" (every implementation).
CREATE TABLE IF NOT EXISTS boundary_entries (
    key                  text        PRIMARY KEY,
    implementation_code  text        NOT NULL DEFAULT '',
    basic_code           text        NOT NULL DEFAULT '',
    item_name            text        NOT NULL DEFAULT '',
    version              integer     NOT NULL DEFAULT 1,
    updated_at           timestamptz NOT NULL DEFAULT now(),
    updated_by           text        NOT NULL,
    updated_by_role      text        NOT NULL
);
CREATE TABLE IF NOT EXISTS boundary_departments (
    entry_key        text    NOT NULL REFERENCES boundary_entries (key) ON DELETE CASCADE,
    department_code  text    NOT NULL REFERENCES departments (code),
    position         integer NOT NULL,
    responsibility   text    NOT NULL,
    PRIMARY KEY (entry_key, department_code)
);
CREATE INDEX IF NOT EXISTS boundary_departments_by_department ON boundary_departments (department_code);

-- One push to one department. `dedupe_key` names the pushed fact ("grant:<case>", "revocation:<case>",
-- "licence:<identifier>:<version>", "reroute:<push>"): unique with the department, so a redelivered
-- event, or two services reporting the same revocation, never make a second push.
-- `state` is the rules' life cycle (SupervisionRules.PushState, JSON); `record` the wire form
-- (supervision.v1.Push, protobuf, holder's ID number already masked — the full number is never stored).
CREATE TABLE IF NOT EXISTS pushes (
    id                   uuid        PRIMARY KEY,
    dedupe_key           text        NOT NULL,
    department_code      text        NOT NULL REFERENCES departments (code),
    kind                 text        NOT NULL,
    status               text        NOT NULL,
    case_id              text        NOT NULL,
    implementation_code  text        NOT NULL,
    source_node          text        NOT NULL,
    licence_identifier   text        NOT NULL DEFAULT '',
    licence_number       text        NOT NULL DEFAULT '',
    delivery             text        NOT NULL,
    state                jsonb       NOT NULL,
    record               bytea       NOT NULL,
    source_at            timestamptz NOT NULL,
    pushed_at            timestamptz NOT NULL,
    pushed_on            date        NOT NULL,
    claim_due            date        NOT NULL,
    claimed_at           timestamptz,
    rejected_at          timestamptz,
    overdue_reported_at  timestamptz,
    delivered_at         timestamptz,
    delivery_attempts    integer     NOT NULL DEFAULT 0,
    next_delivery_at     timestamptz,
    last_delivery_error  text        NOT NULL DEFAULT '',
    rerouted_from        uuid        REFERENCES pushes (id),
    revision             bigint      NOT NULL DEFAULT 1,
    UNIQUE (dedupe_key, department_code)
);
CREATE INDEX IF NOT EXISTS pushes_inbox ON pushes (department_code, pushed_at DESC, id);
CREATE INDEX IF NOT EXISTS pushes_case ON pushes (case_id);
CREATE INDEX IF NOT EXISTS pushes_licence ON pushes (licence_identifier) WHERE licence_identifier <> '';
CREATE INDEX IF NOT EXISTS pushes_licence_number ON pushes (licence_number) WHERE licence_number <> '';
-- The claim-overdue sweeper and the endpoint delivery worker.
CREATE INDEX IF NOT EXISTS pushes_unclaimed ON pushes (claim_due) WHERE status = 'pending' AND overdue_reported_at IS NULL;
CREATE INDEX IF NOT EXISTS pushes_undelivered ON pushes (next_delivery_at) WHERE delivery = 'endpoint' AND delivered_at IS NULL;

-- Findings (监管结果反馈). `record` is supervision.v1.Finding (protobuf).
CREATE TABLE IF NOT EXISTS findings (
    id                  uuid        PRIMARY KEY,
    seq                 bigserial   NOT NULL,
    department_code     text        NOT NULL REFERENCES departments (code),
    kind                text        NOT NULL,
    effect              text        NOT NULL,
    push_id             uuid        REFERENCES pushes (id),
    case_id             text        NOT NULL,
    record              bytea       NOT NULL,
    submitted_at        timestamptz NOT NULL,
    submitted_on        date        NOT NULL,
    idempotency_key     text        NOT NULL DEFAULT '',
    request_digest      bytea       NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS findings_idempotency ON findings (department_code, idempotency_key) WHERE idempotency_key <> '';
CREATE INDEX IF NOT EXISTS findings_case ON findings (case_id, submitted_at);
CREATE INDEX IF NOT EXISTS findings_department ON findings (department_code, submitted_on);

-- Every event consumed and what became of it: pushed (n pushes), no_boundary (the item has no entry:
-- listed by ListBoundary as an item without boundary), not_pushed (a denial, an expiry …),
-- unknown_type and unfileable (a payload that does not decode, an event naming no case or item: kept
-- with its payload for the operator, acknowledged so it does not block the queue).
CREATE TABLE IF NOT EXISTS source_events (
    event_id             text        PRIMARY KEY,
    type                 text        NOT NULL,
    source_node          text        NOT NULL,
    case_id              text        NOT NULL DEFAULT '',
    implementation_code  text        NOT NULL DEFAULT '',
    outcome              text        NOT NULL,
    pushes               integer     NOT NULL DEFAULT 0,
    note                 text        NOT NULL DEFAULT '',
    payload              bytea,
    at                   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS source_events_no_boundary ON source_events (implementation_code) WHERE outcome = 'no_boundary';
