-- Review capability: queue, claims, decisions, commenters, word lists, audit log.
-- The queue listing is composed in moderation/review/queue.py from queue_select plus filter fragments
-- (optional filters as literal SQL keep every query sargable for its index; values are always $n params).

-- name: queue_select
SELECT c.id, c.external_id, c.article_id, c.parent_external_id, c.author_id, c.author_name, c.author_ip_hash,
       c.text, c.status, c.spam_score, c.abuse_score, c.risk, c.model_version, c.reasons, c.reason_codes,
       c.thresholds, c.created_at, c.received_at, c.updated_at,
       CASE WHEN c.claim_expires_at > now() THEN c.claimed_by END AS claimed_by,
       CASE WHEN c.claim_expires_at > now() THEN c.claim_expires_at END AS claim_expires_at,
       a.url AS article_url, a.title AS article_title,
       p.id AS parent_id, p.text AS parent_text, p.author_name AS parent_author_name
FROM comments c
JOIN articles a ON a.id = c.article_id
LEFT JOIN comments p ON p.external_id = c.parent_external_id

-- name: author_history
SELECT author_id, status, count(*)::int AS n FROM comments WHERE author_id = ANY($1::text[]) GROUP BY 1, 2;

-- name: claim_pending
-- Hand out up to $2 pending comments nobody holds (highest risk first) and return them as queue items, in
-- one statement.  SKIP LOCKED lets 32 moderators claim at once without waiting on each other; the lease
-- makes abandoned claims return by themselves.  Only unindexed columns change: a HOT update.
WITH picked AS (
    SELECT id FROM comments
    WHERE status = 'pending' AND (claim_expires_at IS NULL OR claim_expires_at <= now())
    ORDER BY risk DESC, id DESC
    LIMIT $2
    FOR UPDATE SKIP LOCKED
), c AS (
    UPDATE comments c SET claimed_by = $1, claim_expires_at = now() + make_interval(secs => $3)
    FROM picked WHERE c.id = picked.id
    RETURNING c.*
)
SELECT c.id, c.external_id, c.article_id, c.parent_external_id, c.author_id, c.author_name, c.author_ip_hash,
       c.text, c.status, c.spam_score, c.abuse_score, c.risk, c.model_version, c.reasons, c.reason_codes,
       c.thresholds, c.created_at, c.received_at, c.updated_at, c.claimed_by, c.claim_expires_at,
       a.url AS article_url, a.title AS article_title,
       p.id AS parent_id, p.text AS parent_text, p.author_name AS parent_author_name
FROM c
JOIN articles a ON a.id = c.article_id
LEFT JOIN comments p ON p.external_id = c.parent_external_id
ORDER BY c.risk DESC, c.id DESC;

-- name: release_claims
UPDATE comments SET claimed_by = NULL, claim_expires_at = NULL
WHERE claimed_by = $1 AND id = ANY($2::bigint[])
RETURNING id;

-- name: lock_comment
SELECT * FROM comments WHERE id = $1 FOR UPDATE;

-- name: lock_comments
SELECT * FROM comments WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE;

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
SELECT status, count(*)::int AS n FROM comments WHERE author_id = $1 GROUP BY status;

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

-- name: decide_comments
-- Bulk decisions: one statement for the whole batch (rows already locked by the caller).
UPDATE comments SET status = $2, updated_at = now(), claimed_by = NULL, claim_expires_at = NULL
WHERE id = ANY($1::bigint[]) RETURNING *;

-- name: insert_decisions_bulk
-- The same decision rows intake.record_decision writes, for a batch ($1 ids, $2 their previous statuses),
-- and the audit entry of each, in one statement.
WITH d AS (
    INSERT INTO decisions (comment_id, actor, action, from_status, to_status, spam_score, abuse_score,
                           model_version, thresholds, reasons, note)
    SELECT c.id, $3, $4, f.from_status, c.status, c.spam_score, c.abuse_score, c.model_version, c.thresholds,
           c.reasons, $5
    FROM unnest($1::bigint[], $2::text[]) AS f(id, from_status) JOIN comments c ON c.id = f.id
    ORDER BY c.id
    RETURNING id, comment_id, from_status, to_status
), a AS (
    INSERT INTO audit_log (actor, action, target_type, target_id, before, after, reason)
    SELECT $3, 'decision.' || $4, 'comment', d.comment_id::text, jsonb_build_object('status', d.from_status),
           jsonb_build_object('status', d.to_status, 'comment_id', d.comment_id, 'decision_id', d.id), $5
    FROM d ORDER BY d.comment_id
)
SELECT id, comment_id FROM d;
