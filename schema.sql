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
