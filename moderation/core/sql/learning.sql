-- Learning from moderators: label export, model registry, shadow scores.

-- name: moderator_labels
-- The latest human decision of every comment a moderator decided (an undo counts as that moderator's
-- latest word: its restored status is not a label, so undone comments are left out), with the moderator's
-- reason (the note) and the comment's language.
SELECT c.text, c.language, d.action, d.note
FROM comments c
JOIN LATERAL (SELECT action, actor, note FROM decisions WHERE comment_id = c.id ORDER BY id DESC LIMIT 1) d ON true
WHERE d.actor LIKE 'moderator:%' AND d.action IN ('approve', 'reject', 'spam', 'not_spam')
ORDER BY c.id;

-- name: registered_models
SELECT version, path, role, metadata, created_at, promoted_at FROM models
WHERE role IN ('active', 'shadow') ORDER BY role;

-- name: retire_shadow
UPDATE models SET role = 'retired' WHERE role = 'shadow';

-- name: register_shadow
INSERT INTO models (version, path, role, metadata) VALUES ($1, $2, 'shadow', $3)
ON CONFLICT (version) DO UPDATE SET path = EXCLUDED.path, role = 'shadow', metadata = EXCLUDED.metadata;

-- name: retire_active
UPDATE models SET role = 'retired' WHERE role = 'active';

-- name: promote_shadow
UPDATE models SET role = 'active', promoted_at = now() WHERE role = 'shadow' RETURNING version, path;

-- name: insert_shadow_score
INSERT INTO shadow_scores (comment_id, model_version, spam_score, abuse_score, would_status, active_status,
                           attributes)
VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING;

-- name: shadow_report
SELECT active_status, would_status, count(*) AS n FROM shadow_scores WHERE model_version = $1
GROUP BY active_status, would_status ORDER BY n DESC;

-- name: shadow_attribute_report
-- Per attribute, over the comments both models scored it for: how often the shadow lands on the same side
-- of the attribute's hold threshold as the active model (the thresholds stored with the comment), the mean
-- absolute difference of their scores, and how many each would hold.  $1 the shadow's version.
SELECT a.key AS attribute, count(*)::int AS n,
       count(*) FILTER (WHERE (a.value::float8 >= t.hold) = ((c.attributes->>a.key)::float8 >= t.hold))::int AS agree,
       avg(abs(a.value::float8 - (c.attributes->>a.key)::float8)) AS mean_abs_diff,
       count(*) FILTER (WHERE (c.attributes->>a.key)::float8 >= t.hold)::int AS active_holds,
       count(*) FILTER (WHERE a.value::float8 >= t.hold)::int AS shadow_holds
FROM shadow_scores s
JOIN comments c ON c.id = s.comment_id
CROSS JOIN LATERAL jsonb_each_text(s.attributes) a
CROSS JOIN LATERAL (
    SELECT coalesce((c.thresholds->>(CASE a.key WHEN 'spam' THEN 'spam_hold' WHEN 'toxicity' THEN 'abuse_hold'
                                                ELSE a.key || '_hold' END))::float8, 0.5) AS hold
) t
WHERE s.model_version = $1 AND s.attributes IS NOT NULL AND c.attributes ? a.key
GROUP BY a.key
ORDER BY a.key;
