-- The database, whole.  Applied at every start; every statement is idempotent.
-- Capabilities append their own section; keep each section's objects together.

-- ── spine: comments, decisions, webhook receipts, outbox ─────────────────────────────
CREATE TABLE IF NOT EXISTS articles (
    id          text PRIMARY KEY,
    url         text,
    title       text,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS comments (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    external_id         text NOT NULL UNIQUE,            -- the CMS's comment id
    article_id          text NOT NULL REFERENCES articles(id),
    parent_external_id  text,
    author_id           text NOT NULL,
    author_name         text NOT NULL,
    author_email_hash   text,                            -- HMAC, never the address
    author_ip_hash      text,                            -- HMAC, never the address
    text                text NOT NULL,
    fingerprint         text NOT NULL,                   -- normalised-text hash for repeated-text detection
    status              text NOT NULL CHECK (status IN ('approved', 'pending', 'spam', 'rejected', 'deleted')),
    spam_score          real,                            -- NULL when unscored
    abuse_score         real,
    risk                real GENERATED ALWAYS AS (greatest(coalesce(spam_score, 1), coalesce(abuse_score, 1))) STORED,
    model_version       text,
    reasons             jsonb NOT NULL DEFAULT '[]',
    reason_codes        text[] NOT NULL DEFAULT '{}',
    thresholds          jsonb,
    created_at          timestamptz NOT NULL,            -- when the reader wrote it (CMS clock)
    received_at         timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    search              tsvector GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED
);
CREATE INDEX IF NOT EXISTS comments_article_status ON comments (article_id, status, id);
CREATE INDEX IF NOT EXISTS comments_fingerprint ON comments (fingerprint, received_at);
CREATE INDEX IF NOT EXISTS comments_author ON comments (author_id);

-- One row per status change or score, automatic or human: the explanation of every past decision.
CREATE TABLE IF NOT EXISTS decisions (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    comment_id     bigint NOT NULL REFERENCES comments(id) ON DELETE CASCADE,
    actor          text NOT NULL,                        -- 'system' or 'moderator:<id>'
    action         text NOT NULL,                        -- created, updated, deleted, approve, reject, spam, not_spam, undo
    from_status    text,
    to_status      text NOT NULL,
    spam_score     real,
    abuse_score    real,
    model_version  text,
    thresholds     jsonb,
    reasons        jsonb NOT NULL DEFAULT '[]',
    note           text,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS decisions_comment ON decisions (comment_id, id);

-- Standard Webhooks idempotency: the first answer to a webhook-id is the answer to every replay.
CREATE TABLE IF NOT EXISTS webhook_receipts (
    webhook_id   text PRIMARY KEY,
    status       int NOT NULL,
    response     jsonb NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now()
);

-- Transactional outbox: written in the same transaction as the status change it announces.
CREATE TABLE IF NOT EXISTS outbox (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_type       text NOT NULL,                      -- comment.approved, comment.rejected, ...
    comment_id       bigint REFERENCES comments(id) ON DELETE CASCADE,
    payload          jsonb NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    attempts         int NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    locked_until     timestamptz,
    delivered_at     timestamptz,
    failed_at        timestamptz,                        -- gave up (endpoint gone, or too many attempts)
    last_error       text
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (next_attempt_at) WHERE delivered_at IS NULL AND failed_at IS NULL;

-- Authors and IP hashes whose future comments are rejected on arrival.
CREATE TABLE IF NOT EXISTS blocked_authors (
    kind        text NOT NULL CHECK (kind IN ('author', 'ip_hash')),
    value       text NOT NULL,
    reason      text NOT NULL DEFAULT '',
    created_by  text NOT NULL DEFAULT 'system',
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, value)
);

-- Moderator-editable word lists used by the classifier's rule layer.
CREATE TABLE IF NOT EXISTS word_lists (
    list        text NOT NULL CHECK (list IN ('banned', 'suspect')),
    term        text NOT NULL,
    created_by  text NOT NULL DEFAULT 'system',
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (list, term)
);

-- Fixed-window rate-limit counters shared by every instance (challenges, reactions, ...).
CREATE TABLE IF NOT EXISTS rate_limits (
    bucket        text NOT NULL,
    window_start  timestamptz NOT NULL,
    count         int NOT NULL,
    PRIMARY KEY (bucket, window_start)
);

-- ── challenges: confirmation codes and the single-use tokens they earn ───────────────────────
-- The code itself is never stored: it is HMAC(hashing key, id + salt) mapped onto the code alphabet,
-- so the row alone (without the key, which lives only in the service's config) does not reveal it.
CREATE TABLE IF NOT EXISTS challenges (
    id              text PRIMARY KEY,                    -- secrets.token_urlsafe: unguessable, not sequential
    salt            bytea NOT NULL,                      -- secrets.token_bytes(16)
    code_hash       text NOT NULL,                       -- keyed hash of the code; answers compare against it
    code_length     int NOT NULL,
    article_id      text NOT NULL,
    action          text NOT NULL,
    cdata           text,
    hostname        text,                                -- where the widget was shown (Origin/Referer host)
    attempts        int NOT NULL DEFAULT 0,              -- wrong answers so far; 5 burns the challenge
    image_renders   int NOT NULL DEFAULT 0,              -- capped: many renders of one code help OCR averaging
    audio_renders   int NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    answered_at     timestamptz
);
CREATE INDEX IF NOT EXISTS challenges_expires ON challenges (expires_at);

CREATE TABLE IF NOT EXISTS challenge_tokens (
    token_hash       text PRIMARY KEY,                   -- keyed hash; the token itself is only in the answer
    challenge_id     text NOT NULL,                      -- no FK: tokens outlive their (cleaned-up) challenge
    article_id       text NOT NULL,
    action           text NOT NULL,
    cdata            text,
    hostname         text,
    issued_at        timestamptz NOT NULL DEFAULT now(), -- Turnstile's challenge_ts
    expires_at       timestamptz NOT NULL,
    used_at          timestamptz,
    used_by          text,                               -- 'siteverify' or 'webhook'
    idempotency_key  text                                -- siteverify may re-verify with the same key
);
CREATE INDEX IF NOT EXISTS challenge_tokens_expires ON challenge_tokens (expires_at);

-- ── review: accounts ─────────────────────────────────────────────────────────────────
-- Moderators log in to the UI (session cookie) or call the API (bearer token).  Secrets only as hashes:
-- passwords with argon2id, session ids and API tokens (256 random bits each) with SHA-256.
CREATE TABLE IF NOT EXISTS moderators (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email          text NOT NULL UNIQUE CHECK (email = lower(email) AND email <> ''),
    password_hash  text NOT NULL,
    role           text NOT NULL CHECK (role IN ('admin', 'moderator')),
    created_at     timestamptz NOT NULL DEFAULT now(),
    last_login_at  timestamptz,
    disabled_at    timestamptz
);

-- UI sessions live in Postgres so any instance can serve any request; the cookie holds the raw id.
CREATE TABLE IF NOT EXISTS moderator_sessions (
    id_hash              text PRIMARY KEY,                 -- sha256 of the cookie value
    moderator_id         bigint NOT NULL REFERENCES moderators(id) ON DELETE CASCADE,
    csrf_token           text NOT NULL,                    -- synchronizer token bound to this session
    created_at           timestamptz NOT NULL DEFAULT now(),
    last_seen_at         timestamptz NOT NULL DEFAULT now(),
    expires_at           timestamptz NOT NULL,             -- idle expiry, slides on use
    absolute_expires_at  timestamptz NOT NULL,             -- hard cap, never slides
    user_agent           text
);
CREATE INDEX IF NOT EXISTS moderator_sessions_moderator ON moderator_sessions (moderator_id);

CREATE TABLE IF NOT EXISTS api_tokens (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    moderator_id  bigint NOT NULL REFERENCES moderators(id) ON DELETE CASCADE,
    name          text NOT NULL,
    token_hash    text NOT NULL UNIQUE,                    -- sha256 of the token; the token is shown once
    prefix        text NOT NULL,                           -- first characters, to recognise a token in lists
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz,
    last_used_at  timestamptz,
    revoked_at    timestamptz
);

-- ── review: queue & audit ──────────────────────────────────────────────────────────────────────────
-- Claims: a lease on a pending comment so concurrent moderators get disjoint work; an expired lease
-- simply stops counting, so abandoned claims return to the queue without a sweeper.
-- (columns added to the spine's comments table for the review queue)
ALTER TABLE comments ADD COLUMN IF NOT EXISTS claimed_by bigint;
ALTER TABLE comments ADD COLUMN IF NOT EXISTS claim_expires_at timestamptz;
-- Queue pages walk these in order (risk: highest first; age: oldest first) for keyset pagination.
CREATE INDEX IF NOT EXISTS comments_queue_risk ON comments (status, risk DESC, id DESC);
CREATE INDEX IF NOT EXISTS comments_queue_age ON comments (status, received_at, id);
-- Keyword search over comments.search (a generated tsvector column of the spine).
CREATE INDEX IF NOT EXISTS comments_search ON comments USING gin (search);
CREATE INDEX IF NOT EXISTS comments_parent ON comments (parent_external_id) WHERE parent_external_id IS NOT NULL;

-- Append-only audit log of every moderator/admin action; a trigger refuses UPDATE, DELETE and TRUNCATE.
CREATE TABLE IF NOT EXISTS audit_log (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    actor        text NOT NULL,                        -- 'moderator:<id>', 'system', 'cli'
    action       text NOT NULL,                        -- decision.approve, decision.undo, commenter.block, ...
    target_type  text NOT NULL,                        -- comment, decision, commenter, word_list, outbox, ...
    target_id    text NOT NULL,
    before       jsonb,
    after        jsonb,
    reason       text
);
CREATE INDEX IF NOT EXISTS audit_log_actor ON audit_log (actor, id);
CREATE INDEX IF NOT EXISTS audit_log_action ON audit_log (action, id);
CREATE INDEX IF NOT EXISTS audit_log_target ON audit_log (target_type, target_id, id);
CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log (at);

CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
DROP TRIGGER IF EXISTS audit_log_no_change ON audit_log;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log;
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- ── outbox ─────────────────────────────────────────────────────────────────────────────────────────
-- (columns/indexes added to the spine's outbox table for the delivery worker)
-- webhook-id sent with every attempt of a row: stable, so the CMS can drop at-least-once duplicates.
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS webhook_id text NOT NULL
    DEFAULT ('msg_' || replace(gen_random_uuid()::text, '-', ''));
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS last_status int;            -- HTTP status of the last attempt
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS last_attempt_at timestamptz;
-- Per-comment ordering: a row waits while an older undelivered row for the same comment exists.
CREATE INDEX IF NOT EXISTS outbox_comment_undelivered ON outbox (comment_id, id)
    WHERE delivered_at IS NULL AND failed_at IS NULL;

-- Endpoint state: a 410 Gone disables deliveries to that URL until an admin re-enables it.
CREATE TABLE IF NOT EXISTS callback_endpoints (
    url              text PRIMARY KEY,
    disabled_at      timestamptz,
    disabled_reason  text,
    updated_by       text NOT NULL DEFAULT 'system',
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- ── reactions: likes/dislikes on articles and comments, exact counts, abuse log ─────────────
-- Truth: one row per (target, reader).  Counts: per-target counter rows split into shards (the shard is
-- chosen by a hash of the reader and stored on the truth row), changed in the SAME transaction as the
-- truth row by reaction_apply() below, so sum(shards) = count(truth rows) at every commit.  Sharding lets
-- concurrent reactions to one viral target lock different counter rows instead of queueing on one.
CREATE TABLE IF NOT EXISTS reactions (
    target_type  text NOT NULL CHECK (target_type IN ('article', 'comment')),
    target_id    text NOT NULL,                          -- articles.id, or comments.id as text
    reader_id    text NOT NULL,                          -- 'cms:<id from the CMS>' or 'anon:<signed cookie id>'
    kind         text NOT NULL CHECK (kind IN ('like', 'dislike')),
    shard        smallint NOT NULL,                      -- which reaction_counts row this reaction is counted in
    ip_hash      text,                                   -- HMAC of the reader's IP: lets moderators purge by IP
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (target_type, target_id, reader_id)
);
CREATE INDEX IF NOT EXISTS reactions_reader ON reactions (reader_id);
CREATE INDEX IF NOT EXISTS reactions_ip_hash ON reactions (ip_hash) WHERE ip_hash IS NOT NULL;

CREATE TABLE IF NOT EXISTS reaction_counts (
    target_type  text NOT NULL,
    target_id    text NOT NULL,
    shard        smallint NOT NULL,
    likes        bigint NOT NULL DEFAULT 0 CHECK (likes >= 0),
    dislikes     bigint NOT NULL DEFAULT 0 CHECK (dislikes >= 0),
    PRIMARY KEY (target_type, target_id, shard)
);

-- Rate-limit refusals, one row per (who, target, window): what GET /v1/reactions/abuse shows moderators.
CREATE TABLE IF NOT EXISTS reaction_abuse (
    scope         text NOT NULL CHECK (scope IN ('reader', 'ip')),
    subject       text NOT NULL,                         -- the reader id, or the IP hash
    target_type   text NOT NULL,
    target_id     text NOT NULL,
    window_start  timestamptz NOT NULL,
    window_s      real NOT NULL,
    refused       int NOT NULL DEFAULT 0,                -- requests refused with 429 in this window
    reader_id     text,                                  -- last reader seen (for scope 'ip')
    ip_hash       text,                                  -- last IP hash seen (for scope 'reader')
    first_at      timestamptz NOT NULL DEFAULT now(),
    last_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, subject, target_type, target_id, window_start)
);
CREATE INDEX IF NOT EXISTS reaction_abuse_last ON reaction_abuse (last_at DESC);

-- Public comment list: approved comments of an article in reading order.  Added by the reactions
-- capability (public API); partial, so it stays small and the list/total are index(-only) scans.
CREATE INDEX IF NOT EXISTS comments_public_order ON comments (article_id, created_at, id) WHERE status = 'approved';
CREATE INDEX IF NOT EXISTS comments_public_parent ON comments (parent_external_id) WHERE status = 'approved';

-- One reaction change, atomically, in one round trip: rate limits, target check, truth row, counter shard.
-- p_kind NULL takes the reaction back.  Returns outcome 'ok' | 'not_found' | 'limited'.
CREATE OR REPLACE FUNCTION reaction_apply(
    p_type text, p_target text, p_reader text, p_kind text, p_shard smallint, p_ip_hash text,
    p_scopes text[], p_subjects text[], p_limits int[], p_window float8)
RETURNS TABLE (outcome text, old_kind text, new_kind text, likes bigint, dislikes bigint,
               retry_after float8, limited_scope text)
LANGUAGE plpgsql AS $$
DECLARE
    v_old text;
    v_shard smallint;
    v_count int;
    v_left float8;
    v_window timestamptz := to_timestamp(floor(extract(epoch FROM now()) / p_window) * p_window);
BEGIN
    -- 1. fixed-window rate limits (same table and arithmetic as moderation/ratelimit.py)
    FOR i IN 1 .. coalesce(array_length(p_scopes, 1), 0) LOOP
        INSERT INTO rate_limits AS r (bucket, window_start, count)
        VALUES ('reaction:' || p_scopes[i] || ':' || p_subjects[i], v_window, 1)
        ON CONFLICT (bucket, window_start) DO UPDATE SET count = r.count + 1
        RETURNING r.count INTO v_count;
        IF v_count > p_limits[i] THEN
            v_left := greatest(extract(epoch FROM (v_window + make_interval(secs => p_window) - now())), 0);
            INSERT INTO reaction_abuse AS a (scope, subject, target_type, target_id, window_start, window_s,
                                             refused, reader_id, ip_hash)
            VALUES (p_scopes[i], p_subjects[i], p_type, p_target, v_window, p_window, 1, p_reader, p_ip_hash)
            ON CONFLICT (scope, subject, target_type, target_id, window_start) DO UPDATE
                SET refused = a.refused + 1, last_at = now(), reader_id = EXCLUDED.reader_id,
                    ip_hash = EXCLUDED.ip_hash;
            RETURN QUERY SELECT 'limited'::text, NULL::text, NULL::text, NULL::bigint, NULL::bigint,
                                v_left, p_scopes[i];
            RETURN;
        END IF;
    END LOOP;

    -- 2. comments take reactions only while published.  A plain read, not FOR SHARE: share locks on a
    -- viral comment would turn its row into a multixact hot spot.  A reaction racing an unpublish is
    -- harmless: the comment is hidden, and its count is right again if it is re-approved.
    IF p_type = 'comment' AND NOT EXISTS (
            SELECT 1 FROM comments WHERE id = p_target::bigint AND status = 'approved') THEN
        RETURN QUERY SELECT 'not_found'::text, NULL::text, NULL::text, NULL::bigint, NULL::bigint,
                            NULL::float8, NULL::text;
        RETURN;
    END IF;

    -- 3. the truth row; v_old is the kind it replaced (NULL when there was none)
    IF p_kind IS NULL THEN
        DELETE FROM reactions r WHERE r.target_type = p_type AND r.target_id = p_target AND r.reader_id = p_reader
        RETURNING r.kind, r.shard INTO v_old, v_shard;
    ELSE
        LOOP
            SELECT r.kind, r.shard INTO v_old, v_shard FROM reactions r
            WHERE r.target_type = p_type AND r.target_id = p_target AND r.reader_id = p_reader FOR UPDATE;
            IF FOUND THEN
                IF v_old <> p_kind THEN
                    UPDATE reactions r SET kind = p_kind, updated_at = now(), ip_hash = coalesce(p_ip_hash, r.ip_hash)
                    WHERE r.target_type = p_type AND r.target_id = p_target AND r.reader_id = p_reader;
                END IF;
                EXIT;
            END IF;
            INSERT INTO reactions (target_type, target_id, reader_id, kind, shard, ip_hash)
            VALUES (p_type, p_target, p_reader, p_kind, p_shard, p_ip_hash)
            ON CONFLICT DO NOTHING;
            IF FOUND THEN
                v_old := NULL;
                v_shard := p_shard;
                EXIT;
            END IF;
            -- a concurrent request of the same reader inserted first and has committed: lock its row
        END LOOP;
    END IF;

    -- 4. the counter shard, by the delta between the old and the new kind
    -- (an UPDATE when the reaction existed: its shard row exists too, and CHECK (>= 0) would refuse an
    -- INSERT of a negative delta even on the ON CONFLICT path)
    IF v_old IS NULL AND p_kind IS NOT NULL THEN
        INSERT INTO reaction_counts AS c (target_type, target_id, shard, likes, dislikes)
        VALUES (p_type, p_target, v_shard, (p_kind = 'like')::int, (p_kind = 'dislike')::int)
        ON CONFLICT (target_type, target_id, shard) DO UPDATE
            SET likes = c.likes + EXCLUDED.likes, dislikes = c.dislikes + EXCLUDED.dislikes;
    ELSIF v_old IS DISTINCT FROM p_kind THEN
        UPDATE reaction_counts c
        SET likes = c.likes + (p_kind IS NOT DISTINCT FROM 'like')::int - (v_old = 'like')::int,
            dislikes = c.dislikes + (p_kind IS NOT DISTINCT FROM 'dislike')::int - (v_old = 'dislike')::int
        WHERE c.target_type = p_type AND c.target_id = p_target AND c.shard = v_shard;
    END IF;

    RETURN QUERY
        SELECT 'ok'::text, v_old, p_kind, coalesce(sum(c.likes), 0)::bigint, coalesce(sum(c.dislikes), 0)::bigint,
               NULL::float8, NULL::text
        FROM reaction_counts c WHERE c.target_type = p_type AND c.target_id = p_target;
END
$$;
