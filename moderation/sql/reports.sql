-- Readers' reports on published comments (moderation/reports.py).

-- name: report_lock
-- Taken first, in the same transaction as report_apply: that statement's snapshot then starts after any
-- concurrent report on the comment has committed, so it counts it (a lock taken inside report_apply would
-- wait for it, but count from a snapshot without it: two simultaneous last reports would hold nothing).
SELECT id FROM comments WHERE id = $1::bigint FOR UPDATE;

-- name: report_apply
-- One report, atomically, in one round trip: record it (once per reader and comment) and, when the
-- comment's open reports — those made after a moderator's last decision on it — reach $6 (0: never), hold
-- the published comment for review exactly as a decision does: status, a 'reported' reason naming the
-- counts (replacing an earlier one, and the 'clean' reason "published: … below thresholds"), the decision row (actor 'system'), its audit entry and — when $7 —
-- its outbox row (the CMS hides the comment).  A comment that is not published takes no report.
-- A data-modifying CTE's row is invisible to the statement's other CTEs, so the new report is added by hand.
-- $1 comment id, $2 reader key, $3 reason, $4 note, $5 IP hash, $6 reports to hold, $7 write an outbox row.
WITH target AS MATERIALIZED (
    SELECT id FROM comments WHERE id = $1::bigint AND status = 'approved' FOR UPDATE
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
), tally AS MATERIALIZED (
    SELECT coalesce(sum(k), 0)::int AS n,
           string_agg(replace(reason, '_', ' ') || ' ' || k, ', ' ORDER BY k DESC, reason) AS detail
    FROM (SELECT reason, count(*) AS k FROM open_reports GROUP BY reason) g
), upd AS (
    UPDATE comments c
    SET status = 'pending', updated_at = now(), claimed_by = NULL, claim_expires_at = NULL,
        reasons = (SELECT coalesce(jsonb_agg(e), '[]'::jsonb) FROM jsonb_array_elements(c.reasons) e
                   WHERE coalesce(e->>'code', '') NOT IN ('reported', 'clean'))
                  || jsonb_build_array(jsonb_build_object(
                         'code', 'reported',
                         'message', 'held: reported by ' || tl.n || CASE WHEN tl.n = 1 THEN ' reader (' ELSE ' readers (' END
                                    || tl.detail || ')')),
        reason_codes = array_append(array_remove(array_remove(c.reason_codes, 'reported'), 'clean'), 'reported')
    FROM target t, tally tl
    WHERE c.id = t.id AND $6::int > 0 AND tl.n >= $6::int
    RETURNING c.id, c.status, c.spam_score, c.abuse_score, c.model_version, c.thresholds, c.reasons
), dec AS (
    INSERT INTO decisions (comment_id, actor, action, from_status, to_status, spam_score, abuse_score,
                           model_version, thresholds, reasons)
    SELECT u.id, 'system', 'reported', 'approved', u.status, u.spam_score, u.abuse_score, u.model_version,
           u.thresholds, u.reasons
    FROM upd u
    RETURNING id, comment_id
), aud AS (
    INSERT INTO audit_log (actor, action, target_type, target_id, before, after, reason)
    SELECT 'system', 'decision.reported', 'comment', d.comment_id::text, jsonb_build_object('status', 'approved'),
           jsonb_build_object('status', 'pending', 'comment_id', d.comment_id, 'decision_id', d.id),
           'reported by readers: ' || (SELECT detail FROM tally)
    FROM dec d
), obx AS (
    INSERT INTO outbox (event_type, comment_id, decision_id)
    SELECT 'comment.pending', d.comment_id, d.id FROM dec d WHERE $7::bool
)
SELECT EXISTS (SELECT 1 FROM target) AS found,
       EXISTS (SELECT 1 FROM ins) AS added,
       (SELECT n FROM tally) AS open_reports,
       EXISTS (SELECT 1 FROM upd) AS held;

-- name: reports_of_comment
-- Every report on a comment, newest first (moderators' comment detail).  $1 comment id.
SELECT reason, note, created_at, reader_id FROM comment_reports WHERE comment_id = $1 ORDER BY created_at DESC, reader_id;
