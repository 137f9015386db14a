-- The one decision writer (moderation/decisions/writer.py; the function is in schema.sql).

-- name: decision_write
-- $1 ids, $2 statuses (one per id, or one for all), $3 actor, $4 action, $5 note, $6 decision reasons
-- (JSON texts), $7 reasons added to the comment (JSON texts), $8 mode, $9 notify, $10 audit action,
-- $11 audit targets, $12 bulk "before".
SELECT * FROM decision_write($1::bigint[], $2::text[], $3::text, $4::text, $5::text, $6::text[]::jsonb[], $7::text[]::jsonb[],
                             $8::text, $9::boolean, $10::text, $11::text[], $12::jsonb);
