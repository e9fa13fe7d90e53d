-- evaluation: the events it consumed (append-only), the read model folded from them, ratings,
-- rectification tickets and appeals.

-- Every event delivered to evaluation, in arrival order, whatever its type (E2, E8). Personal data
-- (the applicant) is removed from the payload before it is stored; `filed` is false for a type
-- evaluation does not fold (kept, never dropped).
CREATE TABLE IF NOT EXISTS events (
    seq            bigserial   PRIMARY KEY,
    event_id       uuid        NOT NULL UNIQUE,
    type           text        NOT NULL,
    source_service text        NOT NULL,
    source_node    text        NOT NULL,
    aggregate_id   text        NOT NULL,
    occurred_at    timestamptz,
    received_at    timestamptz NOT NULL DEFAULT now(),
    payload        bytea       NOT NULL,
    filed          boolean     NOT NULL,
    note           text        NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS events_type ON events (type);

CREATE OR REPLACE FUNCTION evaluation_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'evaluation events are append-only (% refused)', TG_OP;
END $$;
DROP TRIGGER IF EXISTS events_append_only ON events;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION evaluation_events_append_only();
DROP TRIGGER IF EXISTS events_no_truncate ON events;
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION evaluation_events_append_only();

-- The read model (rebuilt from `events` on demand). `fact` is the JSON of the rules' value.
CREATE TABLE IF NOT EXISTS application_facts (
    id               text  PRIMARY KEY,
    node             text  NOT NULL,
    number           text  NOT NULL,
    applicant_index  text  NOT NULL,
    fact             jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS application_facts_node ON application_facts (node);
CREATE INDEX IF NOT EXISTS application_facts_number ON application_facts (number);

CREATE TABLE IF NOT EXISTS case_facts (
    id                  text  PRIMARY KEY,
    node                text  NOT NULL,
    application_id      text  NOT NULL,
    application_number  text  NOT NULL,
    fact                jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS case_facts_node ON case_facts (node);
CREATE INDEX IF NOT EXISTS case_facts_application ON case_facts (application_id);
CREATE INDEX IF NOT EXISTS case_facts_application_number ON case_facts (application_number);

CREATE TABLE IF NOT EXISTS consultation_facts (
    id    text  PRIMARY KEY,
    node  text  NOT NULL,
    fact  jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS consultation_facts_node ON consultation_facts (node);

CREATE TABLE IF NOT EXISTS push_facts (
    id    text  PRIMARY KEY,
    node  text  NOT NULL,
    fact  jsonb NOT NULL
);

-- Ratings. One per case (or application) per channel visit, plus one late rating (E5): the
-- unique key enforces it even under concurrent submissions.
CREATE TABLE IF NOT EXISTS ratings (
    id                  uuid        PRIMARY KEY,
    subject_key         text        NOT NULL,
    case_id             text        NOT NULL,
    case_number         text        NOT NULL,
    application_id      text        NOT NULL,
    application_number  text        NOT NULL,
    channel             text        NOT NULL,
    visit_key           text        NOT NULL,
    late                boolean     NOT NULL,
    level               smallint    NOT NULL CHECK (level BETWEEN 1 AND 5),
    indicators          jsonb       NOT NULL,
    comment             text        NOT NULL,
    tags                jsonb       NOT NULL,
    anonymous           boolean     NOT NULL,
    -- Rater's name and phone, sealed (personal data); empty for anonymous ratings.
    rater_sealed        bytea,
    rater_subject_index text        NOT NULL,
    rated_by            text        NOT NULL,
    rated_by_role       text        NOT NULL,
    node                text        NOT NULL,
    implementation_code text        NOT NULL,
    item_name           text        NOT NULL,
    window_id           text        NOT NULL,
    officer_subject     text        NOT NULL,
    officer_name        text        NOT NULL,
    department_code     text        NOT NULL,
    department_name     text        NOT NULL,
    rated_on            date        NOT NULL,
    rated_at            timestamptz NOT NULL,
    state               text        NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'removed')),
    idempotency_key     text        UNIQUE,
    UNIQUE (subject_key, channel, visit_key, late)
);
CREATE INDEX IF NOT EXISTS ratings_node_rated_on ON ratings (node, rated_on);

CREATE TABLE IF NOT EXISTS rectifications (
    id                  uuid        PRIMARY KEY,
    rating_id           uuid        NOT NULL UNIQUE REFERENCES ratings (id),
    status              text        NOT NULL,
    opened_on           date        NOT NULL,
    due_on              date        NOT NULL,
    ticket              jsonb       NOT NULL,
    revision            bigint      NOT NULL DEFAULT 1,
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS rectifications_status ON rectifications (status, due_on);

-- One appeal per rating (a dismissal is final).
CREATE TABLE IF NOT EXISTS appeals (
    id          uuid        PRIMARY KEY,
    rating_id   uuid        NOT NULL UNIQUE REFERENCES ratings (id),
    status      text        NOT NULL,
    appeal      jsonb       NOT NULL,
    evidence    jsonb       NOT NULL,
    appealed_by jsonb       NOT NULL,
    decided_by  jsonb,
    filed_at    timestamptz NOT NULL,
    decided_at  timestamptz
);

-- Who read a rater's unmasked phone number, and why (个人信息保护法).
CREATE TABLE IF NOT EXISTS personal_data_reads (
    id         bigserial   PRIMARY KEY,
    subject    text        NOT NULL,
    role       text        NOT NULL,
    node       text        NOT NULL,
    rating_id  uuid        NOT NULL,
    purpose    text        NOT NULL,
    at         timestamptz NOT NULL DEFAULT now()
);
