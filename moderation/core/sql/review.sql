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
       c.text, c.status, c.spam_score, c.abuse_score, c.risk, c.model_version, c.reasons, c.reason_codes,
       c.thresholds, c.created_at, c.received_at,
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
    ORDER BY risk DESC, id DESC
    LIMIT $2
    FOR UPDATE SKIP LOCKED
), c AS (
    UPDATE comments c SET claimed_by = $1, claim_expires_at = now() + make_interval(secs => $3)
    FROM picked WHERE c.id = picked.id
    -- only what an item shows (not c.*: the search tsvector, fingerprint... would be copied for nothing)
    RETURNING c.id, c.external_id, c.article_id, c.parent_external_id, c.author_id, c.author_name,
              c.author_ip_hash, c.text, c.status, c.spam_score, c.abuse_score, c.risk, c.model_version, c.reasons,
              c.reason_codes, c.thresholds, c.created_at, c.received_at, c.claimed_by, c.claim_expires_at
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

-- name: decide_comment
-- The new status; the claim ends with the decision.
UPDATE comments SET status = $2, updated_at = now(), claimed_by = NULL, claim_expires_at = NULL
WHERE id = $1 RETURNING *;

-- name: comment_decisions
SELECT id, actor, action, from_status, to_status, spam_score, abuse_score, model_version, thresholds,
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

-- name: decide_batch
-- A whole decision batch in ONE statement (one round trip, atomic without an explicit transaction):
-- lock the comments (in id order, so concurrent batches cannot deadlock), check that all exist and none
-- was deleted, and only then flip their status (releasing claims) and write, per changed comment, the
-- decision row (intake.record_decision's), its audit entry and — when $6 — its outbox row (referencing the
-- decision row: moderation/delivery/outbox.py builds intake.outbox_payload's body from it at delivery time), plus
-- — when $7 — one 'decision.bulk' audit entry ($8 its "before").
-- When the check fails nothing is written; the caller raises 404/409 from missing/deleted.
-- $1 ids (distinct), $2 target status, $3 actor, $4 action, $5 reason.
WITH locked AS MATERIALIZED (
    SELECT id, external_id, status FROM comments WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE
), verdict AS MATERIALIZED (
    SELECT count(*) = cardinality($1::bigint[]) AND count(*) FILTER (WHERE status = 'deleted') = 0 AS ok
    FROM locked
), upd AS (
    UPDATE comments c SET status = $2::text, updated_at = now(), claimed_by = NULL, claim_expires_at = NULL
    FROM locked l
    WHERE c.id = l.id AND l.status <> $2::text AND (SELECT ok FROM verdict)
    RETURNING c.id, c.status, c.spam_score, c.abuse_score, c.model_version, c.thresholds, c.reasons,
              l.status AS from_status
), dec AS (
    INSERT INTO decisions (comment_id, actor, action, from_status, to_status, spam_score, abuse_score,
                           model_version, thresholds, reasons, note)
    SELECT u.id, $3::text, $4::text, u.from_status, u.status, u.spam_score, u.abuse_score, u.model_version,
           u.thresholds, u.reasons, $5::text
    FROM upd u ORDER BY u.id
    RETURNING id, comment_id, from_status
), aud AS (
    INSERT INTO audit_log (actor, action, target_type, target_id, before, after, reason)
    SELECT $3::text, 'decision.' || $4::text, 'comment', d.comment_id::text,
           jsonb_build_object('status', d.from_status),
           jsonb_build_object('status', $2::text, 'comment_id', d.comment_id, 'decision_id', d.id), $5::text
    FROM dec d ORDER BY d.comment_id
), obx AS (
    -- decision-sourced outbox rows: the worker builds the callback body from the decision row at delivery
    INSERT INTO outbox (event_type, comment_id, decision_id)
    SELECT 'comment.' || $2::text, d.comment_id, d.id
    FROM dec d WHERE $6::bool ORDER BY d.comment_id
), changed AS (
    SELECT d.comment_id, d.id AS decision_id, d.from_status, l.external_id
    FROM dec d JOIN locked l ON l.id = d.comment_id
), summary AS (
    INSERT INTO audit_log (actor, action, target_type, target_id, before, after, reason)
    SELECT $3::text, 'decision.bulk', 'comments', count(*) || ' comments', $8::jsonb,
           jsonb_build_object('action', $4::text, 'to_status', $2::text,
                              'comment_ids', coalesce(jsonb_agg(ch.comment_id ORDER BY ch.comment_id), '[]'),
                              'decision_ids', coalesce(jsonb_agg(ch.decision_id ORDER BY ch.comment_id), '[]'),
                              'unchanged', (SELECT coalesce(jsonb_agg(id ORDER BY id), '[]') FROM locked
                                            WHERE status = $2::text)),
           $5::text
    FROM changed ch
    HAVING $7::bool AND (SELECT ok FROM verdict)
    RETURNING id
)
SELECT (SELECT ok FROM verdict) AS ok,
       ARRAY(SELECT unnest($1::bigint[]) EXCEPT SELECT id FROM locked ORDER BY 1) AS missing,
       ARRAY(SELECT id FROM locked WHERE status = 'deleted' ORDER BY id) AS deleted,
       ARRAY(SELECT id FROM locked WHERE status = $2::text ORDER BY id) AS unchanged,
       ARRAY(SELECT comment_id FROM changed ORDER BY comment_id) AS comment_ids,
       ARRAY(SELECT decision_id FROM changed ORDER BY comment_id) AS decision_ids,
       ARRAY(SELECT from_status FROM changed ORDER BY comment_id) AS from_statuses,
       ARRAY(SELECT external_id FROM changed ORDER BY comment_id) AS external_ids,
       (SELECT id FROM summary) AS audit_id;
