-- Login throttling per (account, network address) pair with exponential back-off
-- (moderation/review/login_throttle.py).  Keys are keyed hashes: no e-mail or address is stored.
CREATE TABLE IF NOT EXISTS login_failures (
    key           text PRIMARY KEY,
    failures      integer NOT NULL DEFAULT 0,
    blocked_until timestamptz,
    last_at       timestamptz NOT NULL DEFAULT now()
);
