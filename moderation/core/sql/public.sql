-- The public (reader-facing) comment API: only status = 'approved' is ever selected here.

-- name: public_article
SELECT id, url, title FROM articles WHERE id = $1;

-- name: public_summary
-- The article summary in one statement: counter shards, published total, the reader's reaction ($2 may be NULL).
SELECT (SELECT coalesce(sum(likes), 0)::bigint FROM reaction_counts
        WHERE target_type = 'article' AND target_id = $1) AS likes,
       (SELECT coalesce(sum(dislikes), 0)::bigint FROM reaction_counts
        WHERE target_type = 'article' AND target_id = $1) AS dislikes,
       (SELECT count(*) FROM comments WHERE article_id = $1 AND status = 'approved') AS total,
       (SELECT kind FROM reactions WHERE target_type = 'article' AND target_id = $1 AND reader_id = $2) AS mine;

-- name: public_page_newest
-- One statement (so one snapshot, one round trip) for a whole page: the article summary, $4
-- thread roots (approved comments without a visible parent: none, or one that is not published),
-- keyset-paginated on (created_at, id), every approved descendant of those roots (a reply under a hidden
-- comment is hidden with it), each with its summed counter shards and the reader's own reaction.
-- There is always one row (the summary); comment columns are NULL when the page is empty.
WITH RECURSIVE summary AS (
    SELECT (SELECT coalesce(sum(likes), 0)::bigint FROM reaction_counts
            WHERE target_type = 'article' AND target_id = $1) AS a_likes,
           (SELECT coalesce(sum(dislikes), 0)::bigint FROM reaction_counts
            WHERE target_type = 'article' AND target_id = $1) AS a_dislikes,
           (SELECT count(*) FROM comments WHERE article_id = $1 AND status = 'approved') AS a_total,
           (SELECT kind FROM reactions WHERE target_type = 'article' AND target_id = $1 AND reader_id = $5)
               AS a_mine
), roots AS (
    SELECT c.id, c.external_id, c.parent_external_id, c.author_name, c.text, c.created_at
    FROM comments c
    WHERE c.article_id = $1 AND c.status = 'approved' AND (c.created_at, c.id) < ($2::timestamptz, $3::bigint)
      -- a scalar subquery, so it stays a per-row probe of the unique external_id index under the LIMIT
      -- (NOT EXISTS / an anti-join were planned as a hash over every comment of the article)
      AND (c.parent_external_id IS NULL
           OR (SELECT p.status = 'approved' AND p.article_id = c.article_id
               FROM comments p WHERE p.external_id = c.parent_external_id) IS NOT TRUE)
    ORDER BY c.created_at DESC, c.id DESC
    LIMIT $4
), ranked AS (
    SELECT r.*, row_number() OVER (ORDER BY r.created_at DESC, r.id DESC) AS root_rank FROM roots r
), tree AS (
    SELECT c.id, c.external_id, c.parent_external_id, c.author_name, c.text, c.created_at, 1 AS depth
    FROM comments c
    WHERE c.article_id = $1 AND c.status = 'approved' AND c.parent_external_id IN (SELECT external_id FROM roots)
    UNION ALL
    SELECT c.id, c.external_id, c.parent_external_id, c.author_name, c.text, c.created_at, t.depth + 1
    FROM comments c JOIN tree t ON c.parent_external_id = t.external_id
    WHERE c.article_id = $1 AND c.status = 'approved' AND t.depth < 50
), page AS (
    SELECT id, external_id, parent_external_id, author_name, text, created_at, 0 AS depth, root_rank FROM ranked
    UNION ALL
    SELECT id, external_id, parent_external_id, author_name, text, created_at, depth, NULL FROM tree
)
SELECT s.a_likes, s.a_dislikes, s.a_total, s.a_mine, e.id, e.external_id, e.parent_external_id, e.author_name,
       e.text, e.created_at, e.depth, e.root_rank, coalesce(k.likes, 0)::bigint AS likes,
       coalesce(k.dislikes, 0)::bigint AS dislikes, m.kind AS my_reaction
FROM summary s
LEFT JOIN page e ON true
LEFT JOIN LATERAL (
    SELECT sum(rc.likes) AS likes, sum(rc.dislikes) AS dislikes FROM reaction_counts rc
    WHERE rc.target_type = 'comment' AND rc.target_id = e.id::text) k ON e.id IS NOT NULL
LEFT JOIN reactions m ON m.target_type = 'comment' AND m.target_id = e.id::text AND m.reader_id = $5
ORDER BY e.root_rank NULLS LAST, e.depth, e.created_at, e.id;  -- parents before their replies

-- name: public_page_oldest
-- One statement (so one snapshot, one round trip) for a whole page: the article summary, $4
-- thread roots (approved comments without a visible parent: none, or one that is not published),
-- keyset-paginated on (created_at, id), every approved descendant of those roots (a reply under a hidden
-- comment is hidden with it), each with its summed counter shards and the reader's own reaction.
-- There is always one row (the summary); comment columns are NULL when the page is empty.
WITH RECURSIVE summary AS (
    SELECT (SELECT coalesce(sum(likes), 0)::bigint FROM reaction_counts
            WHERE target_type = 'article' AND target_id = $1) AS a_likes,
           (SELECT coalesce(sum(dislikes), 0)::bigint FROM reaction_counts
            WHERE target_type = 'article' AND target_id = $1) AS a_dislikes,
           (SELECT count(*) FROM comments WHERE article_id = $1 AND status = 'approved') AS a_total,
           (SELECT kind FROM reactions WHERE target_type = 'article' AND target_id = $1 AND reader_id = $5)
               AS a_mine
), roots AS (
    SELECT c.id, c.external_id, c.parent_external_id, c.author_name, c.text, c.created_at
    FROM comments c
    WHERE c.article_id = $1 AND c.status = 'approved' AND (c.created_at, c.id) > ($2::timestamptz, $3::bigint)
      -- a scalar subquery, so it stays a per-row probe of the unique external_id index under the LIMIT
      -- (NOT EXISTS / an anti-join were planned as a hash over every comment of the article)
      AND (c.parent_external_id IS NULL
           OR (SELECT p.status = 'approved' AND p.article_id = c.article_id
               FROM comments p WHERE p.external_id = c.parent_external_id) IS NOT TRUE)
    ORDER BY c.created_at, c.id
    LIMIT $4
), ranked AS (
    SELECT r.*, row_number() OVER (ORDER BY r.created_at, r.id) AS root_rank FROM roots r
), tree AS (
    SELECT c.id, c.external_id, c.parent_external_id, c.author_name, c.text, c.created_at, 1 AS depth
    FROM comments c
    WHERE c.article_id = $1 AND c.status = 'approved' AND c.parent_external_id IN (SELECT external_id FROM roots)
    UNION ALL
    SELECT c.id, c.external_id, c.parent_external_id, c.author_name, c.text, c.created_at, t.depth + 1
    FROM comments c JOIN tree t ON c.parent_external_id = t.external_id
    WHERE c.article_id = $1 AND c.status = 'approved' AND t.depth < 50
), page AS (
    SELECT id, external_id, parent_external_id, author_name, text, created_at, 0 AS depth, root_rank FROM ranked
    UNION ALL
    SELECT id, external_id, parent_external_id, author_name, text, created_at, depth, NULL FROM tree
)
SELECT s.a_likes, s.a_dislikes, s.a_total, s.a_mine, e.id, e.external_id, e.parent_external_id, e.author_name,
       e.text, e.created_at, e.depth, e.root_rank, coalesce(k.likes, 0)::bigint AS likes,
       coalesce(k.dislikes, 0)::bigint AS dislikes, m.kind AS my_reaction
FROM summary s
LEFT JOIN page e ON true
LEFT JOIN LATERAL (
    SELECT sum(rc.likes) AS likes, sum(rc.dislikes) AS dislikes FROM reaction_counts rc
    WHERE rc.target_type = 'comment' AND rc.target_id = e.id::text) k ON e.id IS NOT NULL
LEFT JOIN reactions m ON m.target_type = 'comment' AND m.target_id = e.id::text AND m.reader_id = $5
ORDER BY e.root_rank NULLS LAST, e.depth, e.created_at, e.id;  -- parents before their replies

-- name: public_article_title
SELECT title FROM articles WHERE id = $1;
