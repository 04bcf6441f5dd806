import type { Pool } from 'pg';
import type { AppliedRule, QuestionSnapshot } from '../../domain/assessment/assessment';
import type { Rubric } from '../../domain/assessment/rubric';
import { isUuid } from '../../domain/shared/ids';
import type { JsonObject, JsonValue } from '../../domain/shared/json';

// Queries over the assessment read models (see ./projection.ts).

type Db = Pick<Pool, 'query'>;

export type AssessmentStatus = 'in_progress' | 'awaiting_async' | 'completed' | 'failed';

export interface AssessmentView {
  assessment_id: string;
  user_id: string;
  role_id: string;
  status: AssessmentStatus;
  /** Questions answered so far, out of `total`. */
  answered: number;
  total: number;
  degraded: boolean;
  started_at: string;
  expires_at: string | null;
  submitted_at: string | null;
  completed_at: string | null;
  metadata: JsonObject | null;
  /** Version of the last event applied. */
  version: number;
  /** When that event happened. */
  last_updated_at: string;
}

export interface QuestionSnapshotView {
  snapshot_id: string;
  question_id: string;
  /** Index in the assessment, from 0. */
  position: number;
  version: string;
  type: QuestionSnapshot['type'];
  prompt: string;
  choices: string[] | null;
  rubric: Rubric;
  weight: number;
  required: boolean;
}

export interface RuleScoreView {
  score: number;
  max_score: number;
  explanation: string | null;
  rules_applied: AppliedRule[];
  scored_at: string;
}

export interface ResponseView {
  question_id: string;
  snapshot_id: string;
  position: number;
  answer: JsonValue;
  /** 1 for the first answer, then 2, 3, … for each revision. */
  revision: number;
  submitted_at: string;
  /** The latest rule score (multiple_choice and profile questions), once scored. */
  rule_score: RuleScoreView | null;
}

interface AssessmentRow {
  id: string;
  user_id: string;
  role_id: string;
  status: AssessmentStatus;
  answered: number;
  total: number;
  degraded: boolean;
  started_at: Date;
  expires_at: Date | null;
  submitted_at: Date | null;
  completed_at: Date | null;
  metadata: JsonObject | null;
  version: string;
  updated_at: Date;
}

const iso = (value: Date | null): string | null => (value === null ? null : value.toISOString());

/** The assessment's status and progress, or undefined when the read model does not know it (yet). */
export async function findAssessment(db: Db, assessmentId: string): Promise<AssessmentView | undefined> {
  if (!isUuid(assessmentId)) return undefined;
  const { rows } = await db.query<AssessmentRow>(
    `SELECT id, user_id, role_id, status, answered, total, degraded, started_at, expires_at, submitted_at,
            completed_at, metadata, version, updated_at
     FROM assessments WHERE id = $1`,
    [assessmentId],
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    assessment_id: row.id,
    user_id: row.user_id,
    role_id: row.role_id,
    status: row.status,
    answered: row.answered,
    total: row.total,
    degraded: row.degraded,
    started_at: row.started_at.toISOString(),
    expires_at: iso(row.expires_at),
    submitted_at: iso(row.submitted_at),
    completed_at: iso(row.completed_at),
    metadata: row.metadata,
    version: Number(row.version),
    last_updated_at: row.updated_at.toISOString(),
  };
}

/** The assessment's questions as snapshotted at start, in order. */
export async function questionSnapshots(db: Db, assessmentId: string): Promise<QuestionSnapshotView[]> {
  if (!isUuid(assessmentId)) return [];
  const { rows } = await db.query<Omit<QuestionSnapshotView, 'weight'> & { weight: string | null }>(
    `SELECT id AS snapshot_id, question_id, position, version, question_type AS type, prompt, choices, rubric,
            weight, required
     FROM assessment_question_snapshots WHERE assessment_id = $1 ORDER BY position`,
    [assessmentId],
  );
  return rows.map((row) => ({ ...row, weight: Number(row.weight) }));
}

/** The latest answer to each answered question, in question order, with its rule score. */
export async function responsesOf(db: Db, assessmentId: string): Promise<ResponseView[]> {
  if (!isUuid(assessmentId)) return [];
  const { rows } = await db.query<{
    question_id: string;
    snapshot_id: string;
    position: number;
    answer: JsonValue;
    revision: number;
    submitted_at: Date;
    score: string | null;
    max_score: string | null;
    explanation: string | null;
    rules_applied: AppliedRule[] | null;
    scored_at: Date | null;
  }>(
    `SELECT s.question_id, s.id AS snapshot_id, s.position, r.answer, r.revision, r.submitted_at,
            rs.score, rs.max_score, rs.explanation, rs.rules_applied, rs.created_at AS scored_at
     FROM assessment_responses r
     JOIN assessment_question_snapshots s ON s.id = r.question_snapshot_id
     LEFT JOIN rule_scores rs ON rs.assessment_id = r.assessment_id AND rs.question_snapshot_id = r.question_snapshot_id
     WHERE r.assessment_id = $1
     ORDER BY s.position`,
    [assessmentId],
  );
  return rows.map((row) => ({
    question_id: row.question_id,
    snapshot_id: row.snapshot_id,
    position: row.position,
    answer: row.answer,
    revision: row.revision,
    submitted_at: row.submitted_at.toISOString(),
    rule_score:
      row.score === null || row.scored_at === null
        ? null
        : {
            score: Number(row.score),
            max_score: Number(row.max_score),
            explanation: row.explanation,
            rules_applied: row.rules_applied ?? [],
            scored_at: row.scored_at.toISOString(),
          },
  }));
}
