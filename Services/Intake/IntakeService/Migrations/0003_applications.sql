-- intake: applications. The intake decision's state is the rules' value (IntakeRules.ApplicationState,
-- JSON, no personal data); `record` is the application as the wire shows it (intake.v1.Application,
-- protobuf bytes, without applicant and agent); the applicant and agent are sealed (AES-256-GCM, key
-- from ONESEAL_DATA_KEY_FILE, bound to the application id) with a keyed blind index of the ID number.
CREATE TABLE IF NOT EXISTS applications (
    id                    uuid        PRIMARY KEY,
    application_number    text        NOT NULL UNIQUE,
    query_code            text        NOT NULL,
    channel               text        NOT NULL,
    window_id             text        NOT NULL DEFAULT '',
    status                text        NOT NULL,
    outcome               text,
    state                 jsonb       NOT NULL,
    record                bytea       NOT NULL,
    applicant_sealed      bytea       NOT NULL,
    applicant_id_index    bytea       NOT NULL,
    applicant_kind        text        NOT NULL,
    idempotency_key       text        NOT NULL UNIQUE,
    request_digest        bytea       NOT NULL,
    bundle_id             uuid,
    submitted_at          timestamptz NOT NULL,
    submitted_on          date        NOT NULL,
    intake_deadline       date        NOT NULL,
    revision              bigint      NOT NULL DEFAULT 1,
    updated_at            timestamptz NOT NULL DEFAULT now()
);
-- The deemed-acceptance sweeper and the clerk's "decide before" list.
CREATE INDEX IF NOT EXISTS applications_waiting ON applications (intake_deadline) WHERE status = 'submitted';
CREATE INDEX IF NOT EXISTS applications_status ON applications (status, submitted_on);
CREATE INDEX IF NOT EXISTS applications_applicant ON applications (applicant_id_index);

-- Items of an application that are being approved, by case id (approval events name the case).
CREATE TABLE IF NOT EXISTS application_cases (
    case_id             text PRIMARY KEY,
    application_id      uuid NOT NULL REFERENCES applications (id),
    implementation_code text NOT NULL
);

-- Plain-language progress for the public look-up (办理进度), oldest first.
CREATE TABLE IF NOT EXISTS application_steps (
    seq             bigserial   PRIMARY KEY,
    application_id  uuid        NOT NULL REFERENCES applications (id),
    at              timestamptz NOT NULL,
    description     text        NOT NULL,
    node            text        NOT NULL
);
CREATE INDEX IF NOT EXISTS application_steps_by_application ON application_steps (application_id, seq);

-- Numbers printed on documents: one counter per scope ("application:371302:2026-11-23",
-- "document:受:2026"), taken inside the transaction that prints it, so numbers have no gaps from
-- rolled-back work and never repeat.
CREATE TABLE IF NOT EXISTS number_counters (
    scope  text   PRIMARY KEY,
    last   bigint NOT NULL
);

-- 咨询: consultations, per item and window, for the efficiency figures. The asker's phone is sealed.
CREATE TABLE IF NOT EXISTS consultations (
    id                  uuid        PRIMARY KEY,
    implementation_code text        NOT NULL DEFAULT '',
    question            text        NOT NULL,
    answer              text        NOT NULL DEFAULT '',
    channel             text        NOT NULL,
    window_id           text        NOT NULL DEFAULT '',
    asker_sealed        bytea,
    clerk               text        NOT NULL,
    at                  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS consultations_by_item ON consultations (implementation_code, at);

-- Every read of unmasked personal data (个人信息保护法 / DESIGN §5): who, in which role, of what, why.
CREATE TABLE IF NOT EXISTS personal_data_reads (
    seq             bigserial   PRIMARY KEY,
    at              timestamptz NOT NULL DEFAULT now(),
    subject         text        NOT NULL,
    role            text        NOT NULL,
    node            text        NOT NULL,
    application_id  uuid        NOT NULL,
    purpose         text        NOT NULL
);

-- Events intake received but could not file (unknown application or item, a type it does not
-- consume): acknowledged so they do not block the rest, and kept here for the operator.
CREATE TABLE IF NOT EXISTS unmatched_events (
    event_id    text        PRIMARY KEY,
    type        text        NOT NULL,
    source_node text        NOT NULL,
    reason      text        NOT NULL,
    payload     bytea       NOT NULL,
    at          timestamptz NOT NULL DEFAULT now()
);
