-- Essay scoring: its read models (essay_scores, embedding_artifacts, essay_examples) and the
-- processors' job table (async_jobs).

-- essay_scores per the seed, plus what the contract shows: the question, who scored it
-- (provider), the per-criterion evidence, flags, tokens, and an advisor's override.
ALTER TABLE essay_scores
  ADD COLUMN question_id UUID,
  ADD COLUMN status VARCHAR(16) NOT NULL DEFAULT 'scored' CHECK (status IN ('scored','failed','overridden')),
  ADD COLUMN max_score NUMERIC(7,2),
  ADD COLUMN provider VARCHAR(32),
  ADD COLUMN degraded BOOLEAN NOT NULL DEFAULT FALSE,
  ADD COLUMN needs_review BOOLEAN NOT NULL DEFAULT FALSE,
  ADD COLUMN tokens_in INTEGER,
  ADD COLUMN tokens_out INTEGER,
  ADD COLUMN revision INTEGER,
  ADD COLUMN version BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW();
ALTER TABLE essay_scores ALTER COLUMN model DROP NOT NULL, ALTER COLUMN prompt_version DROP NOT NULL;
ALTER TABLE essay_scores ALTER COLUMN score TYPE NUMERIC(7,2);
-- An essay scored by gpt-4o-mini costs about 0.02 cents: keep cost to the millionth of a cent.
ALTER TABLE essay_scores ALTER COLUMN cost_cents TYPE NUMERIC(12,6);

-- Vectors per the seed (raw float32 little-endian bytes; no pgvector in Debian), with the model.
ALTER TABLE embedding_artifacts
  ADD COLUMN model VARCHAR(64),
  ADD COLUMN dimensions INTEGER;

-- Human-scored examples per question: the offline scorer's calibration data. From an admin's
-- import (catalog events) and from advisors' overrides (assessment events).
CREATE TABLE essay_examples (
  id UUID PRIMARY KEY,
  question_id UUID NOT NULL,
  text TEXT NOT NULL,
  score NUMERIC(7,2) NOT NULL,
  source VARCHAR(16) NOT NULL CHECK (source IN ('import','override')),
  source_id UUID NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX idx_essay_examples_question ON essay_examples(question_id);

-- The processors' durable jobs (seed: async_jobs). Written by the processor runtime: intake
-- in the same transaction as the consumed offsets, then one row update per attempt. `scope` is
-- the topic prefix, so systems sharing one database (tests) never run each other's jobs.
CREATE TABLE async_jobs (
  id UUID PRIMARY KEY,
  scope TEXT NOT NULL,
  job_key TEXT NOT NULL,
  assessment_id UUID,
  job_type VARCHAR(32) NOT NULL,
  status VARCHAR(24) NOT NULL
    CHECK (status IN ('waiting','queued','running','retrying','succeeded','failed','rejected','cancelled')),
  attempts INTEGER NOT NULL DEFAULT 0,
  payload JSONB,
  error_payload JSONB,
  result JSONB,
  queued_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  started_at TIMESTAMPTZ,
  completed_at TIMESTAMPTZ,
  next_run_at TIMESTAMPTZ,
  lease_until TIMESTAMPTZ,
  locked_by TEXT,
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  UNIQUE (scope, job_key)
);
CREATE INDEX idx_async_jobs_status_next_run ON async_jobs(status, next_run_at);
CREATE INDEX idx_async_jobs_due ON async_jobs(scope, job_type, next_run_at) WHERE status IN ('queued','retrying','running');
CREATE INDEX idx_async_jobs_assessment ON async_jobs(assessment_id);
