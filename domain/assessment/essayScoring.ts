import type { Actor, Command } from '../shared/decider';
import { domainError } from '../shared/errors';
import type { JsonValue } from '../shared/json';
import { nowOf, requireInstant, requireText, requireUuid } from '../shared/validation';
import type {
  AssessmentEvent,
  AssessmentState,
  EssayEmbedding,
  EssayScored,
  QuestionSnapshot,
  StartedAssessment,
} from './assessment';
import { round2 } from './ruleScoring';

/**
 * Essay scoring as the assessment decider sees it. The essay-scoring processor reports each
 * result (or a failure) with a command; the decider accepts the first report per question and
 * drops any later one (a retried job, a second processor), so each essay is scored, and its
 * cost recorded, once. Advisors and admins may then override a score, with a reason.
 */

/** Reported by the essay-scoring processor (actor: system). */
export type RecordEssayScore = Command<
  'RecordEssayScore',
  {
    assessment_id: string;
    question_id: string;
    revision: number;
    score: number;
    criteria: JsonValue;
    explanation: string;
    provider: string;
    model: string;
    prompt_version: string;
    degraded: boolean;
    flags: JsonValue;
    needs_review: boolean;
    tokens_in: number | null;
    tokens_out: number | null;
    cost_cents: number | null;
    latency_ms: number | null;
    job_key: string | null;
    embedding: EssayEmbedding | null;
  }
>;

/** Reported by the essay-scoring processor when every scorer failed for good. */
export type ReportEssayScoringFailed = Command<
  'ReportEssayScoringFailed',
  {
    assessment_id: string;
    question_id: string;
    revision: number;
    reason: string;
    attempts: number;
    job_key: string | null;
  }
>;

/** An advisor's (or admin's) correction of an essay score. */
export type OverrideEssayScore = Command<
  'OverrideEssayScore',
  {
    assessment_id: string;
    question_id: string;
    score: number;
    reason: string;
  }
>;

export type EssayScoringCommand = RecordEssayScore | ReportEssayScoringFailed | OverrideEssayScore;

export const MAX_OVERRIDE_REASON_LENGTH = 2000;

function requireSystem(actor: Actor, what: string): void {
  if (actor.role !== 'system') {
    throw domainError('SYSTEM_ACTOR_REQUIRED', `Only the essay-scoring processor may ${what}.`, {
      actor_role: actor.role,
    });
  }
}

interface EssayTarget {
  state: StartedAssessment & { status: 'awaiting_async' };
  question: QuestionSnapshot;
  revision: number;
}

/**
 * The answered essay a report is about, or null when the report comes too late to matter (the
 * essay already has a score or a failure, or the assessment has completed or failed): the
 * decider then writes nothing, which is what makes a repeated report harmless.
 */
function reportTarget(
  state: AssessmentState,
  data: { assessment_id: unknown; question_id: unknown; revision: unknown },
): EssayTarget | null {
  const assessmentId = requireUuid(data.assessment_id, 'assessment_id');
  if (state.status === 'not_started') {
    throw domainError('ASSESSMENT_NOT_FOUND', `No assessment with id ${assessmentId}.`);
  }
  const question = essayQuestion(state, data.question_id);
  if (state.status === 'in_progress') {
    throw domainError('ASSESSMENT_NOT_SUBMITTED', `Assessment ${assessmentId} has not been submitted yet.`);
  }
  if (state.status !== 'awaiting_async') return null;
  const response = state.responses[question.question_id];
  if (!response) {
    throw domainError('ESSAY_NOT_ANSWERED', `Question ${question.question_id} was not answered.`, {
      question_id: question.question_id,
    });
  }
  if (data.revision !== response.revision) {
    throw domainError(
      'STALE_ESSAY_REVISION',
      `The report is about revision ${String(data.revision)} of question ${question.question_id}, but the submitted answer is revision ${response.revision}.`,
      { question_id: question.question_id, revision: response.revision },
    );
  }
  if (state.essay_scores[question.question_id] || state.essay_failures?.[question.question_id]) return null;
  return { state, question, revision: response.revision };
}

function essayQuestion(state: StartedAssessment, questionId: unknown): QuestionSnapshot {
  const id = requireUuid(questionId, 'question_id');
  const question = state.questions.find((q) => q.question_id === id);
  if (!question) {
    throw domainError('UNKNOWN_QUESTION', `Question ${id} is not part of assessment ${state.assessment_id}.`, {
      question_id: id,
    });
  }
  if (question.type !== 'essay') {
    throw domainError('NOT_AN_ESSAY_QUESTION', `Question ${id} is a ${question.type} question, not an essay.`, {
      question_id: id,
    });
  }
  return question;
}

function requireScore(value: unknown, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > max) {
    throw domainError('INVALID_ESSAY_SCORE', `score must be a number from 0 to ${max} (the question's weight).`, {
      field: 'score',
      max_score: max,
    });
  }
  return round2(value);
}

function optionalCount(value: unknown, field: string): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw domainError('INVALID_COMMAND', `${field} must be a number >= 0 or null.`, { field });
  }
  return value;
}

export function recordEssayScore(command: RecordEssayScore, state: AssessmentState): AssessmentEvent[] {
  const { data, metadata } = command;
  nowOf(metadata);
  requireSystem(metadata.actor, 'record essay scores');
  const target = reportTarget(state, data);
  if (!target) return [];
  const { question, revision } = target;
  const embedding = data.embedding ?? null;
  if (embedding !== null && !(Array.isArray(embedding.vector) && embedding.vector.every(Number.isFinite))) {
    throw domainError('INVALID_COMMAND', 'embedding.vector must be a list of numbers.', { field: 'embedding' });
  }
  const scored: EssayScored = {
    type: 'EssayScored',
    data: {
      assessment_id: target.state.assessment_id,
      question_id: question.question_id,
      question_version: question.version,
      revision,
      score: requireScore(data.score, question.weight),
      max_score: question.weight,
      criteria: data.criteria ?? [],
      explanation: requireText(data.explanation, 'explanation', { maxLength: 4000 }),
      model: requireText(data.model, 'model', { maxLength: 64 }),
      prompt_version: requireText(data.prompt_version, 'prompt_version', { maxLength: 32 }),
      degraded: data.degraded === true,
      latency_ms: optionalCount(data.latency_ms, 'latency_ms'),
      cost_cents: optionalCount(data.cost_cents, 'cost_cents'),
      provider: requireText(data.provider, 'provider', { maxLength: 32 }),
      job_key: data.job_key ?? null,
      flags: data.flags ?? [],
      needs_review: data.needs_review === true,
      tokens_in: optionalCount(data.tokens_in, 'tokens_in'),
      tokens_out: optionalCount(data.tokens_out, 'tokens_out'),
      embedding,
    },
  };
  return [scored];
}

export function reportEssayScoringFailed(command: ReportEssayScoringFailed, state: AssessmentState): AssessmentEvent[] {
  const { data, metadata } = command;
  nowOf(metadata);
  requireSystem(metadata.actor, 'report essay scoring failures');
  const target = reportTarget(state, data);
  if (!target) return [];
  return [
    {
      type: 'EssayScoringFailed',
      data: {
        assessment_id: target.state.assessment_id,
        question_id: target.question.question_id,
        question_version: target.question.version,
        revision: target.revision,
        reason: requireText(data.reason, 'reason', { maxLength: 2000 }),
        attempts: optionalCount(data.attempts, 'attempts') ?? 0,
        job_key: data.job_key ?? null,
        failed_at: requireInstant(metadata.now, 'metadata.now'),
      },
    },
  ];
}

export function overrideEssayScore(command: OverrideEssayScore, state: AssessmentState): AssessmentEvent[] {
  const { data, metadata } = command;
  nowOf(metadata);
  const assessmentId = requireUuid(data.assessment_id, 'assessment_id');
  if (metadata.actor.role !== 'advisor' && metadata.actor.role !== 'admin') {
    throw domainError('ESSAY_SCORE_OVERRIDE_FORBIDDEN', 'Only advisors and admins may override an essay score.', {
      actor_role: metadata.actor.role,
    });
  }
  if (state.status === 'not_started') {
    throw domainError('ASSESSMENT_NOT_FOUND', `No assessment with id ${assessmentId}.`);
  }
  const question = essayQuestion(state, data.question_id);
  if (state.status !== 'awaiting_async' && state.status !== 'completed') {
    throw domainError(
      state.status === 'in_progress' ? 'ASSESSMENT_NOT_SUBMITTED' : 'ASSESSMENT_NOT_IN_PROGRESS',
      `Assessment ${assessmentId} is ${state.status.replace('_', ' ')}; its essay scores cannot be overridden.`,
      { status: state.status },
    );
  }
  const response = state.responses[question.question_id];
  const current = state.essay_scores[question.question_id];
  const failure = state.essay_failures?.[question.question_id];
  if (!response || (!current && !failure)) {
    throw domainError(
      'ESSAY_NOT_SCORED_YET',
      `Question ${question.question_id} has not been scored yet; override it once it is scored.`,
      { question_id: question.question_id },
    );
  }
  return [
    {
      type: 'EssayScoreOverridden',
      data: {
        assessment_id: assessmentId,
        question_id: question.question_id,
        question_version: question.version,
        revision: response.revision,
        previous_score: current?.score ?? null,
        score: requireScore(data.score, question.weight),
        max_score: question.weight,
        reason: requireText(data.reason, 'reason', { maxLength: MAX_OVERRIDE_REASON_LENGTH }),
        answer_text: typeof response.answer === 'string' ? response.answer : JSON.stringify(response.answer),
        overridden_at: requireInstant(metadata.now, 'metadata.now'),
      },
    },
  ];
}
