-- Read models shaped like the seed schema (seeds/000). They are projections of Kafka event
-- streams, not a write model. Differences from the seed, and why:
--  * No foreign keys between tables fed by different streams (users, catalog, assessments):
--    their projections consume independently, so a row may briefly arrive before the row it
--    references. Keys within one aggregate's stream (assessment → snapshots → responses → scores)
--    keep their foreign keys: those events arrive in order.
--  * No pgvector in Debian's PostgreSQL: vectors live in Elasticsearch; raw embeddings in bytea.
--  * Questions are versioned: `questions` holds the current version, `question_versions` all.
CREATE EXTENSION IF NOT EXISTS citext;

CREATE TABLE role_catalog (
  id UUID PRIMARY KEY,
  name VARCHAR(64) NOT NULL,
  description TEXT,
  skills_profile JSONB,
  active BOOLEAN NOT NULL DEFAULT TRUE,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

CREATE TABLE users (
  id UUID PRIMARY KEY,
  email CITEXT UNIQUE NOT NULL,
  role VARCHAR(32) NOT NULL CHECK (role IN ('student','advisor','admin')),
  profile JSONB,
  status VARCHAR(16) NOT NULL DEFAULT 'active',
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

CREATE TABLE questions (
  id UUID PRIMARY KEY,
  role_id UUID NOT NULL,
  question_type VARCHAR(32) NOT NULL CHECK (question_type IN ('multiple_choice','essay','profile')),
  prompt TEXT NOT NULL,
  choices JSONB,
  rubric JSONB NOT NULL,
  weight NUMERIC(5,2) NOT NULL,
  required BOOLEAN NOT NULL DEFAULT TRUE,
  version VARCHAR(32) NOT NULL,
  active BOOLEAN NOT NULL DEFAULT TRUE,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX idx_questions_role_active ON questions(role_id) WHERE active;

CREATE TABLE question_versions (
  question_id UUID NOT NULL,
  version VARCHAR(32) NOT NULL,
  role_id UUID NOT NULL,
  question_type VARCHAR(32) NOT NULL,
  prompt TEXT NOT NULL,
  choices JSONB,
  rubric JSONB NOT NULL,
  weight NUMERIC(5,2) NOT NULL,
  required BOOLEAN NOT NULL DEFAULT TRUE,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  PRIMARY KEY (question_id, version)
);

CREATE TABLE assessments (
  id UUID PRIMARY KEY,
  user_id UUID NOT NULL,
  role_id UUID NOT NULL,
  status VARCHAR(24) NOT NULL CHECK (status IN ('in_progress','awaiting_async','completed','failed')),
  degraded BOOLEAN NOT NULL DEFAULT FALSE,
  answered INTEGER NOT NULL DEFAULT 0,
  total INTEGER NOT NULL DEFAULT 0,
  started_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  expires_at TIMESTAMPTZ,
  submitted_at TIMESTAMPTZ,
  completed_at TIMESTAMPTZ,
  metadata JSONB,
  version BIGINT NOT NULL DEFAULT 0,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX idx_assessments_user ON assessments(user_id);
CREATE INDEX idx_assessments_status ON assessments(status);

CREATE TABLE assessment_question_snapshots (
  id UUID PRIMARY KEY,
  assessment_id UUID NOT NULL REFERENCES assessments(id) ON DELETE CASCADE,
  question_id UUID NOT NULL,
  position INTEGER NOT NULL,
  prompt TEXT NOT NULL,
  rubric JSONB NOT NULL,
  question_type VARCHAR(32) NOT NULL,
  choices JSONB,
  weight NUMERIC(5,2),
  required BOOLEAN NOT NULL DEFAULT TRUE,
  version VARCHAR(32) NOT NULL,
  UNIQUE (assessment_id, question_id)
);

CREATE TABLE assessment_responses (
  id UUID PRIMARY KEY,
  assessment_id UUID NOT NULL REFERENCES assessments(id) ON DELETE CASCADE,
  question_snapshot_id UUID NOT NULL REFERENCES assessment_question_snapshots(id),
  answer JSONB NOT NULL,
  revision INTEGER NOT NULL DEFAULT 1,
  submitted_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  UNIQUE (assessment_id, question_snapshot_id)
);

CREATE TABLE rule_scores (
  id UUID PRIMARY KEY,
  assessment_id UUID NOT NULL REFERENCES assessments(id) ON DELETE CASCADE,
  question_snapshot_id UUID NOT NULL REFERENCES assessment_question_snapshots(id),
  score NUMERIC(7,2) NOT NULL,
  max_score NUMERIC(7,2) NOT NULL,
  explanation TEXT,
  rules_applied JSONB,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  UNIQUE (assessment_id, question_snapshot_id)
);

CREATE TABLE essay_scores (
  id UUID PRIMARY KEY,
  assessment_id UUID REFERENCES assessments(id) ON DELETE CASCADE,
  question_snapshot_id UUID REFERENCES assessment_question_snapshots(id),
  score NUMERIC(5,2),
  model VARCHAR(64) NOT NULL,
  prompt_version VARCHAR(32) NOT NULL,
  latency_ms INTEGER,
  cost_cents NUMERIC(7,2),
  response_payload JSONB,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  UNIQUE (assessment_id, question_snapshot_id)
);

CREATE TABLE credential_catalog (
  id UUID PRIMARY KEY,
  title TEXT NOT NULL,
  description TEXT,
  skills TEXT[],
  provider TEXT,
  metadata JSONB,
  active BOOLEAN NOT NULL DEFAULT TRUE,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX idx_credential_catalog_skills ON credential_catalog USING gin (skills);

CREATE TABLE embedding_artifacts (
  id UUID PRIMARY KEY,
  entity_type VARCHAR(32) NOT NULL,
  entity_id UUID NOT NULL,
  provider VARCHAR(32) NOT NULL,
  raw_embedding BYTEA,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  UNIQUE (entity_type, entity_id, provider)
);
CREATE INDEX idx_embedding_artifacts_provider ON embedding_artifacts(provider);

CREATE TABLE recommendations (
  id UUID PRIMARY KEY,
  assessment_id UUID UNIQUE REFERENCES assessments(id),
  summary TEXT,
  degraded BOOLEAN NOT NULL DEFAULT FALSE,
  status VARCHAR(24) NOT NULL CHECK (status IN ('pending','ready','failed')),
  generated_at TIMESTAMPTZ,
  metrics JSONB,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX idx_recommendations_status ON recommendations(status);

CREATE TABLE recommendation_items (
  id UUID PRIMARY KEY,
  recommendation_id UUID REFERENCES recommendations(id) ON DELETE CASCADE,
  credential_id UUID,
  title TEXT NOT NULL,
  confidence NUMERIC(5,3) NOT NULL,
  rationale TEXT,
  source_trace_ids UUID[],
  position INTEGER NOT NULL,
  UNIQUE (recommendation_id, credential_id)
);
CREATE INDEX idx_recommendation_items_position ON recommendation_items(recommendation_id, position);

CREATE TABLE rag_traces (
  id UUID PRIMARY KEY,
  recommendation_id UUID REFERENCES recommendations(id) ON DELETE CASCADE,
  source_uri TEXT NOT NULL,
  snippet TEXT NOT NULL,
  similarity NUMERIC(5,3) NOT NULL,
  embedding_artifact_id UUID REFERENCES embedding_artifacts(id),
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

CREATE TABLE webhook_events (
  id UUID PRIMARY KEY,
  assessment_id UUID,
  event_type VARCHAR(64) NOT NULL,
  payload JSONB NOT NULL,
  status VARCHAR(24) NOT NULL,
  response_code INTEGER,
  last_attempt TIMESTAMPTZ,
  attempts INTEGER NOT NULL DEFAULT 0,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

CREATE TABLE recommendation_feedback (
  id UUID PRIMARY KEY,
  recommendation_id UUID REFERENCES recommendations(id) ON DELETE CASCADE,
  submitted_by UUID,
  submitted_by_role VARCHAR(16) NOT NULL,
  relevance_score INTEGER CHECK (relevance_score BETWEEN 1 AND 5),
  acceptance_status VARCHAR(16),
  comments TEXT,
  submitted_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX idx_recommendation_feedback_reco ON recommendation_feedback(recommendation_id);

CREATE TABLE audit_logs (
  id UUID PRIMARY KEY,
  actor_id UUID,
  actor_role VARCHAR(16),
  action VARCHAR(64) NOT NULL,
  resource_type VARCHAR(32) NOT NULL,
  resource_id UUID,
  metadata JSONB,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX idx_audit_logs_resource ON audit_logs(resource_type, resource_id, created_at);

CREATE TABLE metric_snapshots (
  id UUID PRIMARY KEY,
  assessment_id UUID,
  metric_type VARCHAR(32) NOT NULL,
  value NUMERIC(12,3) NOT NULL,
  context JSONB,
  captured_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
