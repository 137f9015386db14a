-- compat (#15): API keys of the Perspective / Akismet protocols and the labels their feedback calls send.
-- New tables only: no lock on comments/outbox.
CREATE TABLE IF NOT EXISTS api_keys (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name             text NOT NULL,
    key_hash         text NOT NULL UNIQUE,
    prefix           text NOT NULL,
    rate_per_minute  integer,
    created_at       timestamptz NOT NULL DEFAULT now(),
    last_used_at     timestamptz,
    revoked_at       timestamptz
);
CREATE UNIQUE INDEX IF NOT EXISTS api_keys_live_name ON api_keys (name) WHERE revoked_at IS NULL;

CREATE TABLE IF NOT EXISTS compat_labels (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    api_key_id    bigint REFERENCES api_keys(id) ON DELETE SET NULL,
    protocol      text NOT NULL CHECK (protocol IN ('perspective', 'akismet')),
    text          text NOT NULL,
    language      text NOT NULL DEFAULT '',
    label         text NOT NULL CHECK (label IN ('spam', 'ham', 'abusive', 'clean')),
    attributes    jsonb NOT NULL DEFAULT '{}',
    client_token  text,
    community_id  text,
    created_at    timestamptz NOT NULL DEFAULT now()
);
