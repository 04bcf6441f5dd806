import type { Actor, Command, Decider } from '../shared/decider';
import { domainError } from '../shared/errors';
import type { JsonObject, JsonValue } from '../shared/json';
import { isPlainObject } from '../shared/json';
import { parseInstant } from '../shared/time';
import {
  describe,
  isAdminLike,
  nowOf,
  optionalJsonObject,
  requireBoolean,
  requireInstant,
  requireText,
  requireUuid,
} from '../shared/validation';
import type {
  AssessmentEvent,
  AssessmentState,
  InProgress,
  PendingWork,
  QuestionSnapshot,
  ResponseRecorded,
  ResponseRuleScored,
} from './assessment';
import { aggregateType, evolve, initialState } from './assessment';
import { checkAnswer } from './answers';
import type { EssayScoringCommand } from './essayScoring';
import { overrideEssayScore, recordEssayScore, reportEssayScoringFailed } from './essayScoring';
import { validateQuestionDefinition } from './questionDefinition';
import type { RecommendationCommand } from './recommendations';
import { failAssessment, recordEvidence, recordRecommendations, submitRecommendationFeedback } from './recommendations';
import type { QuestionType } from './rubric';
import { isRuleScored, round2, scoreAnswer } from './ruleScoring';

/** A question as the API passes it to StartAssessment (the rubric is validated here). */
export interface QuestionSnapshotInput {
  question_id: string;
  version: string;
  type: QuestionType;
  prompt: string;
  choices: string[] | null;
  rubric: unknown;
  weight: number;
  required: boolean;
}

/**
 * Starts an assessment. The caller reads the role's active questions from the catalog and
 * passes them in; they are snapshotted into the event and never change afterwards.
 */
export type StartAssessment = Command<
  'StartAssessment',
  {
    assessment_id: string;
    user_id: string;
    role_id: string;
    role_name: string;
    questions: QuestionSnapshotInput[];
    expires_at: string;
    metadata?: JsonObject | null;
  }
>;

export interface ResponseInput {
  question_id: string;
  answer: JsonValue;
  /** When the client says the answer was given; defaults to the command's `now`. */
  submitted_at?: string | null;
}

/**
 * Records (or revises) answers while the assessment is in progress; with `complete`, also
 * submits it — all or nothing.
 */
export type RecordResponses = Command<
  'RecordResponses',
  {
    assessment_id: string;
    responses: ResponseInput[];
    complete: boolean;
  }
>;

export type AssessmentCommand = StartAssessment | RecordResponses | EssayScoringCommand | RecommendationCommand;

const commandTypeSet: Record<AssessmentCommand['type'], true> = {
  StartAssessment: true,
  RecordResponses: true,
  RecordEssayScore: true,
  ReportEssayScoringFailed: true,
  OverrideEssayScore: true,
  RecordEvidence: true,
  RecordRecommendations: true,
  FailAssessment: true,
  SubmitRecommendationFeedback: true,
};
export const assessmentCommandTypes = Object.keys(commandTypeSet) as AssessmentCommand['type'][];

export function aggregateIdOf(command: AssessmentCommand): string {
  return command.data.assessment_id;
}

export function aggregateTypeOf(_message: AssessmentCommand | AssessmentEvent): typeof aggregateType {
  return aggregateType;
}

/** The owner, an admin or the system may act on an assessment; advisors only read. */
function mayActFor(actor: Actor, userId: string): boolean {
  return actor.id === userId || isAdminLike(actor);
}

// --- StartAssessment -----------------------------------------------------------------------------

export function startAssessment(command: StartAssessment, state: AssessmentState): AssessmentEvent[] {
  const { data, metadata } = command;
  const now = nowOf(metadata);
  const assessmentId = requireUuid(data.assessment_id, 'assessment_id');
  const userId = requireUuid(data.user_id, 'user_id');
  if (!mayActFor(metadata.actor, userId)) {
    throw domainError('NOT_ASSESSMENT_OWNER', 'You can only start an assessment for yourself.', {
      actor_role: metadata.actor.role,
    });
  }
  if (state.status !== 'not_started') {
    throw domainError('ASSESSMENT_ALREADY_STARTED', `Assessment ${assessmentId} has already been started.`);
  }
  const roleId = requireUuid(data.role_id, 'role_id');
  const roleName = requireText(data.role_name, 'role_name', { maxLength: 64 });
  if (!Array.isArray(data.questions) || data.questions.length === 0) {
    throw domainError(
      'ASSESSMENT_HAS_NO_QUESTIONS',
      `Role "${roleName}" has no active questions, so an assessment cannot start; ask an admin to add questions.`,
      { role_id: roleId },
    );
  }
  const questions = data.questions.map((input, i) => snapshotOf(input, i));
  const ids = questions.map((q) => q.question_id);
  const repeated = ids.find((id, i) => ids.indexOf(id) !== i);
  if (repeated !== undefined) {
    throw domainError('INVALID_QUESTION_SNAPSHOT', `Question ${repeated} appears twice in the assessment.`, {
      question_id: repeated,
    });
  }
  const expiresAt = requireInstant(data.expires_at, 'expires_at', 'INVALID_EXPIRY');
  if (parseInstant(expiresAt)! <= now) {
    throw domainError('INVALID_EXPIRY', `expires_at (${expiresAt}) must be later than now (${metadata.now}).`);
  }
  return [
    {
      type: 'AssessmentStarted',
      data: {
        assessment_id: assessmentId,
        user_id: userId,
        role_id: roleId,
        role_name: roleName,
        questions,
        started_at: requireInstant(metadata.now, 'metadata.now'),
        expires_at: expiresAt,
        metadata: optionalJsonObject(data.metadata, 'metadata'),
      },
    },
  ];
}

function snapshotOf(input: unknown, index: number): QuestionSnapshot {
  const label = `questions[${index}]`;
  if (!isPlainObject(input)) {
    throw domainError('INVALID_QUESTION_SNAPSHOT', `${label} must be a question object.`);
  }
  const questionId = requireUuid(input.question_id, `${label}.question_id`, 'INVALID_QUESTION_SNAPSHOT');
  const version = requireText(input.version, `${label}.version`, { code: 'INVALID_QUESTION_SNAPSHOT', maxLength: 32 });
  const definition = validateQuestionDefinition(
    {
      question_type: input.type,
      prompt: input.prompt,
      choices: input.choices,
      rubric: input.rubric,
      weight: input.weight,
      required: input.required,
    },
    { question: 'INVALID_QUESTION_SNAPSHOT', rubric: 'INVALID_QUESTION_SNAPSHOT' },
    `Question ${questionId} (${label})`,
  );
  return {
    question_id: questionId,
    version,
    type: definition.question_type,
    prompt: definition.prompt,
    choices: definition.choices,
    rubric: definition.rubric,
    weight: definition.weight,
    required: definition.required,
  };
}

// --- RecordResponses -----------------------------------------------------------------------------

export function recordResponses(command: RecordResponses, state: AssessmentState): AssessmentEvent[] {
  const { data, metadata } = command;
  const now = nowOf(metadata);
  const assessmentId = requireUuid(data.assessment_id, 'assessment_id');
  if (state.status === 'not_started') {
    throw domainError('ASSESSMENT_NOT_FOUND', `No assessment with id ${assessmentId}.`);
  }
  if (!mayActFor(metadata.actor, state.user_id)) {
    throw domainError(
      'NOT_ASSESSMENT_OWNER',
      metadata.actor.role === 'advisor'
        ? 'Advisors can view assessments but cannot answer them.'
        : 'Only the student taking this assessment can answer it.',
      { actor_role: metadata.actor.role },
    );
  }
  if (state.status !== 'in_progress') {
    throw domainError(
      'ASSESSMENT_NOT_IN_PROGRESS',
      `Assessment ${assessmentId} is ${state.status.replace('_', ' ')}; answers can no longer be changed.`,
      { status: state.status },
    );
  }
  if (now > parseInstant(state.expires_at)!) {
    throw domainError(
      'ASSESSMENT_EXPIRED',
      `Assessment ${assessmentId} expired at ${state.expires_at}; start a new assessment.`,
      { expires_at: state.expires_at },
    );
  }
  const complete = requireBoolean(data.complete, 'complete');
  if (!Array.isArray(data.responses)) {
    throw domainError('INVALID_COMMAND', 'responses must be a list of {question_id, answer, submitted_at?}.', {
      field: 'responses',
    });
  }
  if (data.responses.length === 0 && !complete) {
    throw domainError('EMPTY_RESPONSE_BATCH', 'Send at least one response, or set complete to submit the assessment.');
  }

  const nowIso = requireInstant(metadata.now, 'metadata.now');
  const events: AssessmentEvent[] = [];
  const seen = new Set<string>();
  const newScores: Record<string, number> = {};
  for (const [i, response] of data.responses.entries()) {
    if (!isPlainObject(response)) {
      throw domainError('INVALID_COMMAND', `responses[${i}] must be an object {question_id, answer, submitted_at?}.`);
    }
    const questionId = response.question_id;
    if (typeof questionId !== 'string' || questionId.length === 0) {
      throw domainError('INVALID_COMMAND', `responses[${i}].question_id must be a question id.`);
    }
    if (seen.has(questionId)) {
      throw domainError(
        'DUPLICATE_RESPONSE',
        `Question ${questionId} is answered more than once in this batch; send one answer per question.`,
        { question_id: questionId },
      );
    }
    seen.add(questionId);
    const question = state.questions.find((q) => q.question_id === questionId);
    if (question === undefined) {
      throw domainError('UNKNOWN_QUESTION', `Question ${questionId} is not part of assessment ${assessmentId}.`, {
        question_id: questionId,
      });
    }
    checkAnswer(question, response.answer);
    const submittedAt =
      response.submitted_at === undefined || response.submitted_at === null
        ? nowIso
        : requireInstant(response.submitted_at, `responses[${i}].submitted_at`);
    events.push(recorded(state, question, response.answer, submittedAt));
    const score = scoreAnswer(question, response.answer);
    if (score !== null) {
      const scored: ResponseRuleScored = {
        type: 'ResponseRuleScored',
        data: {
          assessment_id: state.assessment_id,
          question_id: question.question_id,
          question_version: question.version,
          revision: (state.responses[questionId]?.revision ?? 0) + 1,
          ...score,
        },
      };
      events.push(scored);
      newScores[questionId] = score.score;
    }
  }

  if (!complete) return events;

  const answered = new Set([...Object.keys(state.responses), ...seen]);
  const unanswered = state.questions
    .filter((q) => q.required && !answered.has(q.question_id))
    .map((q) => q.question_id);
  if (unanswered.length > 0) {
    throw domainError(
      'REQUIRED_QUESTIONS_UNANSWERED',
      `Answer the required question${unanswered.length > 1 ? 's' : ''} ${unanswered.join(', ')} before submitting; nothing from this batch was saved.`,
      { question_ids: unanswered },
    );
  }
  const ruleScored = state.questions.filter(isRuleScored);
  const ruleScoreTotal = ruleScored.reduce(
    (sum, q) => sum + (newScores[q.question_id] ?? state.rule_scores[q.question_id]?.score ?? 0),
    0,
  );
  const pending: PendingWork[] = state.questions.some((q) => q.type === 'essay' && answered.has(q.question_id))
    ? ['essay_scoring', 'recommendations']
    : ['recommendations'];
  events.push({
    type: 'AssessmentSubmitted',
    data: {
      assessment_id: state.assessment_id,
      answered: answered.size,
      total: state.questions.length,
      rule_score_total: round2(ruleScoreTotal),
      rule_score_max: round2(ruleScored.reduce((sum, q) => sum + q.weight, 0)),
      pending,
      submitted_at: nowIso,
    },
  });
  return events;
}

function recorded(
  state: InProgress,
  question: QuestionSnapshot,
  answer: JsonValue,
  submittedAt: string,
): ResponseRecorded {
  return {
    type: 'ResponseRecorded',
    data: {
      assessment_id: state.assessment_id,
      question_id: question.question_id,
      question_version: question.version,
      answer,
      revision: (state.responses[question.question_id]?.revision ?? 0) + 1,
      submitted_at: submittedAt,
    },
  };
}

export function decide(command: AssessmentCommand, state: AssessmentState): AssessmentEvent[] {
  switch (command.type) {
    case 'StartAssessment':
      return startAssessment(command, state);
    case 'RecordResponses':
      return recordResponses(command, state);
    case 'RecordEssayScore':
      return recordEssayScore(command, state);
    case 'ReportEssayScoringFailed':
      return reportEssayScoringFailed(command, state);
    case 'OverrideEssayScore':
      return overrideEssayScore(command, state);
    case 'RecordEvidence':
      return recordEvidence(command, state);
    case 'RecordRecommendations':
      return recordRecommendations(command, state);
    case 'FailAssessment':
      return failAssessment(command, state);
    case 'SubmitRecommendationFeedback':
      return submitRecommendationFeedback(command, state);
    default: {
      const unknown: never = command;
      throw domainError(
        'INVALID_COMMAND',
        `Unknown assessment command ${describe((unknown as { type: unknown }).type)}.`,
      );
    }
  }
}

export const assessmentDecider: Decider<AssessmentCommand, AssessmentEvent, AssessmentState> = {
  initialState,
  evolve,
  decide,
};
