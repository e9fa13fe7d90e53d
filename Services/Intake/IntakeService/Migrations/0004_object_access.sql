-- intake: who may act on which application (issue #15, docs/security.md "Per-object rules").
-- The agent's ID number gets the same keyed blind index as the applicant's, so an applicant token
-- whose subject is the agent's ID number can be matched without unsealing; the submitter of an
-- application (an integrator, or an applicant online) is kept as a keyed blind index of
-- "role:subject", so an integrator acts only on the applications it submitted. Rows written
-- before this migration have neither: only the window (and the owner by the applicant index) may
-- act on them, which fails closed.
ALTER TABLE applications ADD COLUMN IF NOT EXISTS agent_id_index bytea;
ALTER TABLE applications ADD COLUMN IF NOT EXISTS submitted_by_index bytea;
CREATE INDEX IF NOT EXISTS applications_agent ON applications (agent_id_index);
CREATE INDEX IF NOT EXISTS applications_submitter ON applications (submitted_by_index);

-- SubmitCorrection's idempotency keys: the same key and the same request answer with the
-- application as it is, without a second revision or a second visit.
CREATE TABLE IF NOT EXISTS correction_requests (
    idempotency_key  text        PRIMARY KEY,
    application_id   uuid        NOT NULL REFERENCES applications (id),
    request_digest   bytea       NOT NULL,
    at               timestamptz NOT NULL DEFAULT now()
);

-- The public progress look-up's wrong guesses per application number (a sliding hour): past the
-- limit the number answers nothing, right code or not, until the hour has passed.
CREATE TABLE IF NOT EXISTS progress_lookup_failures (
    application_number text        PRIMARY KEY,
    failures           integer     NOT NULL,
    window_started     timestamptz NOT NULL
);
