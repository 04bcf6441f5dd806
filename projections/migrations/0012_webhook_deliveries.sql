-- Webhook deliveries (issue #8). A delivery is a processor job (async_jobs, job_type
-- 'webhook_delivery'): the processor runtime already makes it exactly once per (subscription,
-- public event) in the intake transaction, leases it, retries it and records its end, all as
-- single-row updates. Its state therefore lives in one row; `webhook_events` (the seed's table,
-- never written until now) becomes a view over those rows, so the seed's columns cannot drift
-- from the job that is actually run. Every attempt has a row of its own (below).

-- Lanes: jobs of one lane (a webhook subscription) run at most N at once and are paused together
-- (a disabled subscription); jobs with an order key (subscription + assessment, when the partner
-- asked for order) run one at a time in `order_seq` order (the public topic's offsets).
ALTER TABLE async_jobs
  ADD COLUMN lane TEXT,
  ADD COLUMN order_key TEXT,
  ADD COLUMN order_seq BIGINT;
CREATE INDEX idx_async_jobs_lane ON async_jobs(scope, job_type, lane, queued_at DESC) WHERE lane IS NOT NULL;
CREATE INDEX idx_async_jobs_order ON async_jobs(scope, job_type, order_key, order_seq)
  WHERE order_key IS NOT NULL AND status IN ('waiting', 'queued', 'running', 'retrying');

-- A lane with `paused_at` set is not claimed from (its jobs keep their attempts and wait).
CREATE TABLE async_job_lanes (
  scope TEXT NOT NULL,
  job_type VARCHAR(32) NOT NULL,
  lane TEXT NOT NULL,
  paused_at TIMESTAMPTZ,
  reason TEXT,
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  PRIMARY KEY (scope, job_type, lane)
);

-- Every attempt of a delivery: written when it starts (so an attempt whose worker died shows,
-- without an outcome), completed when it ends. `response_body`: the first kilobyte.
CREATE TABLE webhook_delivery_attempts (
  delivery_id UUID NOT NULL REFERENCES async_jobs(id) ON DELETE CASCADE,
  attempt_number INTEGER NOT NULL,
  subscription_id UUID NOT NULL,
  webhook_id TEXT NOT NULL,
  url TEXT NOT NULL,
  started_at TIMESTAMPTZ NOT NULL,
  duration_ms INTEGER,
  response_code INTEGER,
  response_body TEXT,
  error TEXT,
  PRIMARY KEY (delivery_id, attempt_number)
);

DROP TABLE webhook_events;

-- The seed's delivery record, one row per delivery, with what issue #8 adds: the subscription,
-- the webhook id (the public event's id, the same on every attempt) and the status in delivery
-- terms. `attempts` counts every recorded attempt (redeliveries included); `response_code` and
-- `last_attempt` are the latest attempt's.
CREATE VIEW webhook_events AS
SELECT
  j.id,
  j.scope,
  j.lane AS subscription_id,
  j.payload->>'webhook_id' AS webhook_id,
  j.assessment_id,
  j.payload->>'event_type' AS event_type,
  (j.payload->>'body')::jsonb AS payload,
  CASE
    WHEN j.status = 'succeeded' THEN 'delivered'
    WHEN j.status IN ('failed', 'rejected') THEN 'dead_lettered'
    WHEN j.status = 'cancelled' THEN 'cancelled'
    WHEN l.paused_at IS NOT NULL AND j.status IN ('queued', 'retrying') THEN 'parked'
    WHEN j.status = 'running' THEN 'delivering'
    WHEN j.status = 'retrying' THEN 'retrying'
    ELSE 'pending'
  END AS status,
  last.response_code,
  last.started_at AS last_attempt,
  COALESCE(last.attempt_number, 0) AS attempts,
  CASE WHEN j.status IN ('queued', 'retrying') THEN j.next_run_at END AS next_attempt_at,
  j.error_payload->>'message' AS last_error,
  j.queued_at AS created_at,
  j.completed_at
FROM async_jobs j
LEFT JOIN async_job_lanes l ON l.scope = j.scope AND l.job_type = j.job_type AND l.lane = j.lane
LEFT JOIN LATERAL (
  SELECT a.attempt_number, a.response_code, a.started_at FROM webhook_delivery_attempts a
  WHERE a.delivery_id = j.id ORDER BY a.attempt_number DESC LIMIT 1
) last ON TRUE
WHERE j.job_type = 'webhook_delivery';
