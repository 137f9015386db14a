-- Proof of work (moderation/challenges/proof*.py): sliding-window counters, single use, risk signals.
--
-- Sliding windows over rate_limits' fixed windows: the estimate is this window's count plus the previous
-- window's count weighted by the share of it still inside the last $2 seconds (the usual sliding-window
-- counter: exact at the boundaries, never lets a burst at the end of one window and the start of the next
-- count as two budgets).  The retention worker keeps rate-limit windows two hours (MODERATION_RETAIN_RATE_LIMITS).

-- name: sliding_hits
-- Count one hit in each bucket of $1 (text[]) and return every bucket's estimate.  Buckets are taken in
-- sorted order so two calls on the same buckets never deadlock.
WITH w AS (SELECT to_timestamp(floor(extract(epoch FROM now()) / $2) * $2) AS start),
hit AS (
    INSERT INTO rate_limits AS r (bucket, window_start, count)
    SELECT b, w.start, 1 FROM (SELECT DISTINCT unnest($1::text[]) AS b ORDER BY 1) AS bs, w
    ON CONFLICT (bucket, window_start) DO UPDATE SET count = r.count + 1
    RETURNING bucket, count
)
SELECT hit.bucket,
       (hit.count + coalesce(p.count, 0) * (1 - extract(epoch FROM now() - w.start) / $2))::float8 AS estimate
FROM hit CROSS JOIN w
LEFT JOIN rate_limits p ON p.bucket = hit.bucket AND p.window_start = w.start - make_interval(secs => $2);

-- name: sliding_peek
-- The estimates of the buckets $1 without counting anything.
WITH w AS (SELECT to_timestamp(floor(extract(epoch FROM now()) / $2) * $2) AS start)
SELECT bs.b AS bucket,
       (coalesce(c.count, 0) + coalesce(p.count, 0) * (1 - extract(epoch FROM now() - w.start) / $2))::float8
           AS estimate
FROM unnest($1::text[]) AS bs(b) CROSS JOIN w
LEFT JOIN rate_limits c ON c.bucket = bs.b AND c.window_start = w.start
LEFT JOIN rate_limits p ON p.bucket = bs.b AND p.window_start = w.start - make_interval(secs => $2);

-- name: sliding_take
-- Take one from bucket $1's budget of $3 per sliding window of $2 s: counted and the new count returned
-- when within the budget; no row (and nothing counted) when it is spent.  The conflict path re-checks
-- against the row as locked, so concurrent takers never overspend.
WITH w AS (SELECT to_timestamp(floor(extract(epoch FROM now()) / $2) * $2) AS start),
prev AS (
    SELECT coalesce(max(p.count), 0) * (1 - extract(epoch FROM now() - max(w.start)) / $2) AS weighted
    FROM w LEFT JOIN rate_limits p ON p.bucket = $1 AND p.window_start = w.start - make_interval(secs => $2)
)
INSERT INTO rate_limits AS r (bucket, window_start, count)
SELECT $1, w.start, 1 FROM w, prev WHERE 1 + prev.weighted <= $3
ON CONFLICT (bucket, window_start) DO UPDATE SET count = r.count + 1
    WHERE r.count + 1 + (SELECT weighted FROM prev) <= $3
RETURNING count;

-- name: proof_redeem
-- Single use: exactly one caller inserts the row; a replay gets nothing back.
INSERT INTO proof_redemptions (challenge, ip_hash, expires_at) VALUES ($1, $2, to_timestamp($3))
ON CONFLICT (challenge) DO NOTHING
RETURNING redeemed_at;

-- name: author_held_comments
-- Risk signal: comments of this CMS reader that are held for review or were rejected as spam.
SELECT coalesce(sum(n), 0)::int FROM author_status_counts WHERE author_id = $1 AND status IN ('pending', 'spam');
