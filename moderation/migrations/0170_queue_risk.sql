-- 0170: the queue's risk reflects the attribute that held a comment.  comments.risk, generated as
-- max(spam, abuse), showed a comment held for threat 0.98 (toxicity 0.71) as 0.71 in green and sorted it low.
-- queue_risk is the comment's highest attribute probability (queue_risk_of(); README "Moderators", and
-- moderation/review/risk.py).  Changing risk's expression would rewrite comments under an ACCESS EXCLUSIVE
-- lock; instead a new nullable column without default (a brief lock, no rewrite, no scan), filled
--   * by intake_store() for every new comment and by decision_write() for every status change (both below,
--     unchanged otherwise: same arguments, so instances of the previous release call them too);
--   * for the comments stored before, by the backfill worker (moderation/review/risk.py) in small committed
--     batches (FOR UPDATE SKIP LOCKED) after the start, never inside a migration.
-- Until then the queue reads coalesce(queue_risk, risk): an old comment keeps its old risk meanwhile.
-- Its index (and the backfill's) are built concurrently by 0171.
ALTER TABLE comments ADD COLUMN IF NOT EXISTS queue_risk real;

-- The queue's risk of a comment: its highest attribute probability (the classifier's attributes, those
-- scored for its language); the higher of spam and abuse for a comment scored before per-attribute scores
-- (attributes NULL); 1 for a comment the model did not score (no scores at all, or a language it has no
-- heads for: empty attributes), which a moderator must read with nothing to go on.
-- moderation.review.risk.risk_of is the same in Python.  One expression over the eight known keys (inlined by
-- the planner: ~2.5 us a row, where max() over jsonb_each() cost ~7.6 us); a value that is not a number
-- (there is none: attributes_json() writes floats) is ignored rather than failing intake or the backfill.
CREATE OR REPLACE FUNCTION queue_risk_of(p_attributes jsonb, p_spam float8, p_abuse float8) RETURNS real
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (CASE WHEN jsonb_typeof(p_attributes) = 'object'
                 THEN coalesce(greatest(  -- $1 is p_attributes
                     CASE WHEN jsonb_typeof($1->'toxicity') = 'number' THEN ($1->'toxicity')::float8 END,
                     CASE WHEN jsonb_typeof($1->'severe_toxicity') = 'number' THEN ($1->'severe_toxicity')::float8 END,
                     CASE WHEN jsonb_typeof($1->'insult') = 'number' THEN ($1->'insult')::float8 END,
                     CASE WHEN jsonb_typeof($1->'threat') = 'number' THEN ($1->'threat')::float8 END,
                     CASE WHEN jsonb_typeof($1->'identity_attack') = 'number' THEN ($1->'identity_attack')::float8 END,
                     CASE WHEN jsonb_typeof($1->'profanity') = 'number' THEN ($1->'profanity')::float8 END,
                     CASE WHEN jsonb_typeof($1->'sexually_explicit') = 'number' THEN ($1->'sexually_explicit')::float8 END,
                     CASE WHEN jsonb_typeof($1->'spam') = 'number' THEN ($1->'spam')::float8 END), 1)
                 ELSE greatest(coalesce(p_spam, 1), coalesce(p_abuse, 1)) END)::real
$$;

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
                                    ELSE reason_codes_of(reasons_merge(c.reasons, t.add_reasons)) END,
                -- the queue's risk from the scores as they are now (an edit was re-scored just before;
                -- a comment from before 0170 gets its risk here if the backfill has not reached it yet)
                queue_risk = queue_risk_of(c.attributes, c.spam_score, c.abuse_score)
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

-- A group commit of new comments (moderation/intake/group_commit.py): per comment its webhook receipt,
-- article and comment rows, then their decisions (+ outbox rows) by decision_write().  The batch's rows
-- arrive as one array per column (jsonb columns pre-encoded as text), so each statement is planned and run
-- once per batch.  Returns (receipt_new, comment_new) per input row, in input order.
CREATE OR REPLACE FUNCTION intake_store(
    p_webhook_id text[], p_response text[], p_id bigint[], p_external_id text[], p_article_id text[],
    p_url text[], p_title text[], p_parent text[], p_author_id text[], p_author_name text[],
    p_email_hash text[], p_ip_hash text[], p_text text[], p_fingerprint text[], p_status text[],
    p_spam float8[], p_abuse float8[], p_model_version text[], p_reasons text[], p_reason_codes text[],
    p_thresholds text[], p_created_at timestamptz[], p_language text[], p_attributes text[],
    p_body_sha256 text[], p_notify boolean)
RETURNS TABLE (receipt_new boolean, comment_new boolean)
LANGUAGE plpgsql AS $$
DECLARE
    v_receipt boolean[];
    v_comment boolean[];
    v_new bigint[];
BEGIN
    WITH input AS (
      SELECT * FROM unnest(p_webhook_id, p_response, p_id, p_external_id, p_article_id, p_url, p_title,
                           p_parent, p_author_id, p_author_name, p_email_hash, p_ip_hash, p_text, p_fingerprint,
                           p_status, p_spam, p_abuse, p_model_version, p_reasons, p_reason_codes, p_thresholds,
                           p_created_at, p_language, p_attributes, p_body_sha256)
        WITH ORDINALITY AS u(webhook_id, response, id, external_id, article_id, url, title, parent, author_id,
                             author_name, email_hash, ip_hash, body, fingerprint, status, spam, abuse,
                             model_version, reasons, reason_codes, thresholds, created_at, language, attributes,
                             body_sha256, ord)
    ), receipt AS (
      -- The receipt goes first: a concurrent replay of a webhook-id waits on it, then inserts nothing.
      INSERT INTO webhook_receipts (webhook_id, status, response, body_sha256)
      SELECT DISTINCT ON (i.webhook_id) i.webhook_id, 200, i.response::jsonb, decode(i.body_sha256, 'hex')
      FROM input i ORDER BY i.webhook_id, i.ord
      ON CONFLICT (webhook_id) DO NOTHING
      RETURNING webhook_receipts.webhook_id
    ), fresh AS (
      -- the rows whose receipt is new (the first one, should a batch hold one webhook-id twice)
      -- (attributes parsed once: the column and queue_risk_of() read it)
      SELECT DISTINCT ON (i.webhook_id) i.*, i.attributes::jsonb AS attributes_jsonb
      FROM input i JOIN receipt r ON r.webhook_id = i.webhook_id
      ORDER BY i.webhook_id, i.ord
    ), article_in AS (
      -- per article, the latest non-NULL url and title of the batch (what row-by-row upserts would leave)
      SELECT f.article_id, (array_agg(f.url ORDER BY f.ord DESC) FILTER (WHERE f.url IS NOT NULL))[1] AS url,
             (array_agg(f.title ORDER BY f.ord DESC) FILTER (WHERE f.title IS NOT NULL))[1] AS title
      FROM fresh f GROUP BY f.article_id
    ), article AS (
      -- Only when the article is new or its url/title changed: ON CONFLICT DO UPDATE locks the row even when
      -- nothing changes, which would serialise every comment on a hot article.
      INSERT INTO articles (id, url, title)
      SELECT n.article_id, n.url, n.title FROM article_in n
      WHERE NOT EXISTS (SELECT 1 FROM articles a WHERE a.id = n.article_id
                                                   AND a.url IS NOT DISTINCT FROM coalesce(n.url, a.url)
                                                   AND a.title IS NOT DISTINCT FROM coalesce(n.title, a.title))
      ON CONFLICT (id) DO UPDATE SET url = coalesce(EXCLUDED.url, articles.url),
                                     title = coalesce(EXCLUDED.title, articles.title)
    ), comment AS (
      INSERT INTO comments (id, external_id, article_id, parent_external_id, author_id, author_name,
                            author_email_hash, author_ip_hash, text, fingerprint, status, spam_score,
                            abuse_score, model_version, reasons, reason_codes, thresholds, created_at,
                            language, attributes, queue_risk)
      SELECT f.id, f.external_id, f.article_id, f.parent, f.author_id, f.author_name, f.email_hash, f.ip_hash,
             f.body, f.fingerprint, f.status, f.spam, f.abuse, f.model_version, f.reasons::jsonb,
             string_to_array(f.reason_codes, ','), f.thresholds::jsonb, f.created_at, f.language,
             f.attributes_jsonb, queue_risk_of(f.attributes_jsonb, f.spam, f.abuse)
      FROM fresh f ORDER BY f.ord
      ON CONFLICT (external_id) DO NOTHING
      RETURNING comments.id
    )
    SELECT array_agg(f.ord IS NOT NULL ORDER BY i.ord), array_agg(c.id IS NOT NULL ORDER BY i.ord),
           coalesce(array_agg(c.id) FILTER (WHERE c.id IS NOT NULL), '{}')
    INTO v_receipt, v_comment, v_new
    FROM input i LEFT JOIN fresh f ON f.ord = i.ord LEFT JOIN comment c ON c.id = f.id;

    IF cardinality(v_new) > 0 THEN
        PERFORM decision_write(v_new, '{created}', 'system', 'created', NULL, NULL, NULL, 'created', p_notify,
                               NULL, NULL, NULL);
    END IF;
    RETURN QUERY SELECT r, c FROM unnest(v_receipt, v_comment) AS u(r, c);
END
$$;
