-- Spine statements: intake, decisions, receipts, health.

-- name: ping
SELECT 1;

-- name: intake_context
-- Everything intake needs to know before deciding, in one round trip: a stored answer for this webhook-id,
-- an existing comment with this CMS id, whether the author or IP is blocked, how many other authors sent
-- the same text recently, and the id the new comment will get.
-- $1 webhook_id, $2 external_id, $3 author_id, $4 ip_hash, $5 fingerprint, $6 repeat window (s)
SELECT
  (SELECT jsonb_build_object('status', status, 'response', response)
     FROM webhook_receipts WHERE webhook_id = $1 AND status > 0) AS receipt,
  (SELECT id FROM comments WHERE external_id = $2) AS existing_id,
  (SELECT coalesce(nullif(reason, ''), 'blocked ' || kind) FROM blocked_authors
     WHERE (kind = 'author' AND value = $3) OR (kind = 'ip_hash' AND value = $4) LIMIT 1) AS blocked,
  (SELECT count(DISTINCT author_id) FROM comments
     WHERE fingerprint = $5 AND author_id <> $3 AND received_at > now() - make_interval(secs => $6)) AS repeats,
  nextval(pg_get_serial_sequence('comments', 'id')) AS next_id;

-- name: intake_store_new
-- The receipt, the article, the comment and its decision in ONE statement (atomic, one round trip).
-- The receipt goes first: a concurrent replay of the webhook-id waits on it, then inserts nothing.
-- $1 webhook_id, $2 response, $3 comment id, $4 external_id, $5 article_id, $6 article url, $7 title,
-- $8 parent, $9 author_id, $10 author_name, $11 email hash, $12 ip hash, $13 text, $14 fingerprint,
-- $15 status, $16 spam, $17 abuse, $18 model_version, $19 reasons, $20 reason_codes, $21 thresholds,
-- $22 created_at, $23 outbox event type (NULL: no callback configured), $24 outbox payload
WITH receipt AS (
  INSERT INTO webhook_receipts (webhook_id, status, response) VALUES ($1, 200, $2)
  ON CONFLICT (webhook_id) DO NOTHING
  RETURNING webhook_id
), article AS (
  -- Only when the article is new or its url/title changed: ON CONFLICT DO UPDATE locks the row even when
  -- nothing changes, which would serialise every comment on a hot article.
  INSERT INTO articles (id, url, title) SELECT $5, $6, $7
  WHERE EXISTS (SELECT 1 FROM receipt)
    AND NOT EXISTS (SELECT 1 FROM articles a WHERE a.id = $5 AND a.url IS NOT DISTINCT FROM coalesce($6, a.url)
                                                 AND a.title IS NOT DISTINCT FROM coalesce($7, a.title))
  ON CONFLICT (id) DO UPDATE SET url = coalesce(EXCLUDED.url, articles.url),
                                 title = coalesce(EXCLUDED.title, articles.title)
), comment AS (
  INSERT INTO comments (id, external_id, article_id, parent_external_id, author_id, author_name,
                        author_email_hash, author_ip_hash, text, fingerprint, status, spam_score,
                        abuse_score, model_version, reasons, reason_codes, thresholds, created_at)
  SELECT $3, $4, $5, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22
  WHERE EXISTS (SELECT 1 FROM receipt)
  ON CONFLICT (external_id) DO NOTHING
  RETURNING id
), decision AS (
  INSERT INTO decisions (comment_id, actor, action, from_status, to_status, spam_score, abuse_score,
                         model_version, thresholds, reasons)
  SELECT id, 'system', 'created', NULL, $15, $16, $17, $18, $21, $19 FROM comment
), callback AS (
  INSERT INTO outbox (event_type, comment_id, payload)
  SELECT $23, id, $24 FROM comment WHERE $23::text IS NOT NULL
)
SELECT (SELECT count(*) FROM receipt) AS receipt_new, (SELECT count(*) FROM comment) AS comment_new;

-- name: get_receipt
SELECT status, response FROM webhook_receipts WHERE webhook_id = $1;

-- name: claim_receipt
-- Inserted first inside the intake transaction: a concurrent replay of the same webhook-id blocks here
-- until we commit, then finds the row and answers with our response.
INSERT INTO webhook_receipts (webhook_id, status, response) VALUES ($1, 0, '{}')
ON CONFLICT (webhook_id) DO NOTHING
RETURNING webhook_id;

-- name: finish_receipt
UPDATE webhook_receipts SET status = $2, response = $3 WHERE webhook_id = $1;

-- name: get_comment_by_external_id
SELECT * FROM comments WHERE external_id = $1;

-- name: get_comment
SELECT * FROM comments WHERE id = $1;

-- name: update_comment_content
UPDATE comments SET text = $2, fingerprint = $3, status = $4, spam_score = $5, abuse_score = $6,
                    model_version = $7, reasons = $8, reason_codes = $9, thresholds = $10,
                    author_name = $11, updated_at = now()
WHERE id = $1
RETURNING *;

-- name: set_comment_status
UPDATE comments SET status = $2, updated_at = now() WHERE id = $1 RETURNING *;

-- name: insert_decision
INSERT INTO decisions (comment_id, actor, action, from_status, to_status, spam_score, abuse_score,
                       model_version, thresholds, reasons, note)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
RETURNING id;

-- name: insert_outbox
INSERT INTO outbox (event_type, comment_id, payload) VALUES ($1, $2, $3) RETURNING id;

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

-- name: rate_limit_prune
DELETE FROM rate_limits WHERE window_start < now() - interval '1 hour';
