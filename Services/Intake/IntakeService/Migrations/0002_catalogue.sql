-- intake: the item catalogue (事项清单). Every publication that changes an item is a new row; a case
-- pins (implementation_code, version), so a later change never changes a running case. The item
-- content is the rules' canonical JSON (IntakeRules.CatalogueItem), whose SHA-256 decides whether a
-- publication changed anything.
CREATE TABLE IF NOT EXISTS catalogue_items (
    implementation_code text        NOT NULL,
    version             integer     NOT NULL CHECK (version >= 1),
    basic_code          text        NOT NULL,
    name                text        NOT NULL,
    department_code     text        NOT NULL,
    item_type           text        NOT NULL,
    active              boolean     NOT NULL,
    content             jsonb       NOT NULL,
    content_hash        text        NOT NULL,
    change_note         text        NOT NULL DEFAULT '',
    changed_by          text        NOT NULL DEFAULT '',
    changed_by_role     text        NOT NULL DEFAULT '',
    created_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (implementation_code, version)
);

-- The newest version of each item, which is what ListItems shows and new applications pin.
CREATE OR REPLACE VIEW catalogue_current AS
SELECT DISTINCT ON (implementation_code) *
FROM catalogue_items
ORDER BY implementation_code, version DESC;
