-- Languages and per-attribute scores (issue #14): each comment's detected language (ISO 639-1, 'und' when
-- unknown) and its calibrated score per attribute (toxicity, threat, ... spam); decision rows keep the
-- attribute scores they were made with, shadow scores the shadow model's.  Nullable, no default: adding
-- them rewrites nothing (a brief lock, no table scan).
ALTER TABLE comments ADD COLUMN IF NOT EXISTS language text;
ALTER TABLE comments ADD COLUMN IF NOT EXISTS attributes jsonb;
ALTER TABLE decisions ADD COLUMN IF NOT EXISTS attributes jsonb;
ALTER TABLE shadow_scores ADD COLUMN IF NOT EXISTS attributes jsonb;
