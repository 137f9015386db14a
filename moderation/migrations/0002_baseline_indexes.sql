-- migrate: no-transaction
-- 0002 baseline indexes: every index of the baseline schema, built CONCURRENTLY so that an install upgrading
-- from an earlier release keeps taking comments while the ones it lacks are built (e.g. the phrase index
-- comments_bigrams_pending, 15-20 s on a million comments).  Run statement by statement outside a
-- transaction; IF NOT EXISTS makes a re-run after a crash safe (the runner drops an INVALID half-built
-- index of these names first).  Frozen, like 0001.
CREATE INDEX CONCURRENTLY IF NOT EXISTS comments_article_status ON comments (article_id, status, id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS comments_fingerprint ON comments (fingerprint, received_at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS decisions_comment ON decisions (comment_id, id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS outbox_due ON outbox (next_attempt_at) WHERE delivered_at IS NULL AND failed_at IS NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS challenges_expires ON challenges (expires_at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS challenge_tokens_expires ON challenge_tokens (expires_at);
CREATE INDEX CONCURRENTLY IF NOT EXISTS moderator_sessions_moderator ON moderator_sessions (moderator_id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS comments_queue_risk ON comments (status, risk DESC, id DESC);
CREATE INDEX CONCURRENTLY IF NOT EXISTS comments_queue_age ON comments (status, received_at, id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS comments_search ON comments USING gin (search);
CREATE INDEX CONCURRENTLY IF NOT EXISTS comments_search_pending ON comments USING gin (search) WHERE status = 'pending';
CREATE INDEX CONCURRENTLY IF NOT EXISTS comments_bigrams_pending ON comments USING gin (comment_bigrams(search))
    WHERE status = 'pending';
CREATE INDEX CONCURRENTLY IF NOT EXISTS comments_author_status ON comments (author_id, status);
CREATE INDEX CONCURRENTLY IF NOT EXISTS comments_parent ON comments (parent_external_id) WHERE parent_external_id IS NOT NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS audit_log_actor ON audit_log (actor, id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS audit_log_action ON audit_log (action, id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS audit_log_target ON audit_log (target_type, target_id, id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS outbox_comment_undelivered ON outbox (comment_id, id)
    WHERE delivered_at IS NULL AND failed_at IS NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS reactions_reader ON reactions (reader_id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS reactions_ip_hash ON reactions (ip_hash) WHERE ip_hash IS NOT NULL;
CREATE INDEX CONCURRENTLY IF NOT EXISTS reaction_abuse_last ON reaction_abuse (last_at DESC);
CREATE INDEX CONCURRENTLY IF NOT EXISTS comments_public_order ON comments (article_id, created_at, id) WHERE status = 'approved';
CREATE INDEX CONCURRENTLY IF NOT EXISTS comments_public_parent ON comments (parent_external_id) WHERE status = 'approved';
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS models_one_active ON models (role) WHERE role = 'active';
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS models_one_shadow ON models (role) WHERE role = 'shadow';
-- Dropped from schema.sql over time; still present on databases made before: comments_author (4175ea8,
-- (author_id, status) serves every author lookup) and audit_log_at (195ca4b, filters walk the primary key).
DROP INDEX CONCURRENTLY IF EXISTS comments_author;
DROP INDEX CONCURRENTLY IF EXISTS audit_log_at;
