-- Indexes for the dashboards' queries (projections/dashboards/queries.ts), chosen with EXPLAIN
-- ANALYZE on 100,000 generated assessments over 90 days (bench/queries). INCLUDE columns let the
-- metrics' aggregates run as index-only scans.

-- The list, newest first, keyset-paginated on (started_at, id); the metrics' counts and hourly
-- buckets of a window (status, degraded included). Before: a seq scan and top-N sort per page.
CREATE INDEX idx_assessments_started ON assessments (started_at DESC, id DESC) INCLUDE (status, degraded);
-- The list by submission time (date_field=submitted_at) and the submit-to-result latency.
CREATE INDEX idx_assessments_submitted ON assessments (submitted_at DESC, id DESC) INCLUDE (status, completed_at)
  WHERE submitted_at IS NOT NULL;
-- Status and student filters keep the list's order (a rare status otherwise sorts a bitmap scan).
CREATE INDEX idx_assessments_status_started ON assessments (status, started_at DESC, id DESC);
CREATE INDEX idx_assessments_user_started ON assessments (user_id, started_at DESC, id DESC);
-- Token cost per assessment, index-only.
CREATE INDEX idx_essay_scores_assessment_cost ON essay_scores (assessment_id) INCLUDE (cost_cents);
-- Per-stage latencies of a window.
CREATE INDEX idx_metric_snapshots_captured ON metric_snapshots (captured_at) INCLUDE (metric_type, value);
-- Feedback per credential: a window on submission, then each recommendation's credentials.
CREATE INDEX idx_recommendation_feedback_submitted ON recommendation_feedback (submitted_at);
CREATE INDEX idx_recommendation_items_credential ON recommendation_items (recommendation_id) INCLUDE (credential_id);
