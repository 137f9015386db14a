-- Retention: what the retention worker (moderation/privacy/retention.py) deletes, each in bounded batches.
-- $1 = the age in seconds past which a row is due, $2 = the batch size.  SKIP LOCKED: instances pruning at
-- the same moment take different rows instead of waiting on each other (and never wait on live traffic).

-- name: retention_receipts
-- Webhook receipts: a replay can only come within the signature's timestamp tolerance (minutes), so days
-- of receipts are plenty for idempotency.
DELETE FROM webhook_receipts WHERE webhook_id IN (
    SELECT webhook_id FROM webhook_receipts WHERE received_at < now() - make_interval(secs => $1)
    LIMIT $2 FOR UPDATE SKIP LOCKED);

-- name: retention_rate_limits
-- Fixed windows that started longer ago than the longest window in use are over.
DELETE FROM rate_limits WHERE (bucket, window_start) IN (
    SELECT bucket, window_start FROM rate_limits WHERE window_start < now() - make_interval(secs => $1)
    LIMIT $2 FOR UPDATE SKIP LOCKED);

-- name: retention_sessions
-- Moderator sessions past their idle or absolute expiry ($1 = grace after expiry).
DELETE FROM moderator_sessions WHERE id_hash IN (
    SELECT id_hash FROM moderator_sessions
    WHERE least(expires_at, absolute_expires_at) < now() - make_interval(secs => $1)
    LIMIT $2 FOR UPDATE SKIP LOCKED);

-- name: retention_challenges
-- Expired challenges are kept a grace period, so a late answer hears "expired" rather than "not found".
DELETE FROM challenges WHERE id IN (
    SELECT id FROM challenges WHERE expires_at < now() - make_interval(secs => $1)
    LIMIT $2 FOR UPDATE SKIP LOCKED);

-- name: retention_challenge_tokens
DELETE FROM challenge_tokens WHERE token_hash IN (
    SELECT token_hash FROM challenge_tokens WHERE expires_at < now() - make_interval(secs => $1)
    LIMIT $2 FOR UPDATE SKIP LOCKED);

-- name: retention_proof_redemptions
-- A redeemed proof of work is remembered until its challenge expired (after that the proof is refused as
-- expired anyway): single use needs nothing older.
DELETE FROM proof_redemptions WHERE challenge IN (
    SELECT challenge FROM proof_redemptions WHERE expires_at < now() - make_interval(secs => $1)
    LIMIT $2 FOR UPDATE SKIP LOCKED);

-- name: retention_outbox
-- Delivered callbacks (kept for the admin deliveries view); failed rows stay until an admin retries them.
DELETE FROM outbox WHERE id IN (
    SELECT id FROM outbox WHERE delivered_at < now() - make_interval(secs => $1)
    ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED);

-- name: retention_reaction_abuse
-- The reaction rate-limit refusals moderators look at (GET /v1/reactions/abuse).
DELETE FROM reaction_abuse WHERE (scope, subject, target_type, target_id, window_start) IN (
    SELECT scope, subject, target_type, target_id, window_start FROM reaction_abuse
    WHERE last_at < now() - make_interval(secs => $1)
    LIMIT $2 FOR UPDATE SKIP LOCKED);

-- name: retention_login_failures
-- Login back-off state a while after the last failure (a success already deleted its pair).
DELETE FROM login_failures WHERE key IN (
    SELECT key FROM login_failures WHERE last_at < now() - make_interval(secs => $1)
    AND (blocked_until IS NULL OR blocked_until < now())
    LIMIT $2 FOR UPDATE SKIP LOCKED);
