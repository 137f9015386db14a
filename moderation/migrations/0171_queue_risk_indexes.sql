-- migrate: no-transaction
-- 0171: the queue's order by the risk of 0170 (pages and claims walk it, keyset pagination), and the rows the
-- backfill worker still has to fill (only comments stored before 0170; empty once it is done).
-- comments_queue_risk (by comments.risk) stays while releases that sort by it may run beside this one.
CREATE INDEX CONCURRENTLY IF NOT EXISTS comments_queue_by_risk ON comments (status, (coalesce(queue_risk, risk)) DESC, id DESC);
CREATE INDEX CONCURRENTLY IF NOT EXISTS comments_queue_risk_unset ON comments (id) WHERE queue_risk IS NULL;
