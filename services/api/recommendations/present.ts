import type { QuestionSnapshotView } from '../../../projections/assessments/queries';
import type {
  EvidenceTraceView,
  FeedbackView,
  RecommendationItemView,
  RecommendationResultView,
  RecommendationView,
} from '../../../projections/recommendations/queries';
import type { scoringProgress } from '../assessments/essayRoutes';

// The contract's shapes (./recommendationContract.ts) of the recommendation read models.

type ScoringProgress = Awaited<ReturnType<typeof scoringProgress>>;

/**
 * The seed's `RagTrace.embedding_provider` names (an enum): our MiniLM is the seed's
 * sentence-transformers model; any other provider (e.g. the lexical fallback) has no seed name,
 * so the field is left out and `embedding_model` says what matched.
 */
const SEED_EMBEDDING_PROVIDERS: Record<string, 'sentence-transformers' | 'openai'> = {
  'minilm-onnx': 'sentence-transformers',
  'sentence-transformers': 'sentence-transformers',
  openai: 'openai',
};

export const seedEmbeddingProviderOf = (provider: string | null): 'sentence-transformers' | 'openai' | undefined =>
  provider === null ? undefined : SEED_EMBEDDING_PROVIDERS[provider];

const presentItem = (item: RecommendationItemView) => ({
  credential_id: item.credential_id,
  title: item.title,
  confidence: item.confidence,
  rationale: item.rationale,
  source_trace_ids: item.source_trace_ids,
  item_id: item.item_id,
  position: item.position,
  scores: item.scores,
});

function presentTrace(trace: EvidenceTraceView) {
  const provider = seedEmbeddingProviderOf(trace.embedding_provider);
  return {
    trace_id: trace.trace_id,
    source_uri: trace.source_uri,
    snippet: trace.snippet,
    similarity: trace.similarity,
    ...(provider ? { embedding_provider: provider } : {}),
    ...(trace.embedding_model !== null ? { embedding_model: trace.embedding_model } : {}),
    ...(trace.source_type !== null ? { source_type: trace.source_type } : {}),
    ...(trace.source_id !== null ? { source_id: trace.source_id } : {}),
    ...(trace.start !== null ? { start: trace.start } : {}),
    ...(trace.end !== null ? { end: trace.end } : {}),
  };
}

/** The seed's ProcessingMetrics: the optional latencies are left out when they were not measured. */
function presentMetrics(metrics: RecommendationView['metrics']) {
  const m = metrics ?? { total_latency_ms: 0, gpt_latency_ms: null, rag_latency_ms: null, token_cost_cents: 0 };
  return {
    total_latency_ms: m.total_latency_ms,
    token_cost_cents: m.token_cost_cents,
    ...(m.gpt_latency_ms !== null ? { gpt_latency_ms: m.gpt_latency_ms } : {}),
    ...(m.rag_latency_ms !== null ? { rag_latency_ms: m.rag_latency_ms } : {}),
  };
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

/** Rule-scored questions and essays, each out of the weights of all its questions, with each question's standing. */
export function scoreSummaryOf(scoring: ScoringProgress, questions: QuestionSnapshotView[]) {
  const weightOf = new Map(questions.map((q) => [q.question_id, q.weight]));
  const rule = scoring.questions.filter((q) => q.type !== 'essay');
  const essays = scoring.questions.filter((q) => q.type === 'essay');
  const sum = (items: typeof scoring.questions, of: (q: (typeof scoring.questions)[number]) => number) =>
    round2(items.reduce((total, q) => total + of(q), 0));
  const scoredEssays = essays.filter((q) => q.status === 'scored' || q.status === 'overridden');
  return {
    rule: {
      score: sum(rule, (q) => q.score ?? 0),
      max_score: sum(rule, (q) => weightOf.get(q.question_id) ?? q.max_score ?? 0),
      questions: rule.length,
      scored: rule.filter((q) => q.status === 'rule_scored').length,
    },
    essay: {
      score: sum(scoredEssays, (q) => q.score ?? 0),
      max_score: sum(essays, (q) => weightOf.get(q.question_id) ?? q.max_score ?? 0),
      questions: essays.length,
      answered: essays.filter((q) => q.status !== 'unanswered').length,
      scored: scoredEssays.length,
      overridden: essays.filter((q) => q.status === 'overridden').length,
      failed: essays.filter((q) => q.status === 'failed').length,
    },
    questions: scoring.questions,
  };
}

/** The contract's AssessmentResult. */
export function presentResult(
  result: RecommendationResultView,
  scoring: ScoringProgress,
  questions: QuestionSnapshotView[],
) {
  const r = result.recommendation;
  return {
    assessment_id: r.assessment_id,
    recommendation_id: r.recommendation_id,
    summary: r.summary.text,
    summary_details: { strengths: r.summary.strengths, gaps: r.summary.gaps, next_steps: r.summary.next_steps },
    recommendation_items: result.items.map(presentItem),
    traces: result.traces.map(presentTrace),
    metrics: presentMetrics(r.metrics),
    degraded: r.degraded,
    completed_at: r.completed_at,
    generated_by: {
      provider: r.provider ?? 'unknown',
      model: r.model ?? 'unknown',
      prompt_version: r.prompt_version ?? 'unknown',
      degraded: r.recommendation_degraded,
      generated_at: r.generated_at,
    },
    evidence: { query_summary: r.query_summary, degraded: r.evidence_degraded, retrieved_at: r.retrieved_at },
    scores: scoreSummaryOf(scoring, questions),
  };
}

/** Where a result being prepared stands (the contract's AssessmentResultPending.progress). */
export function progressOf(scoring: ScoringProgress, recommendation: RecommendationView | undefined) {
  const essays = scoring.questions.filter((q) => q.type === 'essay' && q.status !== 'unanswered');
  return {
    essays_total: essays.length,
    essays_scored: essays.filter((q) => q.status === 'scored' || q.status === 'overridden').length,
    essays_failed: essays.filter((q) => q.status === 'failed').length,
    evidence_ready: recommendation !== undefined && recommendation.retrieved_at !== null,
    recommendations_ready: recommendation?.status === 'ready',
  };
}

/** The contract's RecommendationFeedback; `newRevision` false when the request repeated the latest one. */
export const presentFeedback = (f: FeedbackView, newRevision: boolean) => ({
  feedback_id: f.feedback_id,
  recommendation_id: f.recommendation_id,
  assessment_id: f.assessment_id,
  credential_id: f.credential_id,
  relevance_score: f.relevance_score,
  acceptance_status: f.acceptance_status,
  comments: f.comments,
  submitted_by: f.submitted_by,
  submitted_by_role: f.submitted_by.role,
  revision: f.revision,
  new_revision: newRevision,
  submitted_at: f.submitted_at,
  first_submitted_at: f.first_submitted_at,
});
