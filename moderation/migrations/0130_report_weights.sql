-- Readers' reports carry who reported and how much it counts (moderation/readers/report_trust.py).
-- Constant defaults: no table rewrite; reports made before keep weight 1 (they counted fully then).
ALTER TABLE comment_reports
    ADD COLUMN IF NOT EXISTS reader_kind text NOT NULL DEFAULT 'anonymous'
        CHECK (reader_kind IN ('verified', 'unsigned', 'anonymous')),
    ADD COLUMN IF NOT EXISTS weight real NOT NULL DEFAULT 1 CHECK (weight >= 0);
