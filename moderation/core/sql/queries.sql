-- Spine statements: intake, decisions, receipts, health.

-- name: ping
SELECT 1;

-- name: intake_context
-- Everything intake needs to know before deciding, in one round trip: a stored answer for this webhook-id,
-- an existing comment with this CMS id, whether the author or IP is blocked, how many other authors sent
-- the same text recently, and the id the new comment will get.
-- $1 webhook_id, $2 external_id, $3 author_id, $4 ip_hash, $5 fingerprint, $6 repeat window (s)
SELECT
  (SELECT jsonb_build_object('status', status, 'response', response, 'body_sha256', encode(body_sha256, 'hex'))
     FROM webhook_receipts WHERE webhook_id = $1 AND status > 0) AS receipt,
  (SELECT id FROM comments WHERE external_id = $2) AS existing_id,
  (SELECT coalesce(nullif(reason, ''), 'blocked ' || kind) FROM blocked_authors
     WHERE (kind = 'author' AND value = $3) OR (kind = 'ip_hash' AND value = $4) LIMIT 1) AS blocked,
  (SELECT count(DISTINCT author_id) FROM comments
     WHERE fingerprint = $5 AND author_id <> $3 AND received_at > now() - make_interval(secs => $6)) AS repeats,
  nextval(pg_get_serial_sequence('comments', 'id')) AS next_id;

-- name: intake_store_batch
-- A group commit of new comments (moderation/intake/group_commit.py) in ONE call (atomic, one round trip):
-- intake_store() (schema.sql) writes per comment its webhook receipt, article and comment rows, and their
-- decisions and outbox rows through the one decision writer, decision_write().  The batch's rows arrive as
-- one array per column (jsonb columns pre-encoded as text).  Returns (receipt_new, comment_new) per input
-- row, in input order.
-- $1 webhook_id, $2 response (json text), $3 comment id, $4 external_id, $5 article_id, $6 article url,
-- $7 title, $8 parent, $9 author_id, $10 author_name, $11 email hash, $12 ip hash, $13 text, $14 fingerprint,
-- $15 status, $16 spam, $17 abuse, $18 model_version, $19 reasons (json text), $20 reason codes (comma-separated
-- slugs), $21 thresholds (json text), $22 created_at, $23 language, $24 attributes (json text), $25 body sha256 (hex),
-- $26 callbacks on
SELECT receipt_new, comment_new
FROM intake_store($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[],
                  $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[],
                  $15::text[], $16::float8[], $17::float8[], $18::text[], $19::text[], $20::text[], $21::text[],
                  $22::timestamptz[], $23::text[], $24::text[], $25::text[], $26::boolean);

-- name: get_receipt
SELECT status, response, encode(body_sha256, 'hex') AS body_sha256 FROM webhook_receipts WHERE webhook_id = $1;

-- name: claim_receipt
-- Inserted first inside the intake transaction: a concurrent replay of the same webhook-id blocks here
-- until we commit, then finds the row and answers with our response.
INSERT INTO webhook_receipts (webhook_id, status, response, body_sha256) VALUES ($1, 0, '{}', decode($2, 'hex'))
ON CONFLICT (webhook_id) DO NOTHING
RETURNING webhook_id;

-- name: finish_receipt
UPDATE webhook_receipts SET status = $2, response = $3 WHERE webhook_id = $1;

-- name: get_comment_by_external_id
SELECT * FROM comments WHERE external_id = $1;

-- name: get_comment
SELECT * FROM comments WHERE id = $1;

-- name: update_comment_content
-- comment.updated: the new text and its scores; the new status is written by decision_write.
UPDATE comments SET text = $2, fingerprint = $3, spam_score = $4, abuse_score = $5, model_version = $6,
                    reasons = $7, reason_codes = $8, thresholds = $9, author_name = $10, language = $11,
                    attributes = $12, updated_at = now()
WHERE id = $1
RETURNING *;

-- name: word_lists
SELECT list, term FROM word_lists ORDER BY list, term;

-- name: seed_word_list
INSERT INTO word_lists (list, term) VALUES ($1, $2) ON CONFLICT DO NOTHING;

-- name: word_lists_empty
SELECT NOT EXISTS (SELECT 1 FROM word_lists);

-- name: rate_limit_hit
-- Count one hit in the current fixed window of $2 seconds; returns the count and seconds left in the window.
INSERT INTO rate_limits AS r (bucket, window_start, count)
VALUES ($1, to_timestamp(floor(extract(epoch FROM now()) / $2) * $2), 1)
ON CONFLICT (bucket, window_start) DO UPDATE SET count = r.count + 1
RETURNING count, extract(epoch FROM (window_start + make_interval(secs => $2) - now()))::float8 AS seconds_left;
