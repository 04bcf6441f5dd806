-- Recommendations: the seed's recommendations, recommendation_items, rag_traces,
-- recommendation_feedback and metric_snapshots (their columns kept), extended with what the
-- assessment events carry (EvidenceRetrieved, RecommendationsGenerated, AssessmentCompleted,
-- AssessmentFailed, RecommendationFeedbackReceived). Written by the recommendations projection
-- (projections/recommendations/projection.ts); read by the result and feedback routes, the
-- recommendation processor's collaborative signal and the dashboards.
--
-- Constraints on columns that already existed are added NOT VALID: enforced on every row written
-- from now on, without refusing to migrate a database holding older rows.

-- One row per assessment, id = recommendationIdFor(assessment_id): `pending` once its evidence is
-- recorded, `ready` with its ranked items, `failed` when the assessment failed (a failure before
-- any evidence gets a row too, so that the result can say why). `summary` is the prose summary;
-- `degraded` the assessment's overall flag (AssessmentCompleted's), the stages' own flags beside it.
ALTER TABLE recommendations
  ADD COLUMN role_id UUID,
  ADD COLUMN strengths TEXT[] NOT NULL DEFAULT '{}',
  ADD COLUMN gaps TEXT[] NOT NULL DEFAULT '{}',
  ADD COLUMN next_steps TEXT[] NOT NULL DEFAULT '{}',
  ADD COLUMN query_summary TEXT,
  ADD COLUMN evidence_degraded BOOLEAN NOT NULL DEFAULT FALSE,
  ADD COLUMN evidence_latency_ms INTEGER CHECK (evidence_latency_ms >= 0),
  ADD COLUMN evidence_job_key TEXT,
  ADD COLUMN retrieved_at TIMESTAMPTZ,
  ADD COLUMN recommendation_degraded BOOLEAN NOT NULL DEFAULT FALSE,
  ADD COLUMN provider VARCHAR(32),
  ADD COLUMN model VARCHAR(64),
  ADD COLUMN prompt_version VARCHAR(32),
  ADD COLUMN tokens_in INTEGER CHECK (tokens_in >= 0),
  ADD COLUMN tokens_out INTEGER CHECK (tokens_out >= 0),
  ADD COLUMN cost_cents NUMERIC(12,6) CHECK (cost_cents >= 0),
  -- The student's skill profile the ranking used ({role_id, skills, vector}); null in older events.
  ADD COLUMN profile JSONB CHECK (profile IS NULL OR jsonb_typeof(profile) = 'object'),
  ADD COLUMN job_key TEXT,
  ADD COLUMN completed_at TIMESTAMPTZ,
  ADD COLUMN failed_at TIMESTAMPTZ,
  ADD COLUMN failed_reason TEXT,
  -- The last assessment event (stream version) applied: an older one replayed changes nothing.
  ADD COLUMN version BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  ADD CONSTRAINT recommendations_ready_generated CHECK (status <> 'ready' OR generated_at IS NOT NULL) NOT VALID,
  ADD CONSTRAINT recommendations_failed_reason CHECK (status <> 'failed' OR failed_reason IS NOT NULL) NOT VALID,
  ADD CONSTRAINT recommendations_metrics_object CHECK (metrics IS NULL OR jsonb_typeof(metrics) = 'object') NOT VALID;
-- The assessments and recommendations read models are separate projections, each rebuilt from the
-- log on its own: a foreign key between them would order their writes and block either rebuild.
ALTER TABLE recommendations DROP CONSTRAINT IF EXISTS recommendations_assessment_id_fkey;
-- The collaborative signal: the newest ready recommendations of a role that carry a profile.
CREATE INDEX idx_recommendations_role_ready ON recommendations (role_id, generated_at DESC, id DESC)
  WHERE status = 'ready' AND profile IS NOT NULL;

-- Ranked credentials, id = idFromKey('recommendation-item', '<recommendation_id>/<credential_id>'),
-- with the ranking's components (each 0..1, null when that signal was not available).
ALTER TABLE recommendation_items
  ADD COLUMN score_content NUMERIC(5,3) CHECK (score_content BETWEEN 0 AND 1),
  ADD COLUMN score_skill_gap NUMERIC(5,3) CHECK (score_skill_gap BETWEEN 0 AND 1),
  ADD COLUMN score_collaborative NUMERIC(5,3) CHECK (score_collaborative BETWEEN 0 AND 1),
  ADD COLUMN created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  ADD CONSTRAINT recommendation_items_confidence CHECK (confidence BETWEEN 0 AND 1) NOT VALID,
  ADD CONSTRAINT recommendation_items_position CHECK (position >= 1) NOT VALID;

-- The evidence, id = the trace id: a passage of a source (a credential, a knowledge document)
-- quoted verbatim, `[start_offset, end_offset)` of the source's text in UTF-16 code units (as
-- JavaScript counts them, so no CHECK against char_length here), `position` its rank in the evidence.
ALTER TABLE rag_traces
  ADD COLUMN assessment_id UUID,
  ADD COLUMN position INTEGER CHECK (position >= 1),
  ADD COLUMN source_id TEXT,
  ADD COLUMN source_type VARCHAR(32),
  ADD COLUMN start_offset INTEGER CHECK (start_offset >= 0),
  ADD COLUMN end_offset INTEGER,
  ADD COLUMN embedding_provider VARCHAR(32),
  ADD COLUMN embedding_model VARCHAR(64),
  ADD CONSTRAINT rag_traces_span CHECK (end_offset >= start_offset) NOT VALID,
  ADD CONSTRAINT rag_traces_similarity CHECK (similarity BETWEEN -1 AND 1) NOT VALID;
CREATE INDEX idx_rag_traces_recommendation ON rag_traces (recommendation_id, position);

-- Feedback: one row per (recommendation, credential, submitter), holding that person's latest
-- revision (1 for their first feedback on the item, then 2, 3, …); `created_at` is the first one's.
ALTER TABLE recommendation_feedback
  ADD COLUMN assessment_id UUID,
  ADD COLUMN credential_id UUID,
  ADD COLUMN revision INTEGER NOT NULL DEFAULT 1 CHECK (revision >= 1),
  ADD COLUMN created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  ADD CONSTRAINT recommendation_feedback_acceptance
    CHECK (acceptance_status IN ('accepted','rejected','pending')) NOT VALID,
  ADD CONSTRAINT recommendation_feedback_submitter_role
    CHECK (submitted_by_role IN ('student','advisor','admin')) NOT VALID,
  ADD CONSTRAINT recommendation_feedback_one_per_person UNIQUE (recommendation_id, credential_id, submitted_by);
-- The dashboards' feedback per credential, filtered to one credential.
CREATE INDEX idx_recommendation_feedback_credential ON recommendation_feedback (credential_id, submitted_at);

-- Processing metrics, one row per (assessment, metric): total_latency_ms, gpt_latency_ms,
-- rag_latency_ms (when measured) and token_cost_cents, captured when the recommendations were
-- generated; id = idFromKey('metric-snapshot', '<assessment_id>/<metric_type>'). A cost is kept to
-- the millionth of a cent, as essay_scores.cost_cents is (a rationale costs hundredths of a cent).
ALTER TABLE metric_snapshots ALTER COLUMN value TYPE NUMERIC(18,6);
CREATE UNIQUE INDEX idx_metric_snapshots_assessment ON metric_snapshots (assessment_id, metric_type) INCLUDE (value);
