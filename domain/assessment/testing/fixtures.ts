import type { Actor, CommandMetadata } from '../../shared/decider';
import { idFromKey, userIdForEmail } from '../../shared/ids';
import type { AssessmentEvent, AssessmentStarted, EssayScored, QuestionSnapshot } from '../assessment';
import type { AssessmentCommand } from '../decide';
import { assessmentDecider } from '../decide';
import type { RecordResponses, ResponseInput, StartAssessment } from '../decide';
import type { RecordEssayScore } from '../essayScoring';

/** Shared fixtures for the assessment specs. */

export const assessmentId = idFromKey('assessment', 'spec');
export const studentId = userIdForEmail('ada@example.com');
export const roleId = idFromKey('role', 'cloud-engineer');

export const student: Actor = { id: studentId, role: 'student' };
export const otherStudent: Actor = { id: userIdForEmail('bob@example.com'), role: 'student' };
export const advisor: Actor = { id: userIdForEmail('grace@example.com'), role: 'advisor' };
export const admin: Actor = { id: userIdForEmail('root@example.com'), role: 'admin' };
export const system: Actor = { id: 'system:bootstrap', role: 'system' };

export const startedAt = '2025-03-01T09:00:00.000Z';
export const duringTest = '2025-03-01T09:30:00.000Z';
export const expiresAt = '2025-03-01T11:00:00.000Z';
export const afterExpiry = '2025-03-01T11:00:00.001Z';

let commandCounter = 0;
export function meta(actor: Actor = student, now: string = duringTest): CommandMetadata {
  commandCounter += 1;
  return { command_id: idFromKey('command', `spec-${commandCounter}`), now, actor };
}

export const orchestrator: QuestionSnapshot = {
  question_id: idFromKey('question', 'orchestrator'),
  version: '1',
  type: 'multiple_choice',
  prompt: 'Which tool orchestrates containers across a cluster?',
  choices: ['docker', 'kubernetes', 'ftp', 'helm'],
  rubric: { scoring: 'choice', select: 'single', correct: ['kubernetes'] },
  weight: 2,
  required: true,
};

export const toolbox: QuestionSnapshot = {
  question_id: idFromKey('question', 'toolbox'),
  version: '3',
  type: 'multiple_choice',
  prompt: 'Which of these do you use to ship containers to production?',
  choices: ['kubernetes', 'docker', 'helm', 'ftp'],
  rubric: {
    scoring: 'choice',
    select: 'multiple',
    correct: ['kubernetes', 'docker', 'helm'],
    partial_credit: true,
    wrong_penalty: 0.5,
  },
  weight: 3,
  required: true,
};

export const background: QuestionSnapshot = {
  question_id: idFromKey('question', 'background'),
  version: '1',
  type: 'profile',
  prompt: 'Tell us about your experience.',
  choices: null,
  rubric: {
    scoring: 'profile',
    rules: [
      { id: 'must-have', type: 'required', fields: ['skills', 'years_experience'], points: 0 },
      {
        id: 'core-skills',
        type: 'skills',
        field: 'skills',
        points: 3,
        expected: [{ skill: 'kubernetes', synonyms: ['k8s'] }, 'terraform', 'aws'],
      },
      {
        id: 'experience',
        type: 'range',
        field: 'years_experience',
        points: 2,
        bands: [
          { max: 2, credit: 0.25 },
          { min: 2, max: 5, credit: 0.5 },
          { min: 5, credit: 1 },
        ],
      },
    ],
  },
  weight: 5,
  required: false,
};

export const design: QuestionSnapshot = {
  question_id: idFromKey('question', 'design'),
  version: '2',
  type: 'essay',
  prompt: 'Describe how you would make a web service highly available.',
  choices: null,
  rubric: {
    scoring: 'essay',
    min_words: 3,
    max_words: 400,
    criteria: [
      {
        id: 'reasoning',
        description: 'Explains trade-offs',
        weight: 1,
        bands: [
          { score: 0, descriptor: 'No reasoning' },
          { score: 4, descriptor: 'Clear trade-offs' },
        ],
      },
    ],
  },
  weight: 4,
  required: true,
};

export const optionalEssay: QuestionSnapshot = {
  ...design,
  question_id: idFromKey('question', 'optional-essay'),
  prompt: 'Anything else you would like to add?',
  required: false,
};

export const questions: QuestionSnapshot[] = [orchestrator, toolbox, background, design];

export function startCommand(
  overrides: Partial<StartAssessment['data']> = {},
  actor: Actor = student,
): StartAssessment {
  return {
    type: 'StartAssessment',
    data: {
      assessment_id: assessmentId,
      user_id: studentId,
      role_id: roleId,
      role_name: 'Cloud engineer',
      questions,
      expires_at: expiresAt,
      metadata: { source: 'spec' },
      ...overrides,
    },
    metadata: meta(actor, startedAt),
  };
}

export const started: AssessmentStarted = {
  type: 'AssessmentStarted',
  data: {
    assessment_id: assessmentId,
    user_id: studentId,
    role_id: roleId,
    role_name: 'Cloud engineer',
    questions,
    started_at: startedAt,
    expires_at: expiresAt,
    metadata: { source: 'spec' },
  },
};

export function respond(
  responses: ResponseInput[],
  options: { complete?: boolean; actor?: Actor; now?: string } = {},
): RecordResponses {
  return {
    type: 'RecordResponses',
    data: { assessment_id: assessmentId, responses, complete: options.complete ?? false },
    metadata: meta(options.actor ?? student, options.now ?? duringTest),
  };
}

/** The EssayScored fields most specs do not care about, with neutral values (an offline score). */
export const essayScoredDefaults: Pick<
  EssayScored['data'],
  'provider' | 'job_key' | 'flags' | 'needs_review' | 'tokens_in' | 'tokens_out' | 'embedding'
> = {
  provider: 'offline',
  job_key: null,
  flags: [],
  needs_review: false,
  tokens_in: null,
  tokens_out: null,
  embedding: null,
};

/** Scoring time in the fixtures: after the essay was answered and submitted. */
export const scoredAt = '2025-03-01T09:35:00.000Z';

/**
 * The essay processor's report of a score for the fixture essay (`design`), an LLM score by
 * default; `overrides` change its data (another assessment, a degraded provider, …).
 */
export function recordEssayScore(
  overrides: Partial<RecordEssayScore['data']> = {},
  actor: Actor = system,
  now: string = scoredAt,
): RecordEssayScore {
  return {
    type: 'RecordEssayScore',
    data: {
      assessment_id: assessmentId,
      question_id: design.question_id,
      revision: 1,
      score: 3,
      criteria: [
        { criterion_id: 'reasoning', band_score: 3, max_band_score: 4, evidence: 'two zones', rationale: 'ok' },
      ],
      explanation: 'Names redundancy and failover.',
      provider: 'openai',
      model: 'gpt-4o-mini',
      prompt_version: 'essay-v1',
      degraded: false,
      flags: [],
      needs_review: false,
      tokens_in: null,
      tokens_out: null,
      cost_cents: null,
      latency_ms: null,
      job_key: null,
      embedding: null,
      ...overrides,
    },
    metadata: meta(actor, now),
  };
}

/** A history decided by the decider itself: each command decided on the state the last left. */
export function decided(history: AssessmentEvent[], ...commands: AssessmentCommand[]): AssessmentEvent[] {
  let events = history;
  for (const command of commands) {
    events = [
      ...events,
      ...assessmentDecider.decide(command, events.reduce(assessmentDecider.evolve, assessmentDecider.initialState())),
    ];
  }
  return events;
}

export const essayText = 'Run replicas in two zones behind a load balancer, with health checks and failover.';

/** Started, the essay answered, not submitted. */
export const inProgressWithEssay = decided(
  [started],
  respond([{ question_id: design.question_id, answer: essayText }]),
);

/** Every required question answered (the essay included) and submitted: awaiting essay scoring. */
export const submittedWithEssay = decided(
  [started],
  respond(
    [
      { question_id: orchestrator.question_id, answer: 'kubernetes' },
      { question_id: toolbox.question_id, answer: { selected: ['kubernetes'] } },
      { question_id: design.question_id, answer: essayText },
    ],
    { complete: true },
  ),
);
