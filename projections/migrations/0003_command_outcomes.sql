-- Outcome of every command, projected from the replies topic: backs GET /commands/{id} for
-- requests that were answered "202 pending" because the decider was slow or away.
CREATE TABLE command_outcomes (
  command_id UUID PRIMARY KEY,
  context VARCHAR(32) NOT NULL,
  command_type VARCHAR(64) NOT NULL,
  aggregate_id UUID NOT NULL,
  issued_by UUID,
  outcome VARCHAR(16) NOT NULL CHECK (outcome IN ('accepted', 'rejected')),
  error JSONB,
  events INTEGER NOT NULL DEFAULT 0,
  decided_at TIMESTAMPTZ NOT NULL
);
