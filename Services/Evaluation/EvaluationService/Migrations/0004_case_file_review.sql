-- 案卷评查 (issue #20 item 10): the month's drawn sample of closed cases (once per node and month,
-- the seed and the population's digest recorded so the draw can be replayed), and one score per
-- sampled case file.
CREATE TABLE IF NOT EXISTS case_file_samples (
    node               text        NOT NULL,
    year               integer     NOT NULL,
    month              integer     NOT NULL CHECK (month BETWEEN 1 AND 12),
    -- The UInt64 seed's bit pattern.
    seed               bigint      NOT NULL,
    requested_size     integer     NOT NULL CHECK (requested_size BETWEEN 1 AND 200),
    population_count   integer     NOT NULL,
    population_digest  text        NOT NULL,
    -- The drawn case ids in draw order.
    case_ids           jsonb       NOT NULL,
    drawn_by           text        NOT NULL,
    drawn_on           date        NOT NULL,
    drawn_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (node, year, month)
);

CREATE TABLE IF NOT EXISTS case_file_scores (
    node             text        NOT NULL,
    year             integer     NOT NULL,
    month            integer     NOT NULL,
    case_id          text        NOT NULL,
    reviewer         text        NOT NULL,
    -- CaseFileReview.Score as JSON (points and findings per criterion).
    score            jsonb       NOT NULL,
    total            integer     NOT NULL CHECK (total BETWEEN 0 AND 100),
    grade            text        NOT NULL,
    idempotency_key  text        UNIQUE,
    scored_on        date        NOT NULL,
    scored_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (node, year, month, case_id),
    FOREIGN KEY (node, year, month) REFERENCES case_file_samples (node, year, month)
);
