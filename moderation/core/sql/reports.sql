-- Readers' reports on published comments (moderation/readers/reports.py).

-- name: report_lock
-- Taken first, in the same transaction as report_record: that statement's snapshot then starts after any
-- concurrent report on the comment has committed, so it counts it (a lock taken inside report_record would
-- wait for it, but count from a snapshot without it: two simultaneous last reports would hold nothing).
SELECT id FROM comments WHERE id = $1::bigint FOR UPDATE;

-- name: report_record
-- Record one report (once per reader and comment) on a published comment and weigh the comment's open
-- reports — those made after a moderator's last decision on it (moderation/readers/report_trust.py).  A
-- comment that is not published takes no report (found = false).  A data-modifying CTE's row is invisible
-- to the statement's other CTEs, so the new report is added to the open ones by hand.
-- The report's weight: $6 (from the reader's kind and cookie age) + 0.5 per upheld report of this reader
-- (a comment they reported that is now rejected or spam by a moderator's decision), at most 2 of them.
-- Anonymous and unsigned readers count once per network address (the heaviest); verified readers each.
-- $1 comment id, $2 reader key, $3 reason, $4 note, $5 IP hash, $6 base weight, $7 reader kind.
WITH target AS MATERIALIZED (
    SELECT id FROM comments WHERE id = $1::bigint AND status = 'approved'
), upheld AS MATERIALIZED (
    SELECT count(*)::int AS n FROM (
        SELECT 1 FROM comment_reports r JOIN comments c ON c.id = r.comment_id
        WHERE r.reader_id = $2::text AND r.comment_id <> $1::bigint AND c.status IN ('rejected', 'spam')
          AND EXISTS (SELECT 1 FROM decisions d WHERE d.comment_id = c.id AND d.actor NOT IN ('system', 'cms')
                      AND d.to_status IN ('rejected', 'spam'))
        LIMIT 2) u
), ins AS (
    INSERT INTO comment_reports (comment_id, reader_id, reason, note, ip_hash, reader_kind, weight)
    SELECT t.id, $2::text, $3::text, $4::text, $5::text, $7::text,
           least($6::real + 0.5 * (SELECT n FROM upheld), 1.5)::real
    FROM target t
    ON CONFLICT (comment_id, reader_id) DO NOTHING
    RETURNING reason, ip_hash, reader_kind, weight
), since AS MATERIALIZED (
    SELECT coalesce(max(d.created_at), '-infinity'::timestamptz) AS at,
           coalesce(bool_or(d.to_status = 'approved' AND d.actor <> 'cms'), false) AS approved
    FROM decisions d JOIN target t ON d.comment_id = t.id
    WHERE d.actor <> 'system'
), open_reports AS (
    SELECT r.reason, r.ip_hash, r.reader_kind, r.weight FROM comment_reports r JOIN target t ON r.comment_id = t.id
    WHERE r.created_at > (SELECT at FROM since)
    UNION ALL
    SELECT reason, ip_hash, reader_kind, weight FROM ins
), per_address AS (
    SELECT coalesce(max(weight) FILTER (WHERE reader_kind <> 'verified'), 0)
           + coalesce(sum(weight) FILTER (WHERE reader_kind = 'verified'), 0) AS w
    FROM open_reports GROUP BY coalesce(ip_hash, '')
), by_reason AS (
    SELECT reason, count(*) AS k FROM open_reports GROUP BY reason
)
SELECT EXISTS (SELECT 1 FROM target) AS found,
       EXISTS (SELECT 1 FROM ins) AS added,
       (SELECT coalesce(sum(k), 0)::int FROM by_reason) AS open_reports,
       (SELECT coalesce(sum(w), 0)::real FROM per_address) AS open_weight,
       (SELECT count(*)::int FROM per_address WHERE w > 0) AS addresses,
       (SELECT approved FROM since) AS moderator_approved,
       (SELECT string_agg(replace(reason, '_', ' ') || ' ' || k, ', ' ORDER BY k DESC, reason) FROM by_reason)
           AS detail;

-- name: report_flag_reason
-- A published comment with open reports that do not (yet) hold it: a 'reported' reason (status unchanged)
-- so moderators find it under "Reported by readers" while readers still see it.  $2 the reason (data, built by
-- moderation.decisions.reasons.make).  Not a decision: the status stays.
UPDATE comments c
SET reasons = (SELECT coalesce(jsonb_agg(e), '[]'::jsonb) FROM jsonb_array_elements(c.reasons) e
               WHERE coalesce(e->>'code', '') <> 'reported')
              || jsonb_build_array($2::jsonb),
    reason_codes = array_append(array_remove(c.reason_codes, 'reported'), 'reported')
WHERE c.id = $1::bigint AND c.status = 'approved';

-- name: report_floods
-- Report floods for moderators (GET /v1/reports/abuse): per network address (IP hash) since $1, the reports,
-- distinct readers and comments, how many came from readers whose reports weigh nothing (brand-new cookies,
-- unsigned ids), newest first; at least $2 reports.  $3 limit.
SELECT ip_hash, count(*)::int AS reports, count(DISTINCT reader_id)::int AS readers,
       count(DISTINCT comment_id)::int AS comments, count(*) FILTER (WHERE weight = 0)::int AS weightless,
       min(created_at) AS first_at, max(created_at) AS last_at
FROM comment_reports
WHERE created_at >= $1::timestamptz AND ip_hash IS NOT NULL
GROUP BY ip_hash
HAVING count(*) >= $2::int
ORDER BY max(created_at) DESC, ip_hash
LIMIT $3::int;

-- name: reports_of_comment
-- Every report on a comment, newest first (moderators' comment detail).  $1 comment id.
SELECT reason, note, created_at, reader_id, reader_kind, weight FROM comment_reports WHERE comment_id = $1
ORDER BY created_at DESC, reader_id;
