-- Confirmation codes (moderation/challenges): challenges, tokens, cleanup.

-- name: challenge_issue
-- One round trip for POST /v1/challenges: count the client's hit in its rate-limit window (the same upsert
-- as queries.sql's rate_limit_hit, $10 = bucket, $11 = window seconds) and insert the challenge only when
-- the count is within $12.  Returns the count and seconds left always; id/expires_at NULL when limited.
WITH hit AS (
    INSERT INTO rate_limits AS r (bucket, window_start, count)
    VALUES ($10, to_timestamp(floor(extract(epoch FROM now()) / $11) * $11), 1)
    ON CONFLICT (bucket, window_start) DO UPDATE SET count = r.count + 1
    RETURNING count, extract(epoch FROM (window_start + make_interval(secs => $11) - now()))::float8 AS seconds_left
), ins AS (
    INSERT INTO challenges (id, salt, code_hash, code_length, article_id, action, cdata, hostname, expires_at,
                            ip_hash, after_proof)
    SELECT $1, $2, $3, $4, $5, $6, $7, $8, now() + make_interval(secs => $9), $13, $14 FROM hit WHERE hit.count <= $12
    RETURNING id, expires_at
)
SELECT hit.count, hit.seconds_left, ins.id, ins.expires_at FROM hit LEFT JOIN ins ON true;

-- name: challenge_get
SELECT *, expires_at <= now() AS expired FROM challenges WHERE id = $1;

-- name: challenge_count_render
-- Count one image ($2 = 'image') or audio render; returns the row as it is now (NULL when unknown id).
UPDATE challenges
SET image_renders = image_renders + (CASE WHEN $2 = 'image' THEN 1 ELSE 0 END),
    audio_renders = audio_renders + (CASE WHEN $2 = 'audio' THEN 1 ELSE 0 END)
WHERE id = $1 AND answered_at IS NULL AND attempts < $3 AND expires_at > now()
RETURNING *;

-- name: challenge_lock
-- Taken inside the answer transaction: concurrent answers to one challenge queue here, one at a time.
SELECT *, expires_at <= now() AS expired FROM challenges WHERE id = $1 FOR UPDATE;

-- name: challenge_wrong
UPDATE challenges SET attempts = attempts + 1 WHERE id = $1 RETURNING attempts;

-- name: challenge_solved
UPDATE challenges SET answered_at = now() WHERE id = $1 AND answered_at IS NULL RETURNING answered_at;

-- name: token_insert
-- $8 method ('code' | 'proof' | 'proof+code'), $9 ip hash, $10 CMS reader id (or NULL)
INSERT INTO challenge_tokens (token_hash, challenge_id, article_id, action, cdata, hostname, expires_at,
                              method, ip_hash, author_id)
VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7), $8, $9, $10)
RETURNING issued_at, expires_at;

-- name: token_consume
-- Single use: exactly one caller gets the row back; $2/$3 bind it to an article and action when not NULL.
UPDATE challenge_tokens SET used_at = now(), used_by = $4, idempotency_key = $5
WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()
  AND ($2::text IS NULL OR article_id = $2) AND ($3::text IS NULL OR action = $3)
RETURNING *;

-- name: token_get
SELECT *, expires_at <= now() AS expired FROM challenge_tokens WHERE token_hash = $1;
