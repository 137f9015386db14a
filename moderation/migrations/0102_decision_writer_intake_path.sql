-- decision_write(): intake's 'created' mode as its own lean statement — the inserted rows read once, no lock,
-- no per-row checks (measured: the general path cost intake's group commit ~23 % more Postgres CPU per comment
-- than the single statement it replaced, 0.197 vs 0.160 ms at batches of 8).  Same arguments and results.

-- p_ids: distinct comment ids.  p_statuses, p_reasons, p_add_reasons, p_audit_targets: one element per id, or
-- a single element for all (p_reasons/p_add_reasons/p_audit_targets may be NULL).
-- p_mode:
--   'created'  the comments were just inserted with their status (intake): record a decision per comment;
--   'change'   set the status and record a decision even when it stays the same (an edit re-decided, the
--              CMS's delete, erasure); every id must exist;
--   'decide'   a decision by moderators or the service (reports): all or nothing — when an id is unknown or
--              a comment deleted, nothing is written; comments already in the target status are unchanged.
-- p_reasons: the decision rows' reasons (NULL: the comment's).  p_add_reasons: added to the comment's own.
-- p_notify: an outbox row per status change.  p_audit: the audit action of each change (NULL: no audit
-- entry); its target is the comment, or p_audit_targets ('decision:12').  p_bulk: non-NULL adds one
-- 'decision.bulk' entry with this "before" and the changed ids.
-- Comments are locked in id order, so concurrent writers cannot deadlock.
CREATE OR REPLACE FUNCTION decision_write(
    p_ids bigint[], p_statuses text[], p_actor text, p_action text, p_note text, p_reasons jsonb[],
    p_add_reasons jsonb[], p_mode text, p_notify boolean, p_audit text, p_audit_targets text[], p_bulk jsonb)
RETURNS TABLE (ok boolean, missing bigint[], deleted bigint[], unchanged bigint[], comment_ids bigint[],
               decision_ids bigint[], from_statuses text[], external_ids text[], audit_id bigint)
LANGUAGE plpgsql AS $$
DECLARE
    v_ids bigint[];
    v_status text[];
    v_ext text[];
    v_missing bigint[];
    v_deleted bigint[];
    v_unchanged bigint[];
    v_ok boolean;
    v_audit bigint;
BEGIN
    IF p_mode NOT IN ('created', 'change', 'decide') THEN
        RAISE EXCEPTION 'decision_write: unknown mode %', p_mode;
    END IF;
    IF p_mode = 'created' THEN
        -- Intake's hot path: rows this transaction inserted (nobody else sees them: no lock, no check), their
        -- status and scores as inserted, read once.  from_statuses and external_ids come back as NULLs.
        WITH dec AS (
            INSERT INTO decisions (comment_id, actor, action, from_status, to_status, spam_score, abuse_score,
                                   attributes, model_version, thresholds, reasons, note)
            SELECT c.id, p_actor, p_action, NULL, c.status, c.spam_score, c.abuse_score, c.attributes,
                   c.model_version, c.thresholds, c.reasons, p_note
            FROM comments c WHERE c.id = ANY(p_ids) ORDER BY c.id
            RETURNING id, comment_id, to_status
        ), obx AS (
            INSERT INTO outbox (event_type, comment_id, decision_id)
            SELECT 'comment.' || d.to_status, d.comment_id, d.id FROM dec d WHERE p_notify ORDER BY d.comment_id
        )
        SELECT coalesce(array_agg(d.comment_id ORDER BY d.comment_id), '{}'),
               coalesce(array_agg(d.id ORDER BY d.comment_id), '{}'), coalesce(array_agg(NULL::text), '{}')
        INTO comment_ids, decision_ids, from_statuses FROM dec d;
        ok := true;
        missing := '{}';
        deleted := '{}';
        unchanged := '{}';
        external_ids := ARRAY(SELECT NULL::text FROM unnest(comment_ids));
        RETURN NEXT;
        RETURN;
    END IF;
    SELECT coalesce(array_agg(l.id ORDER BY l.id), '{}'), coalesce(array_agg(l.status ORDER BY l.id), '{}'),
           coalesce(array_agg(l.external_id ORDER BY l.id), '{}')
    INTO v_ids, v_status, v_ext
    FROM (SELECT c.id, c.status, c.external_id FROM comments c WHERE c.id = ANY(p_ids) ORDER BY c.id
          FOR UPDATE) l;
    v_missing := ARRAY(SELECT unnest(p_ids) EXCEPT SELECT unnest(v_ids) ORDER BY 1);
    v_deleted := CASE WHEN p_mode = 'decide'
                      THEN ARRAY(SELECT u.id FROM unnest(v_ids, v_status) AS u(id, status)
                                 WHERE u.status = 'deleted' ORDER BY 1)
                      ELSE '{}' END;
    v_ok := cardinality(v_missing) = 0 AND cardinality(v_deleted) = 0;
    v_unchanged := '{}';
    IF v_ok THEN
        WITH input AS MATERIALIZED (
            SELECT u.id, l.status AS from_status, l.external_id,
                   CASE WHEN cardinality(p_statuses) = 1 THEN p_statuses[1] ELSE p_statuses[u.ord] END AS status,
                   CASE WHEN p_reasons IS NULL THEN NULL WHEN cardinality(p_reasons) = 1 THEN p_reasons[1]
                        ELSE p_reasons[u.ord] END AS reasons,
                   CASE WHEN p_add_reasons IS NULL THEN NULL WHEN cardinality(p_add_reasons) = 1
                        THEN p_add_reasons[1] ELSE p_add_reasons[u.ord] END AS add_reasons,
                   CASE WHEN p_audit_targets IS NULL THEN 'comment:' || u.id
                        WHEN cardinality(p_audit_targets) = 1 THEN p_audit_targets[1]
                        ELSE p_audit_targets[u.ord] END AS audit_target
            FROM unnest(p_ids) WITH ORDINALITY AS u(id, ord)
            JOIN unnest(v_ids, v_status, v_ext) AS l(id, status, external_id) ON l.id = u.id
        ), todo AS MATERIALIZED (
            SELECT i.* FROM input i
            WHERE p_mode <> 'decide' OR i.from_status IS DISTINCT FROM i.status
        ), upd AS (
            UPDATE comments c
            SET status = t.status, updated_at = now(), claimed_by = NULL, claim_expires_at = NULL,
                reasons = CASE WHEN t.add_reasons IS NULL THEN c.reasons ELSE reasons_merge(c.reasons, t.add_reasons) END,
                reason_codes = CASE WHEN t.add_reasons IS NULL THEN c.reason_codes
                                    ELSE reason_codes_of(reasons_merge(c.reasons, t.add_reasons)) END
            FROM todo t
            WHERE c.id = t.id
            RETURNING c.id, c.status, c.spam_score, c.abuse_score, c.attributes, c.model_version, c.thresholds,
                      c.reasons
        ), cur AS (
            SELECT u.id, u.status, u.spam_score, u.abuse_score, u.attributes, u.model_version, u.thresholds,
                   u.reasons FROM upd u
        ), dec AS (
            INSERT INTO decisions (comment_id, actor, action, from_status, to_status, spam_score, abuse_score,
                                   attributes, model_version, thresholds, reasons, note)
            SELECT c.id, p_actor, p_action, t.from_status,
                   c.status, c.spam_score, c.abuse_score, c.attributes, c.model_version, c.thresholds,
                   coalesce(t.reasons, c.reasons), p_note
            FROM cur c JOIN todo t ON t.id = c.id ORDER BY c.id
            RETURNING id, comment_id, from_status, to_status
        ), aud AS (
            INSERT INTO audit_log (actor, action, target_type, target_id, before, after, reason)
            SELECT p_actor, p_audit, split_part(t.audit_target, ':', 1), substr(t.audit_target,
                   length(split_part(t.audit_target, ':', 1)) + 2),
                   jsonb_build_object('status', d.from_status),
                   jsonb_build_object('status', d.to_status, 'comment_id', d.comment_id, 'decision_id', d.id),
                   p_note
            FROM dec d JOIN todo t ON t.id = d.comment_id WHERE p_audit IS NOT NULL ORDER BY d.comment_id
        ), obx AS (
            INSERT INTO outbox (event_type, comment_id, decision_id)
            SELECT 'comment.' || d.to_status, d.comment_id, d.id
            FROM dec d WHERE p_notify AND d.from_status IS DISTINCT FROM d.to_status ORDER BY d.comment_id
        ), changed AS MATERIALIZED (
            SELECT d.comment_id, d.id AS decision_id, d.from_status, i.external_id
            FROM dec d JOIN input i ON i.id = d.comment_id
        ), summary AS (
            INSERT INTO audit_log (actor, action, target_type, target_id, before, after, reason)
            SELECT p_actor, 'decision.bulk', 'comments', count(*) || ' comments', p_bulk,
                   jsonb_build_object('action', p_action, 'to_status', p_statuses[1],
                                      'comment_ids', coalesce(jsonb_agg(ch.comment_id ORDER BY ch.comment_id), '[]'),
                                      'decision_ids', coalesce(jsonb_agg(ch.decision_id ORDER BY ch.comment_id), '[]'),
                                      'unchanged', (SELECT coalesce(jsonb_agg(i.id ORDER BY i.id), '[]') FROM input i
                                                    WHERE NOT EXISTS (SELECT 1 FROM todo t WHERE t.id = i.id))),
                   p_note
            FROM changed ch
            HAVING p_bulk IS NOT NULL
            RETURNING id
        )
        SELECT ARRAY(SELECT i.id FROM input i WHERE NOT EXISTS (SELECT 1 FROM todo t WHERE t.id = i.id) ORDER BY 1),
               ARRAY(SELECT ch.comment_id FROM changed ch ORDER BY 1),
               ARRAY(SELECT ch.decision_id FROM changed ch ORDER BY ch.comment_id),
               ARRAY(SELECT ch.from_status FROM changed ch ORDER BY ch.comment_id),
               ARRAY(SELECT ch.external_id FROM changed ch ORDER BY ch.comment_id),
               (SELECT s.id FROM summary s)
        INTO v_unchanged, comment_ids, decision_ids, from_statuses, external_ids, v_audit;
    END IF;
    ok := v_ok;
    missing := v_missing;
    deleted := v_deleted;
    unchanged := v_unchanged;
    audit_id := v_audit;
    comment_ids := coalesce(comment_ids, '{}');
    decision_ids := coalesce(decision_ids, '{}');
    from_statuses := coalesce(from_statuses, '{}');
    external_ids := coalesce(external_ids, '{}');
    RETURN NEXT;
END
$$;
