import type { PoolClient } from 'pg';
import { v5 as uuidv5 } from 'uuid';
import type {
  AssessmentCompleted,
  AssessmentEvent,
  AssessmentFailed,
  AssessmentStarted,
  AssessmentSubmitted,
  EssayScored,
  ResponseRecorded,
  ResponseRuleScored,
} from '../../domain/assessment/assessment';
import type { StoredOf } from '../../services/messaging/envelopes';
import type { Projection } from '../runtime/projection';

/**
 * Assessment events → `assessments` (status and progress), `assessment_question_snapshots`
 * (the questions as they were at start), `assessment_responses` (the latest answer to each)
 * and `rule_scores` (the latest rule score of each).
 *
 * `assessments.version` is the last event applied to the assessment. Every event first claims
 * its version (`UPDATE … WHERE version < event version`); an event that cannot (a replay of
 * one already applied) changes nothing, here or in the child tables.
 */
export const ASSESSMENTS_PROJECTION = 'assessments';

/**
 * Namespace of snapshot and score row ids: `uuidv5("<assessment_id>/<question_id>", …)`.
 * It is `uuidv5('microcred.assessment-rows', MICROCRED_NAMESPACE)`, fixed for ever, so a rebuild
 * from offset 0 gives every row the id it had before.
 */
export const ASSESSMENT_ROWS_NAMESPACE = '30795e0e-e704-59b6-a5c4-9cc95d66b700';

/** Id of the snapshot row of a question in an assessment. */
export function snapshotIdOf(assessmentId: string, questionId: string): string {
  return uuidv5(`${assessmentId}/${questionId}`, ASSESSMENT_ROWS_NAMESPACE);
}

function responseIdOf(assessmentId: string, questionId: string): string {
  return uuidv5(`${assessmentId}/${questionId}/response`, ASSESSMENT_ROWS_NAMESPACE);
}

function ruleScoreIdOf(assessmentId: string, questionId: string): string {
  return uuidv5(`${assessmentId}/${questionId}/rule_score`, ASSESSMENT_ROWS_NAMESPACE);
}

type Stored<E extends AssessmentEvent> = StoredOf<E>;

export const assessmentsProjection: Projection = {
  name: ASSESSMENTS_PROJECTION,
  topics: (topics) => [topics.assessment.events],
  tables: ['assessments', 'assessment_question_snapshots', 'assessment_responses', 'rule_scores'],
  async apply(client, record) {
    const event = record as Stored<AssessmentEvent>;
    switch (event.type) {
      case 'AssessmentStarted':
        return started(client, event);
      case 'ResponseRecorded':
        return responseRecorded(client, event);
      case 'ResponseRuleScored':
        return ruleScored(client, event);
      case 'AssessmentSubmitted':
        return submitted(client, event);
      case 'EssayScored':
        return essayScored(client, event);
      case 'EssayScoringFailed':
        await claim(client, event, 'degraded = TRUE');
        return;
      case 'EssayScoreOverridden':
        await claim(client, event);
        return;
      case 'AssessmentCompleted':
        return completed(client, event);
      case 'AssessmentFailed':
        return failed(client, event);
      default:
        return;
    }
  },
};

async function started(client: PoolClient, event: Stored<AssessmentStarted>): Promise<void> {
  const d = event.data;
  const { rowCount } = await client.query(
    `INSERT INTO assessments (id, user_id, role_id, status, degraded, answered, total, started_at, expires_at, metadata, version, created_at, updated_at)
     VALUES ($1, $2, $3, 'in_progress', FALSE, 0, $4, $5, $6, $7, $8, $5, $9)
     ON CONFLICT (id) DO NOTHING`,
    [
      d.assessment_id,
      d.user_id,
      d.role_id,
      d.questions.length,
      d.started_at,
      d.expires_at,
      json(d.metadata),
      event.version,
      event.occurred_at,
    ],
  );
  if (rowCount === 0) return;
  // Every question of the snapshot in one statement: a start carries a whole role's questions.
  await client.query(
    `INSERT INTO assessment_question_snapshots (id, assessment_id, question_id, position, prompt, rubric, question_type, choices, weight, required, version)
     SELECT q.id, $1, q.question_id, q.position, q.prompt, q.rubric, q.question_type, q.choices, q.weight, q.required, q.version
     FROM jsonb_to_recordset($2::jsonb) AS q(id UUID, question_id UUID, position INTEGER, prompt TEXT, rubric JSONB,
       question_type VARCHAR(32), choices JSONB, weight NUMERIC(5,2), required BOOLEAN, version VARCHAR(32))
     ON CONFLICT (id) DO NOTHING`,
    [
      d.assessment_id,
      JSON.stringify(
        d.questions.map((q, position) => ({
          id: snapshotIdOf(d.assessment_id, q.question_id),
          question_id: q.question_id,
          position,
          prompt: q.prompt,
          rubric: q.rubric,
          question_type: q.type,
          choices: q.choices ?? null,
          weight: q.weight,
          required: q.required,
          version: q.version,
        })),
      ),
    ],
  );
}

async function responseRecorded(client: PoolClient, event: Stored<ResponseRecorded>): Promise<void> {
  const d = event.data;
  if (!(await claim(client, event))) return;
  // Through the snapshot row, so an answer to a question outside the snapshot is dropped
  // instead of wedging the projection on the foreign key.
  await client.query(
    `INSERT INTO assessment_responses (id, assessment_id, question_snapshot_id, answer, revision, submitted_at)
     SELECT $1, s.assessment_id, s.id, $3, $4, $5 FROM assessment_question_snapshots s WHERE s.id = $2
     ON CONFLICT (assessment_id, question_snapshot_id) DO UPDATE SET
       answer = EXCLUDED.answer, revision = EXCLUDED.revision, submitted_at = EXCLUDED.submitted_at
     WHERE assessment_responses.revision < EXCLUDED.revision`,
    [
      responseIdOf(d.assessment_id, d.question_id),
      snapshotIdOf(d.assessment_id, d.question_id),
      JSON.stringify(d.answer),
      d.revision,
      d.submitted_at,
    ],
  );
  await client.query(
    'UPDATE assessments SET answered = (SELECT count(*) FROM assessment_responses WHERE assessment_id = $1) WHERE id = $1',
    [d.assessment_id],
  );
}

async function ruleScored(client: PoolClient, event: Stored<ResponseRuleScored>): Promise<void> {
  const d = event.data;
  if (!(await claim(client, event))) return;
  await client.query(
    `INSERT INTO rule_scores (id, assessment_id, question_snapshot_id, score, max_score, explanation, rules_applied, created_at)
     SELECT $1, s.assessment_id, s.id, $3, $4, $5, $6, $7 FROM assessment_question_snapshots s WHERE s.id = $2
     ON CONFLICT (assessment_id, question_snapshot_id) DO UPDATE SET
       score = EXCLUDED.score, max_score = EXCLUDED.max_score, explanation = EXCLUDED.explanation,
       rules_applied = EXCLUDED.rules_applied, created_at = EXCLUDED.created_at`,
    [
      ruleScoreIdOf(d.assessment_id, d.question_id),
      snapshotIdOf(d.assessment_id, d.question_id),
      d.score,
      d.max_score,
      d.explanation,
      JSON.stringify(d.rules_applied),
      event.occurred_at,
    ],
  );
}

async function submitted(client: PoolClient, event: Stored<AssessmentSubmitted>): Promise<void> {
  const d = event.data;
  await claim(client, event, "status = 'awaiting_async', answered = $4, total = $5, submitted_at = $6", [
    d.answered,
    d.total,
    d.submitted_at,
  ]);
}

/** Essay scores get their own read model with the essay-scoring flow; here only the degraded flag. */
async function essayScored(client: PoolClient, event: Stored<EssayScored>): Promise<void> {
  await claim(client, event, 'degraded = degraded OR $4', [event.data.degraded]);
}

async function completed(client: PoolClient, event: Stored<AssessmentCompleted>): Promise<void> {
  const d = event.data;
  await claim(client, event, "status = 'completed', completed_at = $4, degraded = degraded OR $5", [
    d.completed_at,
    d.degraded,
  ]);
}

async function failed(client: PoolClient, event: Stored<AssessmentFailed>): Promise<void> {
  await claim(client, event, "status = 'failed'");
}

/**
 * Records that the assessment has seen `event` (version, updated_at), with any further
 * `SET` assignments (parameters from $4). False when the event was applied before, or the
 * assessment is unknown: the caller then writes nothing.
 */
async function claim(
  client: PoolClient,
  event: Stored<AssessmentEvent>,
  assignments?: string,
  values: unknown[] = [],
): Promise<boolean> {
  const { rowCount } = await client.query(
    `UPDATE assessments SET version = $2, updated_at = $3${assignments ? `, ${assignments}` : ''}
     WHERE id = $1 AND version < $2`,
    [event.aggregate_id, event.version, event.occurred_at, ...values],
  );
  return rowCount === 1;
}

function json(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}
