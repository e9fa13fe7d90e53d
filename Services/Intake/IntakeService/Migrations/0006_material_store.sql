-- intake: the material store (材料库, issue #18 item 4). Uploaded and scanned materials, named by the
-- SHA-256 of their bytes: the same bytes are stored once, whoever sends them.
--
-- The content is personal data (scans of ID cards, licences, contracts): it is kept sealed with the
-- node's data keys like the applicants' ID numbers, in parts of at most 1 MiB, each sealed under its
-- file and position (a part cannot be moved to another file or place unnoticed); a download opens
-- and sends one part at a time. No file name is kept (a name like "张三身份证.pdf" is personal data
-- too, and decides nothing).
--
-- Who may see a file is kept apart from the file: `material_uploaders` binds each upload to the
-- keyed blind index of "role:subject" of its uploader (the same index as
-- applications.submitted_by_index), and `application_materials` records which applications name
-- the file, so a download is allowed to the uploader and to whoever may read such an application.
CREATE TABLE IF NOT EXISTS material_files (
    sha256        bytea       PRIMARY KEY CHECK (octet_length(sha256) = 32),
    content_type  text        NOT NULL CHECK (content_type IN ('application/pdf', 'image/jpeg', 'image/png')),
    size_bytes    integer     NOT NULL CHECK (size_bytes BETWEEN 1 AND 20971520),
    parts         integer     NOT NULL CHECK (parts BETWEEN 1 AND 20),
    stored_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS material_parts (
    sha256  bytea   NOT NULL REFERENCES material_files (sha256),
    seq     integer NOT NULL CHECK (seq >= 0),
    sealed  bytea   NOT NULL,
    PRIMARY KEY (sha256, seq)
);

CREATE TABLE IF NOT EXISTS material_uploaders (
    sha256          bytea       NOT NULL REFERENCES material_files (sha256),
    uploader_index  bytea       NOT NULL,
    uploaded_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (sha256, uploader_index)
);

CREATE TABLE IF NOT EXISTS application_materials (
    sha256          bytea NOT NULL REFERENCES material_files (sha256),
    application_id  uuid  NOT NULL REFERENCES applications (id),
    PRIMARY KEY (sha256, application_id)
);
CREATE INDEX IF NOT EXISTS application_materials_application ON application_materials (application_id);
