import type { AssessmentEvent } from '../../domain/assessment/assessment';
import type { QuestionType } from '../../domain/assessment/rubric';
import type { PublicEventType } from '../../domain/shared/publicEventTypes';
import { recommendationItemIdOf } from '../../projections/recommendations/projection';
import type { EventEnvelope } from '../messaging/envelopes';

/**
 * Internal assessment events → public events, pure. The public contracts are stable and carry
 * no personal data, so nothing is copied wholesale: each field is picked on purpose.
 *
 * `assessment.completed` needs facts from several events (the question snapshot of
 * AssessmentStarted, rule and essay scores, the ranking of RecommendationsGenerated), so the
 * publisher folds them per assessment with `foldFacts` and builds the record with `publicEventFor`
 * when AssessmentCompleted arrives. The fold keeps the domain's own rules (`evolve` in
 * domain/assessment/assessment.ts) for what counts: rule scores only while in progress (latest
 * revision), the first essay score or failure of a question, an advisor's override replacing it.
 * No answer, essay text, comment or user id is ever folded.
 *
 * Who took the assessment is left out of every public event. User ids derive from emails
 * (`userIdForEmail`), so any unkeyed hash of one is reversible by guessing emails, and a keyed
 * hash would still be a stable identifier linking a student's assessments across partners (still
 * personal data under GDPR, with a key to manage for ever). Partners correlate by assessment id,
 * which they learn from whoever sent the student to them.
 */

/** An internal assessment event as read from the events topic. */
export type AssessmentEnvelope = Omit<EventEnvelope, 'type' | 'data'> & AssessmentEvent;

interface Points {
  score: number;
  max_score: number;
}

/** What the public records need to know of an assessment in flight (stored as JSON). */
export interface PublisherFacts {
  assessment_id: string;
  role_id: string;
  role_name: string;
  status: 'in_progress' | 'awaiting_async';
  /** The snapshot's questions: only what scoring by type needs. */
  questions: { question_id: string; type: QuestionType; weight: number }[];
  rule_scores: Record<string, Points>;
  essay_scores: Record<string, Points>;
  /** Essays whose scoring gave up (an override may still score them). */
  essay_failures: string[];
  submitted_at: string | null;
  degraded: boolean;
  recommendation: {
    recommendation_id: string;
    items: { credential_id: string; position: number; confidence: number }[];
    skills: { skill: string; proficiency: number; gap: number }[];
  } | null;
}

export interface QuestionTypeScoreV1 {
  question_type: string;
  score: number;
  max_score: number;
  questions: number;
  scored: number;
}

/** The data of `assessment.completed` (schemas/public/events/AssessmentCompletedV1.avsc). */
export interface AssessmentCompletedV1 {
  assessment_id: string;
  role_id: string;
  role_name: string;
  scores_by_question_type: QuestionTypeScoreV1[];
  skill_scores: { skill: string; proficiency: number; gap: number }[];
  overall_score: { score: number; max_score: number; ratio: number };
  degraded: boolean;
  recommendation_id: string;
  recommendations: { item_id: string; credential_id: string; position: number; confidence: number }[];
  submitted_at: string;
  completed_at: string;
}

/** The data of `assessment.failed` (AssessmentFailedV1.avsc). */
export interface AssessmentFailedV1 {
  assessment_id: string;
  role_id: string;
  role_name: string;
  reason: string;
  degraded: boolean;
  failed_at: string;
}

/** The data of `recommendation.feedback_received` (RecommendationFeedbackReceivedV1.avsc). */
export interface RecommendationFeedbackReceivedV1 {
  assessment_id: string;
  recommendation_id: string;
  item_id: string;
  credential_id: string;
  relevance_score: number;
  acceptance_status: string;
  submitted_by_role: string;
  revision: number;
  received_at: string;
}

export interface PublicDataOf {
  'assessment.completed': AssessmentCompletedV1;
  'assessment.failed': AssessmentFailedV1;
  'recommendation.feedback_received': RecommendationFeedbackReceivedV1;
}

/** A public event to publish: its CloudEvents attributes but the source, and its data. */
export type PublicDraft = {
  [T in PublicEventType]: {
    type: T;
    /** The source event's id (ce_id). */
    id: string;
    /** The assessment id: ce_subject and the record key. */
    subject: string;
    /** ISO-8601 (ce_time): the source event's instant. */
    time: string;
    data: PublicDataOf[T];
  };
}[PublicEventType];

/** The Avro record name of each public type's contract (`schemas/public/events/<name>.avsc`). */
export const publicSchemaNames: Record<PublicEventType, string> = {
  'assessment.completed': 'AssessmentCompletedV1',
  'assessment.failed': 'AssessmentFailedV1',
  'recommendation.feedback_received': 'RecommendationFeedbackReceivedV1',
};

/**
 * The facts after `event`: undefined when there is nothing to keep (not started, or ended: an
 * ended assessment's facts are dropped once its public record is built).
 */
export function foldFacts(facts: PublisherFacts | undefined, event: AssessmentEvent): PublisherFacts | undefined {
  if (event.type === 'AssessmentStarted') {
    if (facts) return facts;
    const d = event.data;
    return {
      assessment_id: d.assessment_id,
      role_id: d.role_id,
      role_name: d.role_name,
      status: 'in_progress',
      questions: d.questions.map((q) => ({ question_id: q.question_id, type: q.type, weight: q.weight })),
      rule_scores: {},
      essay_scores: {},
      essay_failures: [],
      submitted_at: null,
      degraded: false,
      recommendation: null,
    };
  }
  if (!facts) return undefined;
  switch (event.type) {
    case 'ResponseRuleScored': {
      if (facts.status !== 'in_progress') return facts;
      const { question_id, score, max_score } = event.data;
      return { ...facts, rule_scores: { ...facts.rule_scores, [question_id]: { score, max_score } } };
    }
    case 'AssessmentSubmitted':
      if (facts.status !== 'in_progress') return facts;
      return { ...facts, status: 'awaiting_async', submitted_at: event.data.submitted_at };
    case 'EssayScored': {
      const d = event.data;
      if (facts.status !== 'awaiting_async' || decided(facts, d.question_id)) return facts;
      return {
        ...facts,
        essay_scores: { ...facts.essay_scores, [d.question_id]: { score: d.score, max_score: d.max_score } },
        degraded: facts.degraded || d.degraded,
      };
    }
    case 'EssayScoringFailed': {
      const d = event.data;
      if (facts.status !== 'awaiting_async' || decided(facts, d.question_id)) return facts;
      return { ...facts, essay_failures: [...facts.essay_failures, d.question_id], degraded: true };
    }
    case 'EssayScoreOverridden': {
      const d = event.data;
      if (facts.status !== 'awaiting_async') return facts;
      return {
        ...facts,
        essay_scores: { ...facts.essay_scores, [d.question_id]: { score: d.score, max_score: d.max_score } },
        essay_failures: facts.essay_failures.filter((id) => id !== d.question_id),
      };
    }
    case 'EvidenceRetrieved':
      if (facts.status !== 'awaiting_async') return facts;
      return { ...facts, degraded: facts.degraded || event.data.degraded };
    case 'RecommendationsGenerated': {
      const d = event.data;
      if (facts.status !== 'awaiting_async' || facts.recommendation) return facts;
      return {
        ...facts,
        recommendation: {
          recommendation_id: d.recommendation_id,
          items: [...d.items]
            .sort((a, b) => a.position - b.position)
            .map(({ credential_id, position, confidence }) => ({ credential_id, position, confidence })),
          skills: (d.profile?.skills ?? []).map(({ skill, proficiency, gap }) => ({ skill, proficiency, gap })),
        },
        degraded: facts.degraded || d.degraded,
      };
    }
    case 'AssessmentCompleted':
    case 'AssessmentFailed':
      return undefined;
    case 'ResponseRecorded':
    case 'RecommendationFeedbackReceived':
      return facts;
    default: {
      const _unhandled: never = event;
      return facts;
    }
  }
}

/**
 * The public event an internal event stands for, given the facts folded BEFORE it; undefined for
 * events partners do not see, and for an ending whose start this publisher never saw.
 */
export function publicEventFor(facts: PublisherFacts | undefined, event: AssessmentEnvelope): PublicDraft | undefined {
  const base = { id: event.event_id, subject: event.data.assessment_id, time: event.occurred_at };
  switch (event.type) {
    case 'AssessmentCompleted': {
      const d = event.data;
      if (facts?.status !== 'awaiting_async' || !facts.recommendation || facts.submitted_at === null) return undefined;
      const byType = scoresByQuestionType(facts);
      const score = round2(byType.reduce((sum, t) => sum + t.score, 0));
      const max = round2(byType.reduce((sum, t) => sum + t.max_score, 0));
      const { recommendation_id, items, skills } = facts.recommendation;
      return {
        ...base,
        type: 'assessment.completed',
        data: {
          assessment_id: d.assessment_id,
          role_id: facts.role_id,
          role_name: facts.role_name,
          scores_by_question_type: byType,
          skill_scores: skills,
          overall_score: { score, max_score: max, ratio: max > 0 ? round4(score / max) : 0 },
          // The event's flag is the assessment's overall one; the folded flags back it up.
          degraded: d.degraded || facts.degraded,
          recommendation_id,
          recommendations: items.map((item) => ({
            item_id: recommendationItemIdOf(recommendation_id, item.credential_id),
            ...item,
          })),
          submitted_at: facts.submitted_at,
          completed_at: d.completed_at,
        },
      };
    }
    case 'AssessmentFailed': {
      const d = event.data;
      if (!facts) return undefined;
      return {
        ...base,
        type: 'assessment.failed',
        data: {
          assessment_id: d.assessment_id,
          role_id: facts.role_id,
          role_name: facts.role_name,
          reason: d.reason,
          degraded: facts.degraded,
          failed_at: d.failed_at,
        },
      };
    }
    case 'RecommendationFeedbackReceived': {
      // Only the decider writes it, and only for a completed assessment: no facts needed.
      const d = event.data;
      return {
        ...base,
        type: 'recommendation.feedback_received',
        data: {
          assessment_id: d.assessment_id,
          recommendation_id: d.recommendation_id,
          item_id: recommendationItemIdOf(d.recommendation_id, d.credential_id),
          credential_id: d.credential_id,
          relevance_score: d.relevance_score,
          acceptance_status: d.acceptance_status,
          submitted_by_role: d.submitted_by.role,
          revision: d.revision,
          received_at: d.submitted_at,
        },
      };
    }
    default:
      return undefined;
  }
}

/** An essay already scored or given up on: a later report of it changes nothing (as in `evolve`). */
function decided(facts: PublisherFacts, questionId: string): boolean {
  return facts.essay_scores[questionId] !== undefined || facts.essay_failures.includes(questionId);
}

/**
 * Points per question type, in the order the types first appear: each question counts its weight
 * in the maximum, and its latest rule score (multiple choice, profile) or its essay score.
 */
export function scoresByQuestionType(facts: PublisherFacts): QuestionTypeScoreV1[] {
  const byType = new Map<string, QuestionTypeScoreV1>();
  for (const q of facts.questions) {
    const entry = byType.get(q.type) ?? { question_type: q.type, score: 0, max_score: 0, questions: 0, scored: 0 };
    const points = q.type === 'essay' ? facts.essay_scores[q.question_id] : facts.rule_scores[q.question_id];
    entry.questions += 1;
    entry.max_score += q.weight;
    if (points) {
      entry.scored += 1;
      entry.score += points.score;
    }
    byType.set(q.type, entry);
  }
  return [...byType.values()].map((t) => ({ ...t, score: round2(t.score), max_score: round2(t.max_score) }));
}

const round2 = (x: number): number => Math.round(x * 100) / 100;
const round4 = (x: number): number => Math.round(x * 10_000) / 10_000;
