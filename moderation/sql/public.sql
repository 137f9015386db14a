-- The public (reader-facing) comment API: only status = 'approved' is ever selected here.

-- name: public_article
SELECT id, url, title FROM articles WHERE id = $1;

-- name: public_total
SELECT count(*) FROM comments WHERE article_id = $1 AND status = 'approved';

-- name: public_roots_newest
-- Thread roots: approved comments without a visible parent (no parent, or a parent that is not
-- published), newest first, keyset-paginated on (created_at, id).
SELECT c.id, c.external_id, c.parent_external_id, c.author_name, c.text, c.created_at
FROM comments c
WHERE c.article_id = $1 AND c.status = 'approved' AND (c.created_at, c.id) < ($2::timestamptz, $3::bigint)
  -- a scalar subquery, so it stays a per-row probe of the unique external_id index under the LIMIT
  -- (NOT EXISTS / an anti-join were planned as a hash over every comment of the article)
  AND (c.parent_external_id IS NULL
       OR (SELECT p.status = 'approved' AND p.article_id = c.article_id
           FROM comments p WHERE p.external_id = c.parent_external_id) IS NOT TRUE)
ORDER BY c.created_at DESC, c.id DESC
LIMIT $4;

-- name: public_roots_oldest
SELECT c.id, c.external_id, c.parent_external_id, c.author_name, c.text, c.created_at
FROM comments c
WHERE c.article_id = $1 AND c.status = 'approved' AND (c.created_at, c.id) > ($2::timestamptz, $3::bigint)
  -- a scalar subquery, so it stays a per-row probe of the unique external_id index under the LIMIT
  -- (NOT EXISTS / an anti-join were planned as a hash over every comment of the article)
  AND (c.parent_external_id IS NULL
       OR (SELECT p.status = 'approved' AND p.article_id = c.article_id
           FROM comments p WHERE p.external_id = c.parent_external_id) IS NOT TRUE)
ORDER BY c.created_at, c.id
LIMIT $4;

-- name: public_replies
-- Every approved descendant of the given roots (a reply under a hidden comment is hidden with it).
WITH RECURSIVE tree AS (
    SELECT c.id, c.external_id, c.parent_external_id, c.author_name, c.text, c.created_at, 1 AS depth
    FROM comments c
    WHERE c.article_id = $1 AND c.status = 'approved' AND c.parent_external_id = ANY($2::text[])
    UNION ALL
    SELECT c.id, c.external_id, c.parent_external_id, c.author_name, c.text, c.created_at, t.depth + 1
    FROM comments c JOIN tree t ON c.parent_external_id = t.external_id
    WHERE c.article_id = $1 AND c.status = 'approved' AND t.depth < 50
)
SELECT * FROM tree ORDER BY created_at, id;

-- name: public_article_title
SELECT title FROM articles WHERE id = $1;
