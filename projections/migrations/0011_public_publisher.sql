-- The public topic publisher (services/publisher/publisher.ts): infrastructure state, not a read
-- model. Every row names the internal events topic it was folded from (`source_topic`), so
-- systems on different topic prefixes sharing a database never see each other's rows.
--
-- Exactly once: a batch of assessment events is first folded here, in one PostgreSQL
-- transaction guarded by the partition's offset row, then its public records (read back from the
-- outbox) are produced with the consumed offsets in one Kafka transaction. A crash in between
-- redelivers the batch: the fold skips what it already applied, and the outbox gives the same
-- records again, byte for byte.

-- How far each events partition has been folded (the next offset to fold). Locked by every fold
-- of the partition, so two publishers overlapping during a rebalance fold it one at a time.
CREATE TABLE public_publisher_offsets (
  source_topic TEXT NOT NULL,
  partition INTEGER NOT NULL CHECK (partition >= 0),
  next_offset BIGINT NOT NULL CHECK (next_offset >= 0),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  PRIMARY KEY (source_topic, partition)
);

-- What the public records need to know of an assessment in flight (role, question types and
-- weights, scores, degraded flag, ranking), folded from its events; no answers, no user id.
-- Deleted once the assessment completes or fails (feedback records need none of it).
CREATE TABLE public_publisher_facts (
  source_topic TEXT NOT NULL,
  assessment_id TEXT NOT NULL,
  facts JSONB NOT NULL CHECK (jsonb_typeof(facts) = 'object'),
  -- The last event offset folded into the row (its partition's events only).
  last_offset BIGINT NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  PRIMARY KEY (source_topic, assessment_id)
);

-- Public records built at fold time, one per source event, keyed by the source event id: the
-- record a crashed batch produces again. Rows whose source offset is below a later batch's first
-- offset are already committed to Kafka and are deleted by that batch's fold.
CREATE TABLE public_publisher_outbox (
  source_topic TEXT NOT NULL,
  event_id TEXT NOT NULL,
  partition INTEGER NOT NULL CHECK (partition >= 0),
  source_offset BIGINT NOT NULL CHECK (source_offset >= 0),
  event_type TEXT NOT NULL,
  record_key TEXT NOT NULL,
  -- Confluent wire format: magic byte, schema id, Avro body.
  record_value BYTEA NOT NULL,
  -- The CloudEvents binary-mode headers, {name: value}.
  headers JSONB NOT NULL CHECK (jsonb_typeof(headers) = 'object'),
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  PRIMARY KEY (source_topic, event_id)
);
CREATE INDEX public_publisher_outbox_position ON public_publisher_outbox (source_topic, partition, source_offset);
