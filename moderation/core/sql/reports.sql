-- Readers' reports on published comments (moderation/readers/reports.py).

-- name: report_lock
-- Taken first, in the same transaction as report_record: that statement's snapshot then starts after any
-- concurrent report on the comment has committed, so it counts it (a lock taken inside report_record would
-- wait for it, but count from a snapshot without it: two simultaneous last reports would hold nothing).
SELECT id FROM comments WHERE id = $1::bigint FOR UPDATE;

-- name: report_record
-- Record one report (once per reader and comment) on a published comment and count the comment's open
-- reports — those made after a moderator's last decision on it — by reason.  A comment that is not
-- published takes no report (found = false).  A data-modifying CTE's row is invisible to the statement's
-- other CTEs, so the new report is added to the count by hand.
-- $1 comment id, $2 reader key, $3 reason, $4 note, $5 IP hash.
WITH target AS MATERIALIZED (
    SELECT id FROM comments WHERE id = $1::bigint AND status = 'approved'
), ins AS (
    INSERT INTO comment_reports (comment_id, reader_id, reason, note, ip_hash)
    SELECT id, $2::text, $3::text, $4::text, $5::text FROM target
    ON CONFLICT (comment_id, reader_id) DO NOTHING
    RETURNING reason
), since AS MATERIALIZED (
    SELECT coalesce(max(d.created_at), '-infinity'::timestamptz) AS at
    FROM decisions d JOIN target t ON d.comment_id = t.id
    WHERE d.actor <> 'system'
), open_reports AS (
    SELECT r.reason FROM comment_reports r JOIN target t ON r.comment_id = t.id
    WHERE r.created_at > (SELECT at FROM since)
    UNION ALL
    SELECT reason FROM ins
)
SELECT EXISTS (SELECT 1 FROM target) AS found,
       EXISTS (SELECT 1 FROM ins) AS added,
       coalesce(sum(k), 0)::int AS open_reports,
       string_agg(replace(reason, '_', ' ') || ' ' || k, ', ' ORDER BY k DESC, reason) AS detail
FROM (SELECT reason, count(*) AS k FROM open_reports GROUP BY reason) g;

-- name: report_hold_reason
-- The reason a hold by readers' reports shows: $2 replaces an earlier 'reported' reason and the 'clean' one
-- ("published: … below thresholds" is no longer true).  The status change itself is decide_batch's.
UPDATE comments c
SET reasons = (SELECT coalesce(jsonb_agg(e), '[]'::jsonb) FROM jsonb_array_elements(c.reasons) e
               WHERE coalesce(e->>'code', '') NOT IN ('reported', 'clean'))
              || jsonb_build_array(jsonb_build_object('code', 'reported', 'message', $2::text)),
    reason_codes = array_append(array_remove(array_remove(c.reason_codes, 'reported'), 'clean'), 'reported')
WHERE c.id = $1::bigint;

-- name: reports_of_comment
-- Every report on a comment, newest first (moderators' comment detail).  $1 comment id.
SELECT reason, note, created_at, reader_id FROM comment_reports WHERE comment_id = $1 ORDER BY created_at DESC, reader_id;
