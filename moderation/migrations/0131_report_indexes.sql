-- migrate: no-transaction
-- A reader's earlier reports (upheld-report bonus) and report floods by time (GET /v1/reports/abuse).
CREATE INDEX CONCURRENTLY IF NOT EXISTS comment_reports_reader ON comment_reports (reader_id);
CREATE INDEX CONCURRENTLY IF NOT EXISTS comment_reports_created ON comment_reports (created_at);
