-- Reactions: the write path is one call of reaction_apply() (schema.sql), so a reaction costs one round trip.

-- name: reaction_apply
SELECT * FROM reaction_apply($1, $2, $3, $4, $5::smallint, $6, $7::text[], $8::text[], $9::int[], $10::float8);

-- name: reaction_counts_one
SELECT coalesce(sum(likes), 0)::bigint AS likes, coalesce(sum(dislikes), 0)::bigint AS dislikes
FROM reaction_counts WHERE target_type = $1 AND target_id = $2;

-- name: reaction_counts_many
SELECT target_id, sum(likes)::bigint AS likes, sum(dislikes)::bigint AS dislikes
FROM reaction_counts WHERE target_type = $1 AND target_id = ANY($2::text[])
GROUP BY target_id;

-- name: reaction_of_reader
SELECT kind FROM reactions WHERE target_type = $1 AND target_id = $2 AND reader_id = $3;

-- name: reactions_of_reader_many
SELECT target_id, kind FROM reactions WHERE target_type = $1 AND target_id = ANY($2::text[]) AND reader_id = $3;

-- name: reaction_abuse_list
-- Refusals grouped per (who, target, window), newest first, with what that reader / IP still has standing.
SELECT a.scope, a.subject, a.target_type, a.target_id, a.window_start, a.window_s, a.refused, a.reader_id,
       a.ip_hash, a.first_at, a.last_at,
       CASE a.scope WHEN 'reader' THEN (SELECT count(*) FROM reactions r WHERE r.reader_id = a.subject)
                    ELSE (SELECT count(*) FROM reactions r WHERE r.ip_hash = a.subject) END AS standing_reactions
FROM reaction_abuse a
WHERE a.last_at >= $1 AND ($2::text IS NULL OR a.scope = $2)
ORDER BY a.last_at DESC
LIMIT $3;

-- name: reaction_purge
-- Remove every reaction of a reader (or of an IP hash) and take them out of the counters (schema.sql).
SELECT * FROM reaction_purge($1::text, $2::text);

-- name: reaction_audit
-- Targets whose counters disagree with their truth rows (should be none; `moderation reactions-check`).
WITH truth AS (
    SELECT target_type, target_id, count(*) FILTER (WHERE kind = 'like') AS likes,
           count(*) FILTER (WHERE kind = 'dislike') AS dislikes
    FROM reactions GROUP BY target_type, target_id
), counted AS (
    SELECT target_type, target_id, sum(likes) AS likes, sum(dislikes) AS dislikes
    FROM reaction_counts GROUP BY target_type, target_id
)
SELECT coalesce(t.target_type, c.target_type) AS target_type, coalesce(t.target_id, c.target_id) AS target_id,
       coalesce(t.likes, 0) AS true_likes, coalesce(t.dislikes, 0) AS true_dislikes,
       coalesce(c.likes, 0) AS counted_likes, coalesce(c.dislikes, 0) AS counted_dislikes
FROM truth t FULL JOIN counted c USING (target_type, target_id)
WHERE coalesce(t.likes, 0) <> coalesce(c.likes, 0) OR coalesce(t.dislikes, 0) <> coalesce(c.dislikes, 0);

-- name: reaction_repair_lock
-- Repairs block reaction writes for their (short) duration, so no delta lands between recount and rewrite.
LOCK TABLE reaction_counts IN SHARE ROW EXCLUSIVE MODE;

-- name: reaction_repair_delete
DELETE FROM reaction_counts WHERE target_type = $1 AND target_id = $2;

-- name: reaction_repair_target
-- Rebuild one target's counter shards from its truth rows (after reaction_repair_delete).
INSERT INTO reaction_counts (target_type, target_id, shard, likes, dislikes)
SELECT target_type, target_id, shard, count(*) FILTER (WHERE kind = 'like'), count(*) FILTER (WHERE kind = 'dislike')
FROM reactions WHERE target_type = $1 AND target_id = $2
GROUP BY target_type, target_id, shard;
