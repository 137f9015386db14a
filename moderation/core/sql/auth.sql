-- Moderator accounts, UI sessions and API tokens (moderation/review/auth.py).

-- name: auth_insert_moderator
INSERT INTO moderators (email, password_hash, role) VALUES ($1, $2, $3)
RETURNING id, email, role;

-- name: auth_moderator_by_email
SELECT id, email, role, password_hash FROM moderators WHERE email = $1 AND disabled_at IS NULL;

-- name: auth_moderator_by_id
SELECT id, email, role FROM moderators WHERE id = $1 AND disabled_at IS NULL;

-- name: auth_set_password_hash
-- Re-hash on login when argon2 parameters changed (PasswordHasher.check_needs_rehash).
UPDATE moderators SET password_hash = $2 WHERE id = $1;

-- name: auth_set_password
UPDATE moderators SET password_hash = $2 WHERE email = $1 RETURNING id, email, role;

-- name: auth_touch_login
UPDATE moderators SET last_login_at = now() WHERE id = $1;

-- name: auth_list_moderators
SELECT id, email, role, created_at, last_login_at, disabled_at FROM moderators ORDER BY id;

-- name: auth_insert_session
INSERT INTO moderator_sessions (id_hash, moderator_id, csrf_token, expires_at, absolute_expires_at, user_agent)
VALUES ($1, $2, $3, now() + make_interval(secs => $4), now() + make_interval(secs => $5), $6);

-- name: auth_lookup_session
SELECT m.id, m.email, m.role, s.csrf_token, s.expires_at, s.last_seen_at,
       extract(epoch FROM (now() - s.last_seen_at))::float8 AS idle_s
FROM moderator_sessions s JOIN moderators m ON m.id = s.moderator_id
WHERE s.id_hash = $1 AND s.expires_at > now() AND s.absolute_expires_at > now() AND m.disabled_at IS NULL;

-- name: auth_touch_session
-- Sliding expiry, written at most once a minute per session (see auth.SESSION_TOUCH_S).
UPDATE moderator_sessions
SET last_seen_at = now(), expires_at = least(now() + make_interval(secs => $2), absolute_expires_at)
WHERE id_hash = $1;

-- name: auth_delete_session
DELETE FROM moderator_sessions WHERE id_hash = $1;

-- name: auth_delete_moderator_sessions
WITH gone AS (DELETE FROM moderator_sessions WHERE moderator_id = $1 RETURNING 1) SELECT count(*)::int FROM gone;

-- name: auth_revoke_moderator_tokens
-- A password reset or a disabled account ends every API token of the moderator (counted for the audit).
WITH gone AS (UPDATE api_tokens SET revoked_at = now() WHERE moderator_id = $1 AND revoked_at IS NULL RETURNING 1)
SELECT count(*)::int FROM gone;

-- name: auth_prune_sessions
DELETE FROM moderator_sessions WHERE expires_at < now() OR absolute_expires_at < now();

-- name: auth_insert_token
INSERT INTO api_tokens (moderator_id, name, token_hash, prefix, expires_at)
VALUES ($1, $2, $3, $4, CASE WHEN $5::float8 IS NULL THEN NULL ELSE now() + make_interval(secs => $5::float8) END)
RETURNING id;

-- name: auth_lookup_token
SELECT m.id, m.email, m.role, t.id AS token_id,
       (t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute') AS stale
FROM api_tokens t JOIN moderators m ON m.id = t.moderator_id
WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())
  AND m.disabled_at IS NULL;

-- name: auth_touch_token
UPDATE api_tokens SET last_used_at = now() WHERE id = $1;

-- name: auth_revoke_token
UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING id, moderator_id, name;

-- name: auth_get_token
SELECT t.id, t.name, t.prefix, t.moderator_id, m.email, t.created_at, t.expires_at, t.last_used_at, t.revoked_at
FROM api_tokens t JOIN moderators m ON m.id = t.moderator_id WHERE t.id = $1;

-- name: auth_list_tokens
SELECT t.id, t.name, t.prefix, t.moderator_id, m.email, t.created_at, t.expires_at, t.last_used_at, t.revoked_at
FROM api_tokens t JOIN moderators m ON m.id = t.moderator_id
ORDER BY t.revoked_at IS NOT NULL, t.id DESC;

-- name: ui_tab_counts
-- Queue tab badges, capped so each is a short index-only scan however big the table grows.
SELECT s.status, (SELECT count(*) FROM (SELECT 1 FROM comments c WHERE c.status = s.status LIMIT $1) x)::int AS n
FROM unnest(ARRAY['pending', 'spam']) AS s(status);


-- name: auth_disable_moderator
UPDATE moderators SET disabled_at = CASE WHEN $2 THEN coalesce(disabled_at, now()) ELSE NULL END
WHERE email = $1 RETURNING id, email, role, disabled_at;
