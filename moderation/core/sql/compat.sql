-- compat: API keys of the Perspective / Akismet protocols, and the labels their feedback sends.

-- name: api_key_insert
INSERT INTO api_keys (name, key_hash, prefix, rate_per_minute) VALUES ($1, $2, $3, $4) RETURNING id;

-- name: api_key_list
SELECT id, name, prefix, rate_per_minute, created_at, last_used_at, revoked_at
FROM api_keys ORDER BY revoked_at IS NOT NULL, name, id;

-- name: api_key_revoke
UPDATE api_keys SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL RETURNING id;

-- name: api_key_lookup
SELECT id, name, key_hash, rate_per_minute FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL;

-- name: api_key_live_ids
-- Which of these (cached) keys are still live: a revocation on another instance reaches this one.
SELECT id FROM api_keys WHERE id = ANY($1::bigint[]) AND revoked_at IS NULL;

-- name: api_key_touch
-- last_used_at, written in batches by the key cache (never once per request).
UPDATE api_keys SET last_used_at = now() WHERE id = ANY($1::bigint[]);

-- name: compat_label_insert
INSERT INTO compat_labels (api_key_id, protocol, text, language, label, attributes, client_token, community_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id;

-- name: compat_training_labels
-- Training rows for `moderation train --include-decisions`: text, language, label, attributes.
SELECT text, language, label, attributes FROM compat_labels ORDER BY id;

-- name: compat_blocked_ip
SELECT coalesce(nullif(reason, ''), 'blocked ip_hash') FROM blocked_authors WHERE kind = 'ip_hash' AND value = $1;

-- name: compat_blocked_ips
SELECT value, coalesce(nullif(reason, ''), 'blocked ip_hash') AS reason FROM blocked_authors
WHERE kind = 'ip_hash' LIMIT $1;

-- name: api_key_rate_add
-- Add each key's new hits to its shared window (rate_limits, bucket apikey:<id>); every instance's total back.
INSERT INTO rate_limits AS r (bucket, window_start, count)
SELECT t.bucket, to_timestamp($3), t.hits FROM unnest($1::text[], $2::int[]) AS t(bucket, hits)
ON CONFLICT (bucket, window_start) DO UPDATE SET count = r.count + EXCLUDED.count
RETURNING bucket, count;
