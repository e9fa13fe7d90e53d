-- 追评 (decision E14): a slot (case or application × channel × visit) holds its first rating and
-- one later rating added once the case is complete. Both may have been made after completion, so
-- "late" no longer tells them apart and UNIQUE (…, late) refused the 追评 of an applicant who first
-- rated after the decision. The key is now the rating's place in its slot: 1 the first, 2 the 追评.
ALTER TABLE ratings ADD COLUMN IF NOT EXISTS slot_position smallint;
UPDATE ratings r SET slot_position = n.position
  FROM (SELECT id, row_number() OVER (PARTITION BY subject_key, channel, visit_key ORDER BY rated_at, id) AS position FROM ratings) n
 WHERE r.id = n.id AND r.slot_position IS NULL;
ALTER TABLE ratings ALTER COLUMN slot_position SET NOT NULL;
ALTER TABLE ratings DROP CONSTRAINT IF EXISTS ratings_slot_position_range;
ALTER TABLE ratings ADD CONSTRAINT ratings_slot_position_range CHECK (slot_position IN (1, 2));
ALTER TABLE ratings DROP CONSTRAINT IF EXISTS ratings_subject_key_channel_visit_key_late_key;
ALTER TABLE ratings DROP CONSTRAINT IF EXISTS ratings_slot;
ALTER TABLE ratings ADD CONSTRAINT ratings_slot UNIQUE (subject_key, channel, visit_key, slot_position);
