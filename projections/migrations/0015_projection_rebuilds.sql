-- Projection rebuilds (`microcred projections rebuild`, `POST /admin/projections/{name}/rebuild`):
-- one row per rebuild. The shadow schema holds the rebuild's tables, offsets and dead letters
-- until the swap moves its tables into `public` (in one transaction, with `status` = 'swapped').
-- A rebuild runs while its process holds a PostgreSQL advisory lock per projection; a 'running'
-- row whose lock nobody holds was interrupted (its process died) and can be resumed or abandoned.
CREATE TABLE projection_rebuilds (
  id UUID PRIMARY KEY,
  -- The projections rebuilt together (one read of their topics, one swap).
  projections TEXT[] NOT NULL CHECK (cardinality(projections) > 0),
  -- The system whose topics it reads (KAFKA_TOPIC_PREFIX).
  topic_prefix TEXT NOT NULL,
  shadow_schema TEXT NOT NULL UNIQUE,
  status TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'swapped', 'failed', 'cancelled')),
  -- Where a running rebuild stands: 'preparing' (shadow tables), 'replaying' (from offset 0 to the
  -- head), 'indexing' (secondary indexes), 'swapping' (the last events and the swap).
  phase TEXT NOT NULL DEFAULT 'preparing' CHECK (phase IN ('preparing', 'replaying', 'indexing', 'swapping', 'done')),
  events_applied BIGINT NOT NULL DEFAULT 0,
  offsets_done BIGINT NOT NULL DEFAULT 0,
  offsets_total BIGINT NOT NULL DEFAULT 0,
  requested_by TEXT,
  -- host:pid of the process running it (the last one, after a resume).
  runner TEXT,
  error TEXT,
  warnings JSONB NOT NULL DEFAULT '[]',
  started_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  heartbeat_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  finished_at TIMESTAMPTZ
);
CREATE INDEX idx_projection_rebuilds_running ON projection_rebuilds (topic_prefix, started_at DESC)
  WHERE status = 'running';
CREATE INDEX idx_projection_rebuilds_started ON projection_rebuilds (topic_prefix, started_at DESC);
