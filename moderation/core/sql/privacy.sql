-- A commenter's data (moderation/privacy/commenter.py): everything held about one author id, and its erasure.
-- $1 is always the author id; the reader id of the same person is 'cms:' || $1 (readers/reactions.py).

-- name: privacy_comments
-- (the erasure appends FOR UPDATE OF c)
SELECT c.*, a.url AS article_url, a.title AS article_title
FROM comments c JOIN articles a ON a.id = c.article_id WHERE c.author_id = $1 ORDER BY c.id;

-- name: privacy_decisions
SELECT comment_id, actor, action, from_status, to_status, spam_score, abuse_score, model_version, reasons, note,
       created_at
FROM decisions WHERE comment_id = ANY($1::bigint[]) ORDER BY comment_id, id;

-- name: privacy_reactions
SELECT target_type, target_id, kind, ip_hash, created_at, updated_at FROM reactions
WHERE reader_id = 'cms:' || $1 ORDER BY created_at;

-- name: privacy_reports
SELECT comment_id, reason, note, ip_hash, created_at FROM comment_reports
WHERE reader_id = 'cms:' || $1 ORDER BY created_at;

-- name: privacy_reports_received
SELECT comment_id, reason, created_at FROM comment_reports WHERE comment_id = ANY($1::bigint[])
ORDER BY comment_id, created_at;

-- name: privacy_abuse
SELECT scope, subject, target_type, target_id, window_start, refused, ip_hash, first_at, last_at
FROM reaction_abuse WHERE (scope = 'reader' AND subject = 'cms:' || $1) OR reader_id = 'cms:' || $1
ORDER BY first_at;

-- name: privacy_blocks
-- $2 = the IP hashes the author's comments carry
SELECT kind, value, reason, created_by, created_at FROM blocked_authors
WHERE (kind = 'author' AND value = $1) OR (kind = 'ip_hash' AND value = ANY($2::text[])) ORDER BY created_at;

-- name: privacy_audit
-- Entries naming any of $1 (the author id, names, hashes) in their target or their before/after/reason.
SELECT id, at, actor, action, target_type, target_id, before, after, reason FROM audit_log
WHERE target_id = ANY($1::text[])
   OR EXISTS (SELECT 1 FROM unnest($1::text[]) s(v)
              WHERE strpos(coalesce(before::text, '') || coalesce(after::text, '') || coalesce(reason, ''), s.v) > 0)
ORDER BY id;

-- name: privacy_allow_audit_rewrite
-- The audit log's trigger lets an UPDATE through only while this transaction-local setting is on (0150).
SELECT set_config('moderation.erasure', 'on', true);

-- name: privacy_audit_rewrite
UPDATE audit_log SET target_id = $2, before = $3, after = $4, reason = $5 WHERE id = $1;

-- name: privacy_drop_outbox
-- Callbacks not yet sent (or kept after delivery) carry the comment's reasons: they go before the deletion.
DELETE FROM outbox WHERE comment_id = ANY($1::bigint[]);

-- name: privacy_scrub_comment
-- The comment stays as a tombstone (its CMS id and article; status deleted, set by the decision writer's
-- erase) so that a replayed or late webhook for it is answered, not re-created; everything the author wrote
-- or is identified by goes.
UPDATE comments SET author_id = $2, author_name = '', author_email_hash = NULL, author_ip_hash = NULL,
                    text = '', fingerprint = '', reasons = '[]', reason_codes = '{}',
                    claimed_by = NULL, claim_expires_at = NULL, updated_at = now()
WHERE id = $1 RETURNING *;

-- name: privacy_scrub_decisions
-- Reasons quote terms of the text, notes may quote the comment: the decisions keep only what was decided.
UPDATE decisions SET reasons = '[]', note = NULL WHERE comment_id = ANY($1::bigint[]);

-- name: privacy_drop_receipts
-- Webhook receipts answer replays with the comment's JSON (its reasons quote the text).
DELETE FROM webhook_receipts WHERE response->'comment'->>'id' = ANY($1::text[]);

-- name: privacy_drop_reports
DELETE FROM comment_reports WHERE reader_id = 'cms:' || $1 OR comment_id = ANY($2::bigint[]);

-- name: privacy_drop_reactions_on
-- Other readers' reactions to the erased comments (and their counters): the comments are gone.
WITH r AS (DELETE FROM reactions WHERE target_type = 'comment' AND target_id = ANY($1::text[]) RETURNING 1),
     c AS (DELETE FROM reaction_counts WHERE target_type = 'comment' AND target_id = ANY($1::text[]) RETURNING 1)
SELECT (SELECT count(*) FROM r) AS reactions;

-- name: privacy_purge_reactions
SELECT removed FROM reaction_purge('cms:' || $1, NULL);

-- name: privacy_drop_abuse
DELETE FROM reaction_abuse WHERE (scope = 'reader' AND subject = 'cms:' || $1) OR reader_id = 'cms:' || $1
   OR (scope = 'ip' AND subject = ANY($2::text[])) OR ip_hash = ANY($2::text[]);

-- name: privacy_drop_rate_limits
DELETE FROM rate_limits WHERE right(bucket, length($1) + 5) = ':cms:' || $1
   OR bucket = ANY(SELECT s || ':ip:' || h FROM unnest($2::text[]) h, unnest(ARRAY['login', 'challenge', 'report',
                                                                                   'reaction', 'pow', 'pow-fail',
                                                                                   'tok', 'tok-code']) s);

-- name: privacy_drop_confirmations
-- Confirmation state earned from the author's addresses or for their CMS id (challenges, tokens, proofs).
WITH t AS (DELETE FROM challenge_tokens WHERE author_id = $1 OR ip_hash = ANY($2::text[]) RETURNING 1),
     c AS (DELETE FROM challenges WHERE ip_hash = ANY($2::text[]) RETURNING 1)
DELETE FROM proof_redemptions WHERE ip_hash = ANY($2::text[]);

-- name: privacy_drop_blocks
DELETE FROM blocked_authors WHERE (kind = 'author' AND value = $1) OR (kind = 'ip_hash' AND value = ANY($2::text[]));

-- name: privacy_drop_counts
DELETE FROM author_status_counts WHERE author_id = $1;

-- name: privacy_unlink_ip_hashes
-- Rows of other readers made from the author's addresses keep the rows but lose the hash (it is theirs too).
WITH r AS (UPDATE reactions SET ip_hash = NULL WHERE ip_hash = ANY($1::text[]) RETURNING 1)
UPDATE comment_reports SET ip_hash = NULL WHERE ip_hash = ANY($1::text[]);

-- name: privacy_compat_labels
-- Feedback sent through the Perspective/Akismet protocols holds a text but no author: matched by the texts.
SELECT protocol, text, label, attributes, created_at FROM compat_labels WHERE text = ANY($1::text[]) ORDER BY id;

-- name: privacy_drop_compat_labels
DELETE FROM compat_labels WHERE text = ANY($1::text[]);
