-- Review capability: queue, claims, decisions, commenters, word lists, audit log.
-- The queue listing is composed in moderation/review/queue.py from queue_select plus filter fragments
-- (optional filters as literal SQL keep every query sargable for its index; values are always $n params).

-- name: queue_select
-- Queue items: the comment, its article, parent comment and the author's history (counts by status from
-- author_status_counts, kept by triggers; one index lookup per item) in ONE round trip, the history as two
-- arrays (decoded by asyncpg in C, unlike json).  list_queue puts its page subquery in place of
-- "FROM comments c" below, so only the page's rows are joined and counted.  (Building each item as JSON
-- here was measured slower: json_build_object costs ~10 us per item, more than asyncpg's decoding plus
-- queue.item_json.)
SELECT c.id, c.external_id, c.article_id, c.parent_external_id, c.author_id, c.author_name, c.author_ip_hash,
       c.text, c.status, c.spam_score, c.abuse_score, c.attributes, c.language,
       coalesce(c.queue_risk, c.risk) AS risk, c.model_version, c.reasons, c.reason_codes, c.thresholds,
       c.created_at, c.received_at,
       CASE WHEN c.claim_expires_at > now() THEN c.claimed_by END AS claimed_by,
       CASE WHEN c.claim_expires_at > now() THEN c.claim_expires_at END AS claim_expires_at,
       a.url AS article_url, a.title AS article_title,
       p.id AS parent_id, p.text AS parent_text, p.author_name AS parent_author_name,
       h.statuses AS history_statuses, h.counts AS history_counts
FROM comments c
JOIN articles a ON a.id = c.article_id
LEFT JOIN comments p ON p.external_id = c.parent_external_id
LEFT JOIN LATERAL (
    SELECT array_agg(x.status) AS statuses, array_agg(x.n::int) AS counts
    FROM author_status_counts x WHERE x.author_id = c.author_id AND x.n > 0
) h ON true

-- name: claim_pending
-- Hand out up to $2 pending comments nobody holds (highest risk first) and return them as queue items, in
-- one statement.  SKIP LOCKED lets 32 moderators claim at once without waiting on each other; the lease
-- makes abandoned claims return by themselves.  Only unindexed columns change: a HOT update.
-- Items come back complete (article, parent, author history): one round trip per claim.  What each part
-- costs under 32 concurrent moderators (bench/review_claims.py): the article and parent joins next to
-- nothing; the author history was ~40 % of the claim while it was counted from comments (an index-only
-- scan visiting the heap for every page changed since the last VACUUM): it now reads the counters.
WITH picked AS (
    SELECT id FROM comments
    WHERE status = 'pending' AND (claim_expires_at IS NULL OR claim_expires_at <= now())
    ORDER BY coalesce(queue_risk, risk) DESC, id DESC   -- index comments_queue_by_risk (risk: review/risk.py)
    LIMIT $2
    FOR UPDATE SKIP LOCKED
), c AS (
    UPDATE comments c SET claimed_by = $1, claim_expires_at = now() + make_interval(secs => $3)
    FROM picked WHERE c.id = picked.id
    -- only what an item shows (not c.*: the search tsvector, fingerprint... would be copied for nothing)
    RETURNING c.id, c.external_id, c.article_id, c.parent_external_id, c.author_id, c.author_name,
              c.author_ip_hash, c.text, c.status, c.spam_score, c.abuse_score, c.attributes, c.language,
              coalesce(c.queue_risk, c.risk) AS risk, c.model_version, c.reasons, c.reason_codes, c.thresholds,
              c.created_at, c.received_at, c.claimed_by, c.claim_expires_at
)
SELECT c.*, a.url AS article_url, a.title AS article_title,
       p.id AS parent_id, p.text AS parent_text, p.author_name AS parent_author_name,
       h.statuses AS history_statuses, h.counts AS history_counts
FROM c
JOIN articles a ON a.id = c.article_id
LEFT JOIN comments p ON p.external_id = c.parent_external_id
-- the author's history (counts by status, kept by triggers: schema.sql) in the same round trip, as
-- queue_select gives it
LEFT JOIN LATERAL (
    SELECT array_agg(x.status) AS statuses, array_agg(x.n::int) AS counts
    FROM author_status_counts x WHERE x.author_id = c.author_id AND x.n > 0
) h ON true
ORDER BY c.risk DESC, c.id DESC;

-- name: release_claims
UPDATE comments SET claimed_by = NULL, claim_expires_at = NULL
WHERE claimed_by = $1 AND id = ANY($2::bigint[])
RETURNING id;

-- name: lock_comment
SELECT * FROM comments WHERE id = $1 FOR UPDATE;

-- name: comment_decisions
SELECT id, actor, action, from_status, to_status, spam_score, abuse_score, attributes, model_version, thresholds,
       reasons, note, created_at
FROM decisions WHERE comment_id = $1 ORDER BY id;

-- name: get_decision
SELECT * FROM decisions WHERE id = $1;

-- name: latest_decision_for_update
SELECT id FROM decisions WHERE comment_id = $1 ORDER BY id DESC LIMIT 1;

-- name: comment_blocks
SELECT kind, value, reason, created_by, created_at FROM blocked_authors
WHERE (kind = 'author' AND value = $1) OR (kind = 'ip_hash' AND value = $2);

-- name: get_audit_entry
SELECT * FROM audit_log WHERE id = $1;

-- name: insert_audit
INSERT INTO audit_log (actor, action, target_type, target_id, before, after, reason)
VALUES ($1, $2, $3, $4, $5, $6, $7)
RETURNING id, at;

-- name: block_upsert
INSERT INTO blocked_authors AS b (kind, value, reason, created_by) VALUES ($1, $2, $3, $4)
ON CONFLICT (kind, value) DO UPDATE SET reason = EXCLUDED.reason, created_by = EXCLUDED.created_by,
                                        created_at = now()
RETURNING kind, value, reason, created_by, created_at;

-- name: block_get
SELECT kind, value, reason, created_by, created_at FROM blocked_authors WHERE kind = $1 AND value = $2;

-- name: block_delete
DELETE FROM blocked_authors WHERE kind = $1 AND value = $2
RETURNING kind, value, reason, created_by, created_at;

-- name: author_summary
SELECT count(*)::int AS total, min(received_at) AS first_seen, max(received_at) AS last_seen,
       (array_agg(author_name ORDER BY id DESC))[1] AS latest_name,
       (array_agg(author_ip_hash ORDER BY id DESC) FILTER (WHERE author_ip_hash IS NOT NULL))[1] AS latest_ip_hash
FROM comments WHERE author_id = $1;

-- name: author_status_counts
-- The counters queue items and claims show (kept exact by triggers: schema.sql), not a second count.
SELECT status, n::int AS n FROM author_status_counts WHERE author_id = $1 AND n > 0;

-- name: word_list_add
INSERT INTO word_lists (list, term, created_by) VALUES ($1, $2, $3)
ON CONFLICT (list, term) DO NOTHING
RETURNING list, term, created_by, created_at;

-- name: word_list_get
SELECT list, term, created_by, created_at FROM word_lists WHERE list = $1 AND term = $2;

-- name: word_list_remove
DELETE FROM word_lists WHERE list = $1 AND term = $2 RETURNING list, term, created_by, created_at;

-- name: word_list_entries
SELECT list, term, created_by, created_at FROM word_lists ORDER BY list, term;

-- name: queue_risk_backfill
-- The queue's risk (comments.queue_risk, moderation/review/risk.py) of up to $2 comments with an id above $1
-- that have none (stored before migration 0170), in id order along the partial index comments_queue_risk_unset;
-- one short committed statement per batch.  SKIP LOCKED: never waits on a decision or claim holding a row (the
-- decision writer fills that one itself; the next pass takes the rest).  Only queue_risk changes: no
-- updated_at, no decision, no audit entry (it is not an edit).
WITH picked AS (
    SELECT id FROM comments WHERE queue_risk IS NULL AND id > $1::bigint ORDER BY id LIMIT $2::int
    FOR UPDATE SKIP LOCKED
), filled AS (
    UPDATE comments c SET queue_risk = queue_risk_of(c.attributes, c.spam_score, c.abuse_score)
    FROM picked WHERE c.id = picked.id
    RETURNING c.id
)
SELECT count(*)::int AS filled, max(id) AS last_id FROM filled;
