-- 0160: a webhook receipt remembers the sha256 of the body it answered, so that the same webhook-id with a
-- different body is refused (409 idempotency-key-reused) instead of silently getting the first answer.
-- Nullable, no default: adding it rewrites nothing (a brief lock on webhook_receipts, under lock_timeout).
-- Receipts stored before it have NULL and are replayed as before.
ALTER TABLE webhook_receipts ADD COLUMN IF NOT EXISTS body_sha256 bytea;
