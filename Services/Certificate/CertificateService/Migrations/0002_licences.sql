-- certificate: licences, the transparency log, the trust list (issue #5).

-- Gap-free counters (serials, licence numbers), taken in the issuing transaction.
CREATE TABLE IF NOT EXISTS counters (
    scope  text PRIMARY KEY,
    last   bigint NOT NULL
);

CREATE TABLE IF NOT EXISTS licences (
    id                 uuid PRIMARY KEY,
    case_id            text NOT NULL,
    identifier         text NOT NULL UNIQUE,
    licence_number     text NOT NULL,
    serial             text NOT NULL,
    version            integer NOT NULL CHECK (version BETWEEN 1 AND 999),
    licence_type_code  text NOT NULL,
    -- Keyed blind index of the holder's code (look-up without storing it in the clear).
    holder_index       bytea NOT NULL,
    -- The canonical LicenceContent bytes (what the seal signs), sealed with the data key.
    content_sealed     bytea NOT NULL,
    -- The same content with the holder's code masked, for lists and public answers.
    public_content     bytea NOT NULL,
    algorithm          text NOT NULL,
    key_id             text NOT NULL,
    signature          bytea NOT NULL,
    signer             text NOT NULL,
    signed_at          timestamptz NOT NULL,
    issued_on          date NOT NULL,
    valid_from         date NOT NULL,
    valid_until        date,
    -- What ended it (撤销 / 注销 / 换发), from which day, why.
    act                text CHECK (act IN ('revoked', 'cancelled', 'superseded')),
    act_effective_on   date,
    status_reason      text NOT NULL DEFAULT '',
    ground_code        text NOT NULL DEFAULT '',
    superseded_by      text,
    -- Expiry was logged and announced (the sweeper sets it once the end date has passed).
    expiry_announced   boolean NOT NULL DEFAULT false,
    application_id     text NOT NULL DEFAULT '',
    accepting_node     text NOT NULL DEFAULT '',
    decided_on         date,
    request_digest     bytea NOT NULL,
    log_index          bigint,
    log_integrate_by   timestamptz NOT NULL,
    issued_at          timestamptz NOT NULL,
    UNIQUE (serial, version)
);
-- Each grant becomes exactly one licence: one first version per case.
CREATE UNIQUE INDEX IF NOT EXISTS licences_one_per_case ON licences (case_id) WHERE version = 1;
CREATE INDEX IF NOT EXISTS licences_holder ON licences (holder_index);
CREATE INDEX IF NOT EXISTS licences_number ON licences (licence_number);
CREATE INDEX IF NOT EXISTS licences_expiring ON licences (valid_until) WHERE NOT expiry_announced AND act IS NULL;

-- Every read of a holder's code in full (个人信息保护法).
CREATE TABLE IF NOT EXISTS personal_data_reads (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    subject     text NOT NULL,
    role        text NOT NULL,
    node        text NOT NULL,
    licence_id  uuid NOT NULL,
    purpose     text NOT NULL
);

-- Transparency log (RFC 9162 hashing). Entries wait in log_pending (written in the issuing
-- transaction; ids may have gaps) until the integrator appends them in id order as leaves.
CREATE TABLE IF NOT EXISTS log_pending (
    id          bigserial PRIMARY KEY,
    licence_id  uuid NOT NULL,
    identifier  text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('issued', 'status_changed')),
    entry       bytea NOT NULL,
    queued_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS log_leaves (
    leaf_index     bigint PRIMARY KEY CHECK (leaf_index >= 0),
    leaf_hash      bytea NOT NULL,
    entry          bytea NOT NULL,
    licence_id     uuid NOT NULL,
    identifier     text NOT NULL,
    kind           text NOT NULL,
    integrated_at  timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS log_leaves_hash ON log_leaves (leaf_hash);
CREATE INDEX IF NOT EXISTS log_leaves_identifier ON log_leaves (identifier, kind);

-- Perfect subtrees: level 0 = leaf hashes, level L node i covers leaves [i·2^L, (i+1)·2^L).
CREATE TABLE IF NOT EXISTS log_nodes (
    level  integer NOT NULL,
    idx    bigint NOT NULL,
    hash   bytea NOT NULL,
    PRIMARY KEY (level, idx)
);

CREATE TABLE IF NOT EXISTS tree_heads (
    tree_size     bigint PRIMARY KEY,
    root_hash     bytea NOT NULL,
    timestamp_ms  bigint NOT NULL,
    algorithm     text NOT NULL,
    key_id        text NOT NULL,
    signature     bytea NOT NULL
);

-- Keys whose seals this node accepts: its own (current and retired) and its peers' (互认).
CREATE TABLE IF NOT EXISTS trusted_issuers (
    issuer_code     text NOT NULL,
    key_id          text NOT NULL,
    issuer_name     text NOT NULL,
    node            text NOT NULL,
    endpoint        text NOT NULL DEFAULT '',
    algorithm       text NOT NULL,
    public_key      bytea NOT NULL,
    valid_from      timestamptz NOT NULL,
    valid_until     timestamptz,
    own             boolean NOT NULL,
    added_by        text NOT NULL,
    added_at        timestamptz NOT NULL DEFAULT now(),
    removed_at      timestamptz,
    removed_reason  text,
    PRIMARY KEY (issuer_code, key_id)
);

-- Events this service received but could not apply (kept for the operator, never dropped).
CREATE TABLE IF NOT EXISTS unmatched_events (
    event_id     text PRIMARY KEY,
    type         text NOT NULL,
    source_node  text NOT NULL,
    reason       text NOT NULL,
    payload      bytea NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now()
);
