-- Bookkeeping that is not a read model.

-- Each projection stores the next offset to read per partition in the same transaction as
-- its rows: exactly-once into PostgreSQL without Kafka offset commits.
CREATE TABLE projection_offsets (
  projection TEXT NOT NULL,
  topic TEXT NOT NULL,
  partition INTEGER NOT NULL,
  next_offset BIGINT NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  PRIMARY KEY (projection, topic, partition)
);

-- Password hashes are secrets: they never enter an event, so they live here, written by the
-- API once the identity decider has accepted the registration.
CREATE TABLE user_credentials (
  user_id UUID PRIMARY KEY,
  password_hash TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

-- Decider snapshots are a cache of a partition's state at an events offset; deleting them
-- costs rebuild time, never correctness.
CREATE TABLE decider_snapshots (
  context TEXT NOT NULL,
  topic TEXT NOT NULL,
  partition INTEGER NOT NULL,
  events_offset BIGINT NOT NULL,
  state BYTEA NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  PRIMARY KEY (context, topic, partition)
);
