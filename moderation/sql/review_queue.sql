-- Review queue listing (moderation/review/queue.py, list_queue): the page is chosen by a subquery that
-- list_queue puts in place of "FROM comments c" below, and only its rows are joined and counted.

-- name: queue_page_items
-- queue_select plus the author's history (counts by status from author_status_counts, kept by triggers;
-- one index lookup per item) in the SAME round trip, as two arrays (decoded by asyncpg in C, unlike json).
-- (Building each item as JSON here was measured slower: json_build_object costs ~10 us per item, more than
-- asyncpg's decoding plus queue.item_json.)
SELECT c.id, c.external_id, c.article_id, c.parent_external_id, c.author_id, c.author_name, c.author_ip_hash,
       c.text, c.status, c.spam_score, c.abuse_score, c.risk, c.model_version, c.reasons, c.reason_codes,
       c.thresholds, c.created_at, c.received_at,
       CASE WHEN c.claim_expires_at > now() THEN c.claimed_by END AS claimed_by,
       CASE WHEN c.claim_expires_at > now() THEN c.claim_expires_at END AS claim_expires_at,
       a.url AS article_url, a.title AS article_title,
       p.id AS parent_id, p.text AS parent_text, p.author_name AS parent_author_name,
       h.statuses AS history_statuses, h.counts AS history_counts
FROM comments c
JOIN articles a ON a.id = c.article_id
LEFT JOIN comments p ON p.external_id = c.parent_external_id
LEFT JOIN LATERAL (
    SELECT array_agg(x.status) AS statuses, array_agg(x.n::int) AS counts
    FROM author_status_counts x WHERE x.author_id = c.author_id AND x.n > 0
) h ON true
