-- Login throttling per (account, network address) pair (moderation/review/login_throttle.py).

-- name: login_failures_wait
-- Seconds the pair must still wait ($1 pair key), or NULL.
SELECT extract(epoch FROM blocked_until - now())::float8 FROM login_failures WHERE key = $1 AND blocked_until > now();

-- name: login_failures_add
-- One more failure for the pair; returns the consecutive failures.
INSERT INTO login_failures AS f (key, failures, last_at) VALUES ($1, 1, now())
ON CONFLICT (key) DO UPDATE SET failures = f.failures + 1, last_at = now()
RETURNING failures;

-- name: login_failures_block
-- The pair waits $2 seconds from now (0: not at all).
UPDATE login_failures SET blocked_until = now() + make_interval(secs => $2::float8) WHERE key = $1;

-- name: login_failures_clear
DELETE FROM login_failures WHERE key = $1;
