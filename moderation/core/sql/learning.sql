-- Learning from moderators: label export, model registry, shadow scores.

-- name: moderator_labels
-- The latest human decision of every comment a moderator decided (an undo counts as that moderator's
-- latest word: its restored status is not a label, so undone comments are left out).
SELECT c.text, d.action
FROM comments c
JOIN LATERAL (SELECT action, actor FROM decisions WHERE comment_id = c.id ORDER BY id DESC LIMIT 1) d ON true
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
