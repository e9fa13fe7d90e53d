-- intake: one state per application (issue #16). Until now an application was kept twice: the
-- rules' state (`state`, JSON) and the wire record (`record`, intake.v1.Application protobuf bytes),
-- and what only the record held (item progress, the documents issued, forwarding, delivery, the
-- deciding clerk, visits) was changed on the protobuf by service code. From here the state holds
-- all of it (IntakeRules.ApplicationState) and the wire record is rendered from it on every read.
--
-- This migration moves what only `record` held into `state` and drops `record`. The bytes are
-- read by a small protobuf reader written for this migration (functions in pg_temp, dropped at the
-- end): field numbers as in proto/oneseal/intake/v1/application.proto and common/v1/common.proto,
-- JSON keys as the Swift types in Services/Intake/IntakeRules/ApplicationRecord.swift encode them.
-- It runs in the migration's transaction: all rows are converted, or none.

-- Every field of one message: number, wire type, the varint value or the length-delimited bytes.
CREATE FUNCTION pg_temp.pb_fields(message bytea)
RETURNS TABLE (seq int, field int, wire int, number bigint, bytes bytea)
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    cursor int := 0;
    total int := coalesce(length(message), 0);
    key bigint;
    value bigint;
    shift int;
    b int;
    size int;
BEGIN
    seq := 0;
    WHILE cursor < total LOOP
        key := 0; shift := 0;
        LOOP
            b := get_byte(message, cursor); cursor := cursor + 1;
            key := key | ((b & 127)::bigint << shift); shift := shift + 7;
            EXIT WHEN b < 128;
        END LOOP;
        field := (key >> 3)::int;
        wire := (key & 7)::int;
        number := NULL; bytes := NULL;
        IF wire = 0 THEN
            value := 0; shift := 0;
            LOOP
                b := get_byte(message, cursor); cursor := cursor + 1;
                IF shift < 63 THEN value := value | ((b & 127)::bigint << shift); END IF;
                shift := shift + 7;
                EXIT WHEN b < 128;
            END LOOP;
            number := value;
        ELSIF wire = 2 THEN
            size := 0; shift := 0;
            LOOP
                b := get_byte(message, cursor); cursor := cursor + 1;
                size := size | ((b & 127) << shift); shift := shift + 7;
                EXIT WHEN b < 128;
            END LOOP;
            bytes := substring(message FROM cursor + 1 FOR size);
            cursor := cursor + size;
        ELSIF wire = 1 THEN
            cursor := cursor + 8;
        ELSIF wire = 5 THEN
            cursor := cursor + 4;
        ELSE
            RAISE EXCEPTION 'intake 0005: unsupported protobuf wire type % at byte %', wire, cursor;
        END IF;
        seq := seq + 1;
        RETURN NEXT;
    END LOOP;
END $$;

-- Singular fields: the last occurrence wins (protobuf's rule); absent = the proto3 default.
CREATE FUNCTION pg_temp.pb_text(message bytea, wanted int) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce((SELECT convert_from(bytes, 'UTF8') FROM pg_temp.pb_fields(message) WHERE field = wanted ORDER BY seq DESC LIMIT 1), '')
$$;
CREATE FUNCTION pg_temp.pb_number(message bytea, wanted int) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce((SELECT number FROM pg_temp.pb_fields(message) WHERE field = wanted ORDER BY seq DESC LIMIT 1), 0)
$$;
-- A sub-message, NULL when absent (proto3 `has`).
CREATE FUNCTION pg_temp.pb_message(message bytea, wanted int) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    SELECT bytes FROM pg_temp.pb_fields(message) WHERE field = wanted ORDER BY seq DESC LIMIT 1
$$;

-- oneseal.common.v1.CivilDate → "YYYY-MM-DD" (CivilDate's Codable form); NULL when absent or unset.
CREATE FUNCTION pg_temp.civil_date(message bytea) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN message IS NULL OR pg_temp.pb_number(message, 1) = 0 THEN NULL
        ELSE to_jsonb(lpad(pg_temp.pb_number(message, 1)::text, 4, '0') || '-' || lpad(pg_temp.pb_number(message, 2)::text, 2, '0')
                      || '-' || lpad(pg_temp.pb_number(message, 3)::text, 2, '0')) END
$$;
-- google.protobuf.Timestamp → seconds since 2001-01-01 (Foundation.Date's default Codable form).
CREATE FUNCTION pg_temp.instant(message bytea) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN message IS NULL THEN NULL
        ELSE to_jsonb(pg_temp.pb_number(message, 1)::double precision + pg_temp.pb_number(message, 2)::double precision / 1e9 - 978307200) END
$$;
-- oneseal.common.v1.NodeRef → IntakeRules.NodeRef.
CREATE FUNCTION pg_temp.node_ref(message bytea) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN message IS NULL THEN NULL ELSE jsonb_build_object(
        'division_code', pg_temp.pb_text(message, 1),
        'name', pg_temp.pb_text(message, 2),
        'level', (ARRAY['province', 'city', 'county', 'township'])[nullif(pg_temp.pb_number(message, 3), 0)]) END
$$;
-- oneseal.common.v1.LicenceRef → IntakeRules.LicenceRef.
CREATE FUNCTION pg_temp.licence_ref(message bytea) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN message IS NULL THEN NULL ELSE jsonb_build_object(
        'licence_identifier', pg_temp.pb_text(message, 1), 'licence_number', pg_temp.pb_text(message, 2),
        'licence_type_code', pg_temp.pb_text(message, 3), 'licence_name', pg_temp.pb_text(message, 4)) END
$$;
-- oneseal.common.v1.ActorRef → IntakeRules.ActorRef.
CREATE FUNCTION pg_temp.actor_ref(message bytea) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN message IS NULL THEN NULL ELSE jsonb_build_object(
        'subject', pg_temp.pb_text(message, 1), 'name', pg_temp.pb_text(message, 2), 'role', pg_temp.pb_text(message, 3),
        'department', (SELECT jsonb_build_object('code', pg_temp.pb_text(d, 1), 'name', pg_temp.pb_text(d, 2), 'node', pg_temp.pb_text(d, 3))
                       FROM (SELECT pg_temp.pb_message(message, 4) AS d) AS department WHERE d IS NOT NULL),
        'node', pg_temp.pb_text(message, 5)) END
$$;
-- oneseal.common.v1.Deadline → IntakeRules.ReportedDeadline.
CREATE FUNCTION pg_temp.deadline(message bytea) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN message IS NULL THEN NULL ELSE jsonb_build_object(
        'startedOn', pg_temp.civil_date(pg_temp.pb_message(message, 1)),
        'dueOn', pg_temp.civil_date(pg_temp.pb_message(message, 2)),
        'workingDaysTotal', pg_temp.pb_number(message, 3),
        'workingDaysUsed', pg_temp.pb_number(message, 4),
        'workingDaysLeft', pg_temp.pb_number(message, 5),
        'overdue', pg_temp.pb_number(message, 6) <> 0,
        'overdueWorkingDays', pg_temp.pb_number(message, 7),
        'suspended', pg_temp.pb_number(message, 8) <> 0,
        'extensionWorkingDays', pg_temp.pb_number(message, 9),
        'warning', (ARRAY['normal', 'yellow', 'red'])[nullif(pg_temp.pb_number(message, 10), 0)],
        'finishedOn', pg_temp.civil_date(pg_temp.pb_message(message, 11))) END
$$;
-- oneseal.common.v1.IssuedDocument → IntakeRules.IssuedDocument (content as base64, Data's Codable form).
CREATE FUNCTION pg_temp.document(message bytea) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN message IS NULL THEN NULL ELSE jsonb_build_object(
        'documentID', pg_temp.pb_text(message, 1), 'number', pg_temp.pb_text(message, 2), 'title', pg_temp.pb_text(message, 3),
        'issuedOn', pg_temp.civil_date(pg_temp.pb_message(message, 4)), 'issuingAgency', pg_temp.pb_text(message, 5),
        'content', translate(encode(coalesce(pg_temp.pb_message(message, 6), ''::bytea), 'base64'), E'\n', ''),
        'contentType', pg_temp.pb_text(message, 7)) END
$$;
-- oneseal.common.v1.Applicant (as kept: already masked) → IntakeRules.Applicant.
CREATE FUNCTION pg_temp.applicant(message bytea) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN message IS NULL THEN NULL ELSE jsonb_build_object(
        'kind', (ARRAY['natural_person', 'legal_person'])[nullif(pg_temp.pb_number(message, 1), 0)],
        'name', pg_temp.pb_text(message, 2),
        'idType', CASE pg_temp.pb_number(message, 3) WHEN 1 THEN 'resident_id' WHEN 2 THEN 'uscc' WHEN 3 THEN 'passport'
                      WHEN 4 THEN 'hk_macao_permit' WHEN 5 THEN 'taiwan_permit' WHEN 6 THEN 'foreign_permanent_resident'
                      WHEN 99 THEN 'other' END,
        'idNumber', pg_temp.pb_text(message, 4), 'phone', pg_temp.pb_text(message, 5), 'address', pg_temp.pb_text(message, 6),
        'legalRepresentative', pg_temp.pb_text(message, 7), 'contactName', pg_temp.pb_text(message, 8),
        'contactPhone', pg_temp.pb_text(message, 9), 'email', pg_temp.pb_text(message, 10)) END
$$;
-- intake.v1.ApplicationItem → IntakeRules.ItemTrack.
CREATE FUNCTION pg_temp.item_track(message bytea) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object(
        'implementationCode', pg_temp.pb_text(message, 1),
        'progress', coalesce((ARRAY['pending_intake', 'in_approval', 'suspended', 'granted', 'denied', 'licence_issued', 'delivered',
                                    'withdrawn', 'not_accepted', 'revoked', 'cancelled'])[nullif(pg_temp.pb_number(message, 4), 0)], 'pending_intake'),
        'caseID', pg_temp.pb_text(message, 5),
        'caseNumber', pg_temp.pb_text(message, 6),
        'implementingNode', coalesce(pg_temp.node_ref(pg_temp.pb_message(message, 7)), jsonb_build_object('division_code', '', 'name', '')),
        'deadline', pg_temp.deadline(pg_temp.pb_message(message, 8)),
        'licence', pg_temp.licence_ref(pg_temp.pb_message(message, 9)),
        'denialSummary', pg_temp.pb_text(message, 10),
        'notices', coalesce((SELECT jsonb_agg(pg_temp.document(bytes) ORDER BY seq) FROM pg_temp.pb_fields(message) WHERE field = 11), '[]'::jsonb))
$$;
-- intake.v1.Delivery → IntakeRules.Delivery.
CREATE FUNCTION pg_temp.delivery(message bytea) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN message IS NULL THEN NULL ELSE jsonb_build_object(
        'method', (ARRAY['window', 'mail', 'electronic'])[nullif(pg_temp.pb_number(message, 1), 0)],
        'deliveredAt', coalesce(pg_temp.instant(pg_temp.pb_message(message, 2)), to_jsonb(-978307200)),
        'recipient', pg_temp.applicant(pg_temp.pb_message(message, 3)),
        'trackingNumber', pg_temp.pb_text(message, 4),
        'licences', coalesce((SELECT jsonb_agg(pg_temp.licence_ref(bytes) ORDER BY seq) FROM pg_temp.pb_fields(message) WHERE field = 5), '[]'::jsonb),
        'documentIDs', coalesce((SELECT jsonb_agg(convert_from(bytes, 'UTF8') ORDER BY seq) FROM pg_temp.pb_fields(message) WHERE field = 6), '[]'::jsonb),
        'clerk', coalesce(pg_temp.actor_ref(pg_temp.pb_message(message, 7)), jsonb_build_object('subject', '', 'name', '', 'role', '', 'node', ''))) END
$$;
-- intake.v1.Forwarding → IntakeRules.Forwarding.
CREATE FUNCTION pg_temp.forwarding(message bytea) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN message IS NULL THEN NULL ELSE jsonb_build_object(
        'toNode', coalesce(pg_temp.node_ref(pg_temp.pb_message(message, 1)), jsonb_build_object('division_code', '', 'name', '')),
        'forwardedAt', coalesce(pg_temp.instant(pg_temp.pb_message(message, 2)), to_jsonb(-978307200)),
        'firstReviewOpinion', pg_temp.pb_text(message, 3),
        'forwardedBy', coalesce(pg_temp.actor_ref(pg_temp.pb_message(message, 4)), jsonb_build_object('subject', '', 'name', '', 'role', '', 'node', '')),
        'firstReviewDeadline', pg_temp.deadline(pg_temp.pb_message(message, 5))) END
$$;

-- The state gains what only the record held (intake.v1.Application field numbers in comments).
UPDATE applications SET state = jsonb_strip_nulls(state || jsonb_build_object(
    'acceptingNode', pg_temp.node_ref(pg_temp.pb_message(record, 4)),                                  -- accepting_node
    'itemTracks', coalesce((SELECT jsonb_agg(pg_temp.item_track(bytes) ORDER BY seq)
                            FROM pg_temp.pb_fields(record) WHERE field = 7), '[]'::jsonb),             -- items
    'receipt', (SELECT jsonb_build_object('promisedOn', pg_temp.civil_date(pg_temp.pb_message(r, 3)),
                                          'document', pg_temp.document(pg_temp.pb_message(r, 4)))
                FROM (SELECT pg_temp.pb_message(record, 16) AS r) AS receipt WHERE r IS NOT NULL),     -- receipt
    'notAcceptedDocument', pg_temp.document(pg_temp.pb_message(pg_temp.pb_message(record, 18), 6)),   -- not_accepted.document
    'forwarding', pg_temp.forwarding(pg_temp.pb_message(record, 21)),                                 -- forwarding
    'delivery', pg_temp.delivery(pg_temp.pb_message(record, 22)),                                     -- delivery
    'decidedBy', pg_temp.actor_ref(pg_temp.pb_message(record, 23)),                                   -- decided_by
    'decidedAt', pg_temp.instant(pg_temp.pb_message(record, 24)),                                     -- decided_at
    'visits', pg_temp.pb_number(record, 25)                                                           -- visits
));

-- The correction notice's document (correction_notices, the last one: Art. 32 allows one).
UPDATE applications SET state = jsonb_set(state, '{correctionNotice,document}', pg_temp.document(notice.document))
FROM (SELECT id AS notice_id,
             (SELECT pg_temp.pb_message(bytes, 5) FROM pg_temp.pb_fields(record) WHERE field = 17 ORDER BY seq DESC LIMIT 1) AS document
      FROM applications) AS notice
WHERE applications.id = notice.notice_id AND notice.document IS NOT NULL AND jsonb_typeof(state -> 'correctionNotice') = 'object';

-- 告知承诺: the verification date (commitment.verify_by).
UPDATE applications SET state = jsonb_set(state, '{commitment,verifyBy}', pg_temp.civil_date(pg_temp.pb_message(pg_temp.pb_message(record, 20), 4)))
WHERE jsonb_typeof(state -> 'commitment') = 'object' AND pg_temp.pb_message(pg_temp.pb_message(record, 20), 4) IS NOT NULL;

-- The record's updated_at was the service clock at the last change; the column now keeps it.
UPDATE applications SET updated_at = to_timestamp(pg_temp.pb_number(pg_temp.pb_message(record, 27), 1)
                                                  + pg_temp.pb_number(pg_temp.pb_message(record, 27), 2)::double precision / 1e9)
WHERE pg_temp.pb_message(record, 27) IS NOT NULL;

ALTER TABLE applications DROP COLUMN record;

DROP FUNCTION pg_temp.forwarding(bytea);
DROP FUNCTION pg_temp.delivery(bytea);
DROP FUNCTION pg_temp.item_track(bytea);
DROP FUNCTION pg_temp.applicant(bytea);
DROP FUNCTION pg_temp.document(bytea);
DROP FUNCTION pg_temp.deadline(bytea);
DROP FUNCTION pg_temp.actor_ref(bytea);
DROP FUNCTION pg_temp.licence_ref(bytea);
DROP FUNCTION pg_temp.node_ref(bytea);
DROP FUNCTION pg_temp.instant(bytea);
DROP FUNCTION pg_temp.civil_date(bytea);
DROP FUNCTION pg_temp.pb_message(bytea, int);
DROP FUNCTION pg_temp.pb_number(bytea, int);
DROP FUNCTION pg_temp.pb_text(bytea, int);
DROP FUNCTION pg_temp.pb_fields(bytea);
