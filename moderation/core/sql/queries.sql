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
-- A group commit of new comments (moderation/intake/group_commit.py) in ONE statement (atomic, one round trip):
-- per comment its webhook receipt, article, comment and decision rows (+ outbox row).  The batch's rows
-- arrive as one array per column (jsonb columns pre-encoded as text), so Postgres plans and runs the
-- statement once per batch instead of once per comment.  Returns (receipt_new, comment_new) per input row,
-- in input order.
-- $1 webhook_id, $2 response (json text), $3 comment id, $4 external_id, $5 article_id, $6 article url,
-- $7 title, $8 parent, $9 author_id, $10 author_name, $11 email hash, $12 ip hash, $13 text, $14 fingerprint,
-- $15 status, $16 spam, $17 abuse, $18 model_version, $19 reasons (json text), $20 reason codes (comma-separated
-- slugs), $21 thresholds (json text), $22 created_at, $23 outbox event type (NULL: no callback), $24 outbox
-- payload (json text), $25 body sha256 (hex)
WITH input AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[],
                       $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[],
                       $15::text[], $16::float8[], $17::float8[], $18::text[], $19::text[], $20::text[],
                       $21::text[], $22::timestamptz[], $23::text[], $24::text[], $25::text[])
    WITH ORDINALITY AS u(webhook_id, response, id, external_id, article_id, url, title, parent, author_id,
                         author_name, email_hash, ip_hash, body, fingerprint, status, spam, abuse, model_version,
                         reasons, reason_codes, thresholds, created_at, event_type, payload, body_sha256, ord)
), receipt AS (
  -- The receipt goes first: a concurrent replay of a webhook-id waits on it, then inserts nothing.
  INSERT INTO webhook_receipts (webhook_id, status, response, body_sha256)
  SELECT DISTINCT ON (webhook_id) webhook_id, 200, response::jsonb, decode(body_sha256, 'hex') FROM input
  ORDER BY webhook_id, ord
  ON CONFLICT (webhook_id) DO NOTHING
  RETURNING webhook_id
), fresh AS (
  -- the rows whose receipt is new (the first one, should a batch hold one webhook-id twice)
  SELECT DISTINCT ON (i.webhook_id) i.* FROM input i JOIN receipt r ON r.webhook_id = i.webhook_id
  ORDER BY i.webhook_id, i.ord
), article_in AS (
  -- per article, the latest non-NULL url and title of the batch (what row-by-row upserts would leave)
  SELECT article_id, (array_agg(url ORDER BY ord DESC) FILTER (WHERE url IS NOT NULL))[1] AS url,
         (array_agg(title ORDER BY ord DESC) FILTER (WHERE title IS NOT NULL))[1] AS title
  FROM fresh GROUP BY article_id
), article AS (
  -- Only when the article is new or its url/title changed: ON CONFLICT DO UPDATE locks the row even when
  -- nothing changes, which would serialise every comment on a hot article.
  INSERT INTO articles (id, url, title)
  SELECT n.article_id, n.url, n.title FROM article_in n
  WHERE NOT EXISTS (SELECT 1 FROM articles a WHERE a.id = n.article_id
                                               AND a.url IS NOT DISTINCT FROM coalesce(n.url, a.url)
                                               AND a.title IS NOT DISTINCT FROM coalesce(n.title, a.title))
  ON CONFLICT (id) DO UPDATE SET url = coalesce(EXCLUDED.url, articles.url),
                                 title = coalesce(EXCLUDED.title, articles.title)
), comment AS (
  INSERT INTO comments (id, external_id, article_id, parent_external_id, author_id, author_name,
                        author_email_hash, author_ip_hash, text, fingerprint, status, spam_score,
                        abuse_score, model_version, reasons, reason_codes, thresholds, created_at)
  SELECT f.id, f.external_id, f.article_id, f.parent, f.author_id, f.author_name, f.email_hash, f.ip_hash,
         f.body, f.fingerprint, f.status, f.spam, f.abuse, f.model_version, f.reasons::jsonb,
         string_to_array(f.reason_codes, ','), f.thresholds::jsonb, f.created_at
  FROM fresh f ORDER BY f.ord
  ON CONFLICT (external_id) DO NOTHING
  RETURNING id
), decision AS (
  INSERT INTO decisions (comment_id, actor, action, from_status, to_status, spam_score, abuse_score,
                         model_version, thresholds, reasons)
  SELECT c.id, 'system', 'created', NULL, f.status, f.spam, f.abuse, f.model_version, f.thresholds::jsonb,
         f.reasons::jsonb
  FROM comment c JOIN fresh f ON f.id = c.id
), callback AS (
  INSERT INTO outbox (event_type, comment_id, payload)
  SELECT f.event_type, c.id, f.payload::jsonb FROM comment c JOIN fresh f ON f.id = c.id
  WHERE f.event_type IS NOT NULL
)
SELECT (f.ord IS NOT NULL) AS receipt_new, (c.id IS NOT NULL) AS comment_new
FROM input i LEFT JOIN fresh f ON f.ord = i.ord LEFT JOIN comment c ON c.id = f.id
ORDER BY i.ord;

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
