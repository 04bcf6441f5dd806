-- Poison events: an event a projection cannot decode or apply is set aside here (and copied to
-- the dead-letter topic) so the partition moves on. Later events of the same aggregate wait here
-- too ('held'), since applying them without the poisoned one would corrupt the row. `microcred
-- deadletters replay` applies them in log order once the cause is fixed.
CREATE TABLE projection_dead_letters (
  id BIGSERIAL PRIMARY KEY,
  projection TEXT NOT NULL,
  topic TEXT NOT NULL,
  partition INTEGER NOT NULL,
  "offset" BIGINT NOT NULL,
  aggregate_id TEXT NOT NULL,
  event_type TEXT,
  -- 'poison': failed itself; 'held': queued behind an earlier poison event of its aggregate.
  reason TEXT NOT NULL CHECK (reason IN ('poison', 'held')),
  -- 'open' until replayed.
  status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'replayed')),
  error JSONB NOT NULL,
  value BYTEA,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  replayed_at TIMESTAMPTZ,
  UNIQUE (projection, topic, partition, "offset")
);
CREATE INDEX projection_dead_letters_open ON projection_dead_letters (projection, aggregate_id) WHERE status = 'open';
