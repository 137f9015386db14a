-- Outbox delivery worker (moderation/delivery/outbox.py) and its admin view.

-- name: outbox_claim_due
-- Lease up to $1 due rows for $2 seconds.  SKIP LOCKED: instances never wait on or share a row.  A row
-- waits while an older undelivered row for the same comment exists, so the CMS sees a comment's status
-- changes in order even across retries.  A crashed worker's lease simply expires.
-- Rows come back with their decision and comment columns, from which decisions.payload.callback_payload
-- builds the callback body (see schema.sql).
WITH due AS (
    SELECT o.id, o.decision_id FROM outbox o
    WHERE o.delivered_at IS NULL AND o.failed_at IS NULL AND o.next_attempt_at <= now()
      AND (o.locked_until IS NULL OR o.locked_until <= now())
      AND NOT EXISTS (SELECT 1 FROM outbox e
                      WHERE e.comment_id = o.comment_id AND e.id < o.id
                        AND e.delivered_at IS NULL AND e.failed_at IS NULL)
    ORDER BY o.next_attempt_at, o.id
    LIMIT $1
    FOR UPDATE OF o SKIP LOCKED
)
UPDATE outbox o SET locked_until = now() + make_interval(secs => $2)
FROM due
LEFT JOIN decisions d ON d.id = due.decision_id
LEFT JOIN comments c ON c.id = d.comment_id
WHERE o.id = due.id
RETURNING o.id, o.webhook_id, o.event_type, o.comment_id, o.payload, o.attempts, o.decision_id, o.created_at,
          d.id AS d_id, d.actor AS d_actor, d.to_status AS d_to_status, d.spam_score AS d_spam_score,
          d.abuse_score AS d_abuse_score, d.attributes AS d_attributes, d.reasons AS d_reasons,
          d.model_version AS d_model_version, d.action AS d_action,
          c.external_id AS c_external_id, c.article_id AS c_article_id, c.language AS c_language;

-- name: outbox_delivered
UPDATE outbox SET delivered_at = now(), locked_until = NULL, attempts = attempts + 1, last_status = $2,
                  last_error = NULL, last_attempt_at = now()
WHERE id = $1;

-- name: outbox_retry_later
-- One failed attempt: back off $4 seconds, or give up (failed_at) once $5 attempts are spent.
UPDATE outbox SET attempts = attempts + 1, locked_until = NULL, last_status = $2, last_error = $3,
                  last_attempt_at = now(), next_attempt_at = now() + make_interval(secs => $4),
                  failed_at = CASE WHEN attempts + 1 >= $5 THEN now() END
WHERE id = $1
RETURNING attempts, failed_at;

-- name: outbox_gone
-- 410 Gone: the row stays due (delivered once an admin re-enables the endpoint); the attempt is recorded.
UPDATE outbox SET attempts = attempts + 1, locked_until = NULL, last_status = 410, last_error = $2,
                  last_attempt_at = now()
WHERE id = $1;

-- name: outbox_release
UPDATE outbox SET locked_until = NULL WHERE id = ANY($1::bigint[]) AND delivered_at IS NULL;

-- name: outbox_counts
SELECT count(*) FILTER (WHERE delivered_at IS NOT NULL)::int AS delivered,
       count(*) FILTER (WHERE failed_at IS NOT NULL)::int AS failed,
       count(*) FILTER (WHERE delivered_at IS NULL AND failed_at IS NULL)::int AS pending,
       count(*) FILTER (WHERE delivered_at IS NULL AND failed_at IS NULL AND attempts > 0)::int AS retrying,
       min(created_at) FILTER (WHERE delivered_at IS NULL AND failed_at IS NULL) AS oldest_pending_at
FROM outbox;

-- name: outbox_retry
UPDATE outbox SET failed_at = NULL, attempts = 0, next_attempt_at = now(), locked_until = NULL
WHERE id = $1 AND delivered_at IS NULL
RETURNING *;

-- name: outbox_get
SELECT * FROM outbox WHERE id = $1;

-- name: outbox_rows_select
-- Outbox rows with what their payload is built from (decisions.payload.callback_payload); the admin
-- view appends its WHERE / ORDER BY / LIMIT.
SELECT o.*, d.id AS d_id, d.actor AS d_actor, d.to_status AS d_to_status, d.spam_score AS d_spam_score,
       d.abuse_score AS d_abuse_score, d.attributes AS d_attributes, d.reasons AS d_reasons,
       d.model_version AS d_model_version, d.action AS d_action,
       c.external_id AS c_external_id, c.article_id AS c_article_id, c.language AS c_language
FROM outbox o
LEFT JOIN decisions d ON d.id = o.decision_id
LEFT JOIN comments c ON c.id = d.comment_id

-- name: endpoint_get
SELECT url, disabled_at, disabled_reason, updated_by, updated_at FROM callback_endpoints WHERE url = $1;

-- name: endpoint_disable
INSERT INTO callback_endpoints AS e (url, disabled_at, disabled_reason, updated_by)
VALUES ($1, now(), $2, $3)
ON CONFLICT (url) DO UPDATE SET disabled_at = coalesce(e.disabled_at, now()), disabled_reason = EXCLUDED.disabled_reason,
                                updated_by = EXCLUDED.updated_by, updated_at = now()
RETURNING url, disabled_at, disabled_reason, updated_by, updated_at;

-- name: endpoint_enable
INSERT INTO callback_endpoints AS e (url, disabled_at, disabled_reason, updated_by)
VALUES ($1, NULL, NULL, $2)
ON CONFLICT (url) DO UPDATE SET disabled_at = NULL, disabled_reason = NULL, updated_by = EXCLUDED.updated_by,
                                updated_at = now()
RETURNING url, disabled_at, disabled_reason, updated_by, updated_at;
