-- #17 item 1: proof-of-work confirmations (ALTCHA) and the code as a second step.
-- Small tables only (challenges, challenge_tokens): ADD COLUMN with a constant default is a catalogue
-- change in Postgres >= 11, no table rewrite and no long lock.

-- Where a challenge came from, so the answer mints the right kind of token and counts against the right cap.
ALTER TABLE challenges ADD COLUMN IF NOT EXISTS ip_hash text;
ALTER TABLE challenges ADD COLUMN IF NOT EXISTS after_proof boolean NOT NULL DEFAULT false;

-- How a token was earned: 'code' (the classic image/audio code), 'proof' (ALTCHA proof of work) or
-- 'proof+code' (a proof, then the code because the request looked risky).
ALTER TABLE challenge_tokens ADD COLUMN IF NOT EXISTS method text NOT NULL DEFAULT 'code';
ALTER TABLE challenge_tokens ADD COLUMN IF NOT EXISTS ip_hash text;
ALTER TABLE challenge_tokens ADD COLUMN IF NOT EXISTS author_id text;

-- Single use of a proof: a solved challenge is redeemed once; a replayed payload finds its row here.
CREATE TABLE IF NOT EXISTS proof_redemptions (
    challenge    text PRIMARY KEY,                       -- the challenge hash (unique per issued challenge)
    ip_hash      text,
    redeemed_at  timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL                    -- the challenge's own expiry: pruned after it
);
CREATE INDEX IF NOT EXISTS proof_redemptions_expires ON proof_redemptions (expires_at);
