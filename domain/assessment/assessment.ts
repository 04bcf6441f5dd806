import type { Event } from '../shared/decider';
import type { JsonObject, JsonValue } from '../shared/json';
import type { QuestionType, Rubric } from './rubric';

/**
 * The Assessment aggregate: one stream per assessment, from start to completion.
 *
 *   (none) ──AssessmentStarted──▶ in_progress ──AssessmentSubmitted──▶ awaiting_async
 *   awaiting_async ──EssayScored* | EssayScoringFailed* | EvidenceRetrieved──▶ awaiting_async
 *   awaiting_async ──RecommendationsGenerated + AssessmentCompleted──▶ completed
 *   awaiting_async | completed ──EssayScoreOverridden──▶ (same status; an advisor's correction)
 *   completed ──RecommendationFeedbackReceived*──▶ completed
 *   in_progress | awaiting_async ──AssessmentFailed──▶ failed
 *
 * Responses are recorded and revised only while in_progress; multiple_choice and profile
 * answers are rule-scored as they are recorded; essays are scored after submission.
 */
export const aggregateType = 'assessment';

/** A question as it was when the assessment started; immutable afterwards. */
export interface QuestionSnapshot {
  question_id: string;
  /** Catalog version of the question ("1", "2", …). */
  version: string;
  type: QuestionType;
  prompt: string;
  choices: string[] | null;
  rubric: Rubric;
  weight: number;
  required: boolean;
}

export type PendingWork = 'essay_scoring' | 'recommendations';

export interface AppliedRule {
  /** Which rubric rule produced this line (e.g. `correct_choice`, or a profile rule id). */
  rule: string;
  /** What happened, in words. */
  outcome: string;
  /** Contribution to the question's score (the lines sum to the score, up to rounding). */
  points: number;
}

export type AssessmentStarted = Event<
  'AssessmentStarted',
  {
    assessment_id: string;
    user_id: string;
    role_id: string;
    role_name: string;
    questions: QuestionSnapshot[];
    started_at: string;
    expires_at: string;
    metadata: JsonObject | null;
  }
>;

export type ResponseRecorded = Event<
  'ResponseRecorded',
  {
    assessment_id: string;
    question_id: string;
    question_version: string;
    answer: JsonValue;
    /** 1 for the first answer to the question, then 2, 3, … for each revision. */
    revision: number;
    submitted_at: string;
  }
>;

export type ResponseRuleScored = Event<
  'ResponseRuleScored',
  {
    assessment_id: string;
    question_id: string;
    question_version: string;
    /** The response revision this score belongs to. */
    revision: number;
    score: number;
    max_score: number;
    rules_applied: AppliedRule[];
    explanation: string;
  }
>;

export type AssessmentSubmitted = Event<
  'AssessmentSubmitted',
  {
    assessment_id: string;
    answered: number;
    total: number;
    rule_score_total: number;
    rule_score_max: number;
    pending: PendingWork[];
    submitted_at: string;
  }
>;

/** One rubric criterion's result, as the scorer gave it. `evidence` is a verbatim span of the essay. */
export interface EssayCriterionResult {
  criterion_id: string;
  band_score: number;
  max_band_score: number;
  evidence: string;
  rationale: string;
}

/** A vector of the essay (mean of its passages), recorded with what made it. */
export interface EssayEmbedding {
  provider: string;
  model: string;
  /** Unit-length vector (384 values for MiniLM). */
  vector: number[];
}

/**
 * An essay answer was scored, by the LLM (`provider: "openai"`) or the offline scorer
 * (`"offline"`, degraded). Reported by the essay-scoring processor; at most one per question.
 */
export type EssayScored = Event<
  'EssayScored',
  {
    assessment_id: string;
    question_id: string;
    question_version: string;
    revision: number;
    score: number;
    max_score: number;
    /** Per-criterion results (`EssayCriterionResult[]`). */
    criteria: JsonValue;
    /** The overall rationale. */
    explanation: string;
    model: string;
    prompt_version: string;
    degraded: boolean;
    latency_ms: number | null;
    cost_cents: number | null;
    /** `openai` or `offline`; `unknown` for events written before the field existed. */
    provider: string;
    /** The processor's deterministic job key (assessment, question, revision). */
    job_key: string | null;
    /** Why the answer was not rewarded or needs a look (`empty`, `gibberish`, …). */
    flags: JsonValue;
    needs_review: boolean;
    tokens_in: number | null;
    tokens_out: number | null;
    embedding: EssayEmbedding | null;
  }
>;

/** Essay scoring gave up on a question (every scorer failed); the reason says why. */
export type EssayScoringFailed = Event<
  'EssayScoringFailed',
  {
    assessment_id: string;
    question_id: string;
    question_version: string;
    revision: number;
    reason: string;
    attempts: number;
    job_key: string | null;
    failed_at: string;
  }
>;

/** An advisor or admin replaced an essay's score; the answer becomes a calibration example. */
export type EssayScoreOverridden = Event<
  'EssayScoreOverridden',
  {
    assessment_id: string;
    question_id: string;
    question_version: string;
    revision: number;
    /** The score before (null when scoring had failed). */
    previous_score: number | null;
    score: number;
    max_score: number;
    reason: string;
    /** The essay as answered: the human-scored example the offline scorer learns from. */
    answer_text: string;
    overridden_at: string;
  }
>;

/**
 * One piece of evidence retrieved for the assessment: a passage of a source (a credential's
 * text), with its similarity to the query. `snippet` is verbatim: `source_text.slice(start, end)`.
 */
export interface EvidenceTrace {
  trace_id: string;
  source_uri: string;
  source_id: string;
  /** `credential` for now; a string so that a new source type never breaks an old reader. */
  source_type: string;
  snippet: string;
  start: number;
  end: number;
  /** Cosine similarity of the snippet to the query, -1..1. */
  similarity: number;
  /** `minilm-onnx`, `openai`, `lexical` (the degraded fallback), … */
  embedding_provider: string;
  embedding_model: string;
}

/** The recommendation processor retrieved the evidence for the assessment; at most once. */
export type EvidenceRetrieved = Event<
  'EvidenceRetrieved',
  {
    assessment_id: string;
    traces: EvidenceTrace[];
    /** What was searched for, in words (skills, gaps), for the audit and the advisor. */
    query_summary: string;
    latency_ms: number | null;
    /** A fallback was used (e.g. the lexical embedding, or BM25 only). */
    degraded: boolean;
    job_key: string | null;
    retrieved_at: string;
  }
>;

export interface RecommendationSummary {
  /** The summary in prose (may be empty when the lists say it all). */
  text: string;
  strengths: string[];
  gaps: string[];
  next_steps: string[];
}

/** The ranking's components, each 0..1; null when that signal was not available. */
export interface RecommendationScores {
  content: number | null;
  skill_gap: number | null;
  collaborative: number | null;
}

export interface RecommendationItem {
  credential_id: string;
  title: string;
  /** 0..1. */
  confidence: number;
  rationale: string;
  /** Ids of the evidence traces (of this assessment's EvidenceRetrieved) the rationale rests on. */
  source_trace_ids: string[];
  /** 1 for the top pick, then 2, 3, … */
  position: number;
  scores: RecommendationScores;
}

/** The seed contract's ProcessingMetrics. */
export interface ProcessingMetrics {
  total_latency_ms: number;
  gpt_latency_ms: number | null;
  rag_latency_ms: number | null;
  /** The token cost of the whole processing (essays, embeddings, rationales). */
  token_cost_cents: number;
}

/** One role skill of the student's profile, as the ranking saw it. */
export interface ProfileSkill {
  skill: string;
  /** 0..1, from the rule and essay scores linked to the skill. */
  proficiency: number;
  /** The role's importance of the skill × the student's shortfall from the target, ≥ 0. */
  gap: number;
}

/**
 * The student's skill profile a ranking used. `vector` is the need vector (the shortfall per
 * role skill, in the role's skill order): later students of the role are compared by it for
 * the collaborative signal.
 */
export interface StudentSkillProfile {
  role_id: string;
  skills: ProfileSkill[];
  vector: number[];
}

/**
 * The ranked credentials and their rationales, at most one per assessment; always followed, in
 * the same decision, by AssessmentCompleted. `degraded` is the recommendation stage's own
 * fallback (composed rationales, no collaborative signal…); the assessment's overall flag is
 * AssessmentCompleted's.
 */
export type RecommendationsGenerated = Event<
  'RecommendationsGenerated',
  {
    assessment_id: string;
    recommendation_id: string;
    summary: RecommendationSummary;
    /** Ordered by position. */
    items: RecommendationItem[];
    degraded: boolean;
    /** The rationale writer: `openai`, or `composed` when rationales were composed from templates. */
    provider: string;
    model: string;
    prompt_version: string;
    tokens_in: number | null;
    tokens_out: number | null;
    /** The rationale writer's cost. */
    cost_cents: number | null;
    metrics: ProcessingMetrics;
    /** Null in events written before it existed. */
    profile: StudentSkillProfile | null;
    job_key: string | null;
    generated_at: string;
  }
>;

export type AcceptanceStatus = 'accepted' | 'rejected' | 'pending';

/** A student's (their own assessment), an advisor's or an admin's feedback on one recommended credential. */
export type RecommendationFeedbackReceived = Event<
  'RecommendationFeedbackReceived',
  {
    assessment_id: string;
    recommendation_id: string;
    credential_id: string;
    /** 1..5. */
    relevance_score: number;
    acceptance_status: AcceptanceStatus;
    comments: string | null;
    submitted_by: { id: string; role: string };
    /** 1 for the person's first feedback on the item, then 2, 3, … for each revision. */
    revision: number;
    submitted_at: string;
  }
>;

/** Recommendations are ready (emitted with RecommendationsGenerated); `degraded` when any fallback was used. */
export type AssessmentCompleted = Event<
  'AssessmentCompleted',
  {
    assessment_id: string;
    completed_at: string;
    degraded: boolean;
  }
>;

/** Processing gave up for good (FailAssessment: a processor or an admin), e.g. a role without active credentials. */
export type AssessmentFailed = Event<
  'AssessmentFailed',
  {
    assessment_id: string;
    failed_at: string;
    reason: string;
  }
>;

export type AssessmentEvent =
  | AssessmentStarted
  | ResponseRecorded
  | ResponseRuleScored
  | AssessmentSubmitted
  | EssayScored
  | EssayScoringFailed
  | EssayScoreOverridden
  | EvidenceRetrieved
  | RecommendationsGenerated
  | AssessmentCompleted
  | AssessmentFailed
  | RecommendationFeedbackReceived;

const eventTypeSet: Record<AssessmentEvent['type'], true> = {
  AssessmentStarted: true,
  ResponseRecorded: true,
  ResponseRuleScored: true,
  AssessmentSubmitted: true,
  EssayScored: true,
  EssayScoringFailed: true,
  EssayScoreOverridden: true,
  EvidenceRetrieved: true,
  RecommendationsGenerated: true,
  AssessmentCompleted: true,
  AssessmentFailed: true,
  RecommendationFeedbackReceived: true,
};
export const assessmentEventTypes = Object.keys(eventTypeSet) as AssessmentEvent['type'][];

// ---------------------------------------------------------------------------------------------
// State

export interface RecordedResponse {
  answer: JsonValue;
  revision: number;
  question_version: string;
  submitted_at: string;
}

export interface QuestionScore {
  score: number;
  max_score: number;
  revision: number;
}

export interface EssayScoreState extends QuestionScore {
  /** `openai`, `offline`, or `advisor` once overridden. */
  provider?: string;
  overridden?: boolean;
}

export interface EssayFailure {
  revision: number;
  reason: string;
}

/** The evidence recorded for the assessment (only what the decider checks against). */
export interface EvidenceState {
  trace_ids: string[];
  degraded: boolean;
}

export interface RecommendationState {
  recommendation_id: string;
  /** The items' credential ids, in position order. */
  credential_ids: string[];
  degraded: boolean;
}

/** The latest feedback of one person on one recommended credential. */
export interface FeedbackState {
  revision: number;
  relevance_score: number;
  acceptance_status: AcceptanceStatus;
  comments: string | null;
  submitted_at: string;
}

export interface StartedAssessment {
  assessment_id: string;
  user_id: string;
  role_id: string;
  role_name: string;
  questions: QuestionSnapshot[];
  started_at: string;
  expires_at: string;
  /** Latest response per question id. */
  responses: Record<string, RecordedResponse>;
  /** Latest rule score per question id (multiple_choice and profile). */
  rule_scores: Record<string, QuestionScore>;
  /** Essay scores per question id. */
  essay_scores: Record<string, EssayScoreState>;
  /** Essays whose scoring failed, per question id (absent in states saved before it existed). */
  essay_failures?: Record<string, EssayFailure>;
  /** Absent until EvidenceRetrieved (and in states saved before it existed). */
  evidence?: EvidenceState;
  /** Absent until RecommendationsGenerated. */
  recommendation?: RecommendationState;
  /** Latest feedback per submitter id, then per credential id. */
  feedback?: Record<string, Record<string, FeedbackState>>;
  degraded: boolean;
}

export interface NotStarted {
  status: 'not_started';
}

export interface InProgress extends StartedAssessment {
  status: 'in_progress';
}

interface Submitted extends StartedAssessment {
  submitted_at: string;
  pending: PendingWork[];
}

export interface AwaitingAsync extends Submitted {
  status: 'awaiting_async';
}

export interface Completed extends Submitted {
  status: 'completed';
  completed_at: string;
}

export interface Failed extends StartedAssessment {
  status: 'failed';
  submitted_at: string | null;
  failed_at: string;
  reason: string;
}

export type AssessmentState = NotStarted | InProgress | AwaitingAsync | Completed | Failed;
export type AssessmentStatus = AssessmentState['status'];

export const initialState = (): AssessmentState => ({ status: 'not_started' });

export function evolve(state: AssessmentState, event: AssessmentEvent): AssessmentState {
  switch (event.type) {
    case 'AssessmentStarted': {
      if (state.status !== 'not_started') return state;
      const d = event.data;
      return {
        status: 'in_progress',
        assessment_id: d.assessment_id,
        user_id: d.user_id,
        role_id: d.role_id,
        role_name: d.role_name,
        questions: d.questions,
        started_at: d.started_at,
        expires_at: d.expires_at,
        responses: {},
        rule_scores: {},
        essay_scores: {},
        degraded: false,
      };
    }
    case 'ResponseRecorded': {
      if (state.status !== 'in_progress') return state;
      const d = event.data;
      return {
        ...state,
        responses: {
          ...state.responses,
          [d.question_id]: {
            answer: d.answer,
            revision: d.revision,
            question_version: d.question_version,
            submitted_at: d.submitted_at,
          },
        },
      };
    }
    case 'ResponseRuleScored': {
      if (state.status !== 'in_progress') return state;
      const d = event.data;
      return {
        ...state,
        rule_scores: {
          ...state.rule_scores,
          [d.question_id]: { score: d.score, max_score: d.max_score, revision: d.revision },
        },
      };
    }
    case 'AssessmentSubmitted': {
      if (state.status !== 'in_progress') return state;
      return { ...state, status: 'awaiting_async', submitted_at: event.data.submitted_at, pending: event.data.pending };
    }
    case 'EssayScored': {
      if (state.status !== 'awaiting_async') return state;
      const d = event.data;
      if (state.essay_scores[d.question_id] || state.essay_failures?.[d.question_id]) return state;
      const essayScores = {
        ...state.essay_scores,
        [d.question_id]: { score: d.score, max_score: d.max_score, revision: d.revision, provider: d.provider },
      };
      return withEssayProgress({ ...state, essay_scores: essayScores, degraded: state.degraded || d.degraded });
    }
    case 'EssayScoringFailed': {
      if (state.status !== 'awaiting_async') return state;
      const d = event.data;
      if (state.essay_scores[d.question_id] || state.essay_failures?.[d.question_id]) return state;
      const failures = { ...state.essay_failures, [d.question_id]: { revision: d.revision, reason: d.reason } };
      // An essay without a score makes the result incomplete: degraded, as for a fallback.
      return withEssayProgress({ ...state, essay_failures: failures, degraded: true });
    }
    case 'EssayScoreOverridden': {
      if (state.status !== 'awaiting_async' && state.status !== 'completed') return state;
      const d = event.data;
      const { [d.question_id]: _failure, ...failures } = state.essay_failures ?? {};
      return withEssayProgress({
        ...state,
        essay_scores: {
          ...state.essay_scores,
          [d.question_id]: {
            score: d.score,
            max_score: d.max_score,
            revision: d.revision,
            provider: 'advisor',
            overridden: true,
          },
        },
        essay_failures: failures,
      });
    }
    case 'EvidenceRetrieved': {
      if (state.status !== 'awaiting_async' || state.evidence) return state;
      const d = event.data;
      return {
        ...state,
        evidence: { trace_ids: d.traces.map((t) => t.trace_id), degraded: d.degraded },
        degraded: state.degraded || d.degraded,
      };
    }
    case 'RecommendationsGenerated': {
      if (state.status !== 'awaiting_async' || state.recommendation) return state;
      const d = event.data;
      return {
        ...state,
        recommendation: {
          recommendation_id: d.recommendation_id,
          credential_ids: d.items.map((item) => item.credential_id),
          degraded: d.degraded,
        },
        pending: state.pending.filter((work) => work !== 'recommendations'),
        degraded: state.degraded || d.degraded,
      };
    }
    case 'RecommendationFeedbackReceived': {
      if (state.status !== 'completed') return state;
      const d = event.data;
      const mine = state.feedback?.[d.submitted_by.id] ?? {};
      if ((mine[d.credential_id]?.revision ?? 0) >= d.revision) return state;
      return {
        ...state,
        feedback: {
          ...state.feedback,
          [d.submitted_by.id]: {
            ...mine,
            [d.credential_id]: {
              revision: d.revision,
              relevance_score: d.relevance_score,
              acceptance_status: d.acceptance_status,
              comments: d.comments,
              submitted_at: d.submitted_at,
            },
          },
        },
      };
    }
    case 'AssessmentCompleted': {
      if (state.status !== 'awaiting_async') return state;
      return {
        ...state,
        status: 'completed',
        completed_at: event.data.completed_at,
        pending: [],
        degraded: state.degraded || event.data.degraded,
      };
    }
    case 'AssessmentFailed': {
      if (state.status !== 'in_progress' && state.status !== 'awaiting_async') return state;
      return {
        ...startedPart(state),
        status: 'failed',
        submitted_at: state.status === 'awaiting_async' ? state.submitted_at : null,
        failed_at: event.data.failed_at,
        reason: event.data.reason,
      };
    }
    default: {
      // A compile error here means an event type is not handled above. At run time an event
      // type this code does not know (written by a newer version) leaves the state unchanged.
      const _unhandled: never = event;
      return state;
    }
  }
}

/** Answered essays that have neither a score nor a recorded failure. */
export function essaysAwaitingScore(state: StartedAssessment): QuestionSnapshot[] {
  return state.questions.filter(
    (q) =>
      q.type === 'essay' &&
      state.responses[q.question_id] !== undefined &&
      !state.essay_scores[q.question_id] &&
      !state.essay_failures?.[q.question_id],
  );
}

/** Drops `essay_scoring` from the pending work once every answered essay is scored or failed. */
function withEssayProgress<S extends AwaitingAsync | Completed>(state: S): S {
  if (essaysAwaitingScore(state).length > 0) return state;
  return { ...state, pending: state.pending.filter((work) => work !== 'essay_scoring') };
}

function startedPart(state: InProgress | AwaitingAsync): StartedAssessment {
  return {
    assessment_id: state.assessment_id,
    user_id: state.user_id,
    role_id: state.role_id,
    role_name: state.role_name,
    questions: state.questions,
    started_at: state.started_at,
    expires_at: state.expires_at,
    responses: state.responses,
    rule_scores: state.rule_scores,
    essay_scores: state.essay_scores,
    ...(state.essay_failures ? { essay_failures: state.essay_failures } : {}),
    ...(state.evidence ? { evidence: state.evidence } : {}),
    ...(state.recommendation ? { recommendation: state.recommendation } : {}),
    degraded: state.degraded,
  };
}
