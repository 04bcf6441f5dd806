import type { Actor, Command } from '../shared/decider';
import type { DomainErrorCode } from '../shared/errors';
import { domainError } from '../shared/errors';
import { idFromKey } from '../shared/ids';
import { isPlainObject } from '../shared/json';
import {
  describe,
  isAdminLike,
  nowOf,
  optionalText,
  requireInstant,
  requireText,
  requireUuid,
} from '../shared/validation';
import type {
  AcceptanceStatus,
  AssessmentEvent,
  AssessmentState,
  AwaitingAsync,
  EvidenceRetrieved,
  EvidenceTrace,
  ProcessingMetrics,
  RecommendationFeedbackReceived,
  RecommendationItem,
  RecommendationScores,
  RecommendationsGenerated,
  RecommendationSummary,
  StudentSkillProfile,
} from './assessment';

/**
 * Recommendations as the assessment decider sees them. After submission the recommendation
 * processor retrieves evidence and reports it (RecordEvidence), then, once every essay is scored
 * or failed, ranks credentials and reports them (RecordRecommendations): the assessment then
 * completes in the same decision. Each report is accepted once: a second one (a retried job, a
 * second processor) writes nothing, so evidence and rationales are recorded, and charged, once.
 * A permanent impossibility ends the assessment instead (FailAssessment). Once completed, the
 * student who took it, advisors and admins give feedback on each recommended credential,
 * revisable (each submission is the person's next revision of their feedback on the item).
 */

/** Reported by the recommendation processor (actor: system): the event's data but its instant. */
export type RecordEvidence = Command<'RecordEvidence', Omit<EvidenceRetrieved['data'], 'retrieved_at'>>;

/**
 * Reported by the recommendation processor (actor: system), after RecordEvidence: the event's
 * data but its instant. `recommendation_id` is derived by the caller, e.g.
 * `recommendationIdFor(assessment_id)`.
 */
export type RecordRecommendations = Command<
  'RecordRecommendations',
  Omit<RecommendationsGenerated['data'], 'generated_at' | 'profile'> & { profile?: StudentSkillProfile | null }
>;

/** A processor (a permanent impossibility, a timeout) or an admin gives up on the assessment. */
export type FailAssessment = Command<
  'FailAssessment',
  {
    assessment_id: string;
    reason: string;
  }
>;

/** Feedback on one recommended credential, by the student who took the assessment, an advisor or an admin. */
export type SubmitRecommendationFeedback = Command<
  'SubmitRecommendationFeedback',
  {
    assessment_id: string;
    recommendation_id: string;
    credential_id: string;
    relevance_score: number;
    /** Defaults to `pending`. */
    acceptance_status?: AcceptanceStatus | null;
    comments?: string | null;
  }
>;

export type RecommendationCommand =
  RecordEvidence | RecordRecommendations | FailAssessment | SubmitRecommendationFeedback;

export const MAX_EVIDENCE_TRACES = 100;
export const MAX_SNIPPET_LENGTH = 4000;
export const MAX_RECOMMENDATION_ITEMS = 50;
export const MAX_SUMMARY_ENTRIES = 20;
export const MAX_FEEDBACK_COMMENTS_LENGTH = 2000;
export const MAX_PROFILE_SKILLS = 100;
export const acceptanceStatuses: readonly AcceptanceStatus[] = ['accepted', 'rejected', 'pending'];

/** The recommendation id of an assessment (one recommendation per assessment). */
export function recommendationIdFor(assessmentId: string): string {
  return idFromKey('recommendation', assessmentId);
}

/** A trace id that is the same for the same passage of the same assessment (a retried job). */
export function evidenceTraceIdFor(assessmentId: string, passageId: string): string {
  return idFromKey('rag-trace', `${assessmentId}/${passageId}`);
}

function requireProcessor(actor: Actor, what: string): void {
  if (actor.role !== 'system') {
    throw domainError('SYSTEM_ACTOR_REQUIRED', `Only the recommendation processor may ${what}.`, {
      actor_role: actor.role,
    });
  }
}

/**
 * The submitted assessment a processor's report is about, or null when the report comes too
 * late to matter (completed or failed): the decider then writes nothing.
 */
function reportTarget(state: AssessmentState, assessmentIdValue: unknown): AwaitingAsync | null {
  const assessmentId = requireUuid(assessmentIdValue, 'assessment_id');
  if (state.status === 'not_started') {
    throw domainError('ASSESSMENT_NOT_FOUND', `No assessment with id ${assessmentId}.`);
  }
  if (state.status === 'in_progress') {
    throw domainError('ASSESSMENT_NOT_SUBMITTED', `Assessment ${assessmentId} has not been submitted yet.`);
  }
  return state.status === 'awaiting_async' ? state : null;
}

// --- small guards ----------------------------------------------------------------------------

function fail(code: DomainErrorCode, field: string, message: string): never {
  throw domainError(code, `${field} ${message}`, { field });
}

function requireList(value: unknown, field: string, code: DomainErrorCode, max: number): unknown[] {
  if (!Array.isArray(value)) fail(code, field, `must be a list, got ${describe(value)}.`);
  if (value.length > max) fail(code, field, `must have at most ${max} entries (got ${value.length}).`);
  return value;
}

function requireObject(value: unknown, field: string, code: DomainErrorCode): Record<string, unknown> {
  if (!isPlainObject(value)) fail(code, field, `must be an object, got ${describe(value)}.`);
  return value;
}

function requireNumberIn(value: unknown, field: string, code: DomainErrorCode, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    fail(code, field, `must be a number from ${min} to ${max}, got ${describe(value)}.`);
  }
  return value;
}

function requireCount(value: unknown, field: string, code: DomainErrorCode = 'INVALID_COMMAND'): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    fail(code, field, `must be a whole number >= 0, got ${describe(value)}.`);
  }
  return value;
}

function optionalCount(value: unknown, field: string): number | null {
  return value === null || value === undefined ? null : requireCount(value, field);
}

function optionalAmount(value: unknown, field: string): number | null {
  if (value === null || value === undefined) return null;
  return requireAmount(value, field);
}

function requireAmount(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    fail('INVALID_COMMAND', field, `must be a number >= 0, got ${describe(value)}.`);
  }
  return value;
}

function optionalUnit(value: unknown, field: string): number | null {
  return value === null || value === undefined ? null : requireNumberIn(value, field, 'INVALID_RECOMMENDATIONS', 0, 1);
}

function textList(value: unknown, field: string, code: DomainErrorCode): string[] {
  if (value === undefined || value === null) return [];
  return requireList(value, field, code, MAX_SUMMARY_ENTRIES).map((entry, i) =>
    requireText(entry, `${field}[${i}]`, { code, maxLength: 1000 }),
  );
}

// --- RecordEvidence --------------------------------------------------------------------------

export function recordEvidence(command: RecordEvidence, state: AssessmentState): AssessmentEvent[] {
  const { data, metadata } = command;
  nowOf(metadata);
  requireProcessor(metadata.actor, 'record evidence');
  const target = reportTarget(state, data.assessment_id);
  if (!target || target.evidence) return [];
  const traces = requireList(data.traces, 'traces', 'INVALID_EVIDENCE', MAX_EVIDENCE_TRACES).map(traceOf);
  const ids = traces.map((t) => t.trace_id);
  const repeated = ids.find((id, i) => ids.indexOf(id) !== i);
  if (repeated !== undefined) {
    throw domainError('INVALID_EVIDENCE', `Trace ${repeated} appears twice in the evidence.`, { trace_id: repeated });
  }
  return [
    {
      type: 'EvidenceRetrieved',
      data: {
        assessment_id: target.assessment_id,
        traces,
        query_summary: requireText(data.query_summary, 'query_summary', { allowEmpty: true, maxLength: 2000 }),
        latency_ms: optionalCount(data.latency_ms, 'latency_ms'),
        degraded: data.degraded === true,
        job_key: data.job_key ?? null,
        retrieved_at: requireInstant(metadata.now, 'metadata.now'),
      },
    },
  ];
}

function traceOf(input: unknown, index: number): EvidenceTrace {
  const label = `traces[${index}]`;
  const code = 'INVALID_EVIDENCE';
  const t = requireObject(input, label, code);
  const text = (field: string, maxLength: number): string =>
    requireText(t[field], `${label}.${field}`, { code, maxLength });
  const snippet = t.snippet;
  // Verbatim: not trimmed, and exactly the source's [start, end) span.
  if (typeof snippet !== 'string' || snippet.trim().length === 0) {
    fail(code, `${label}.snippet`, 'must be a non-empty string.');
  }
  if (snippet.length > MAX_SNIPPET_LENGTH) {
    fail(code, `${label}.snippet`, `must be at most ${MAX_SNIPPET_LENGTH} characters (got ${snippet.length}).`);
  }
  const start = requireCount(t.start, `${label}.start`, code);
  const end = requireCount(t.end, `${label}.end`, code);
  if (end - start !== snippet.length) {
    fail(code, `${label}.end`, `- start must be the snippet's length (${snippet.length}), got ${end - start}.`);
  }
  return {
    trace_id: requireUuid(t.trace_id, `${label}.trace_id`, code),
    source_uri: text('source_uri', 2048),
    source_id: text('source_id', 256),
    source_type: text('source_type', 32),
    snippet,
    start,
    end,
    similarity: requireNumberIn(t.similarity, `${label}.similarity`, code, -1, 1),
    embedding_provider: text('embedding_provider', 32),
    embedding_model: text('embedding_model', 64),
  };
}

// --- RecordRecommendations -------------------------------------------------------------------

export function recordRecommendations(command: RecordRecommendations, state: AssessmentState): AssessmentEvent[] {
  const { data, metadata } = command;
  nowOf(metadata);
  requireProcessor(metadata.actor, 'record recommendations');
  const target = reportTarget(state, data.assessment_id);
  if (!target || target.recommendation) return [];
  if (target.pending.includes('essay_scoring')) {
    throw domainError(
      'ESSAY_SCORING_PENDING',
      `Assessment ${target.assessment_id} still has essays to score; recommend once they are scored.`,
      { pending: target.pending },
    );
  }
  const evidence = target.evidence;
  if (!evidence) {
    throw domainError(
      'EVIDENCE_NOT_RECORDED',
      `No evidence has been recorded for assessment ${target.assessment_id}; record it first.`,
    );
  }
  const recommendationId = requireUuid(data.recommendation_id, 'recommendation_id');
  const items = itemsOf(data.items, new Set(evidence.trace_ids));
  const degraded = data.degraded === true;
  const now = requireInstant(metadata.now, 'metadata.now');
  return [
    {
      type: 'RecommendationsGenerated',
      data: {
        assessment_id: target.assessment_id,
        recommendation_id: recommendationId,
        summary: summaryOf(data.summary),
        items,
        degraded,
        provider: requireText(data.provider, 'provider', { maxLength: 32 }),
        model: requireText(data.model, 'model', { maxLength: 64 }),
        prompt_version: requireText(data.prompt_version, 'prompt_version', { maxLength: 32 }),
        tokens_in: optionalCount(data.tokens_in, 'tokens_in'),
        tokens_out: optionalCount(data.tokens_out, 'tokens_out'),
        cost_cents: optionalAmount(data.cost_cents, 'cost_cents'),
        metrics: metricsOf(data.metrics),
        profile: profileOf(data.profile),
        job_key: data.job_key ?? null,
        generated_at: now,
      },
    },
    {
      type: 'AssessmentCompleted',
      // Any fallback on the way (an essay scored offline or not at all, degraded evidence, a
      // degraded ranking or composed rationales) makes the result degraded.
      data: { assessment_id: target.assessment_id, completed_at: now, degraded: target.degraded || degraded },
    },
  ];
}

function summaryOf(input: unknown): RecommendationSummary {
  const code = 'INVALID_RECOMMENDATIONS';
  const s = requireObject(input, 'summary', code);
  const summary = {
    text: requireText(s.text ?? '', 'summary.text', { code, allowEmpty: true, maxLength: 4000 }),
    strengths: textList(s.strengths, 'summary.strengths', code),
    gaps: textList(s.gaps, 'summary.gaps', code),
    next_steps: textList(s.next_steps, 'summary.next_steps', code),
  };
  if (summary.text === '' && summary.strengths.length + summary.gaps.length + summary.next_steps.length === 0) {
    fail(code, 'summary', 'must have a text or at least one strength, gap or next step.');
  }
  return summary;
}

function itemsOf(input: unknown, traceIds: Set<string>): RecommendationItem[] {
  const code = 'INVALID_RECOMMENDATIONS';
  const list = requireList(input, 'items', code, MAX_RECOMMENDATION_ITEMS);
  if (list.length === 0) {
    fail(code, 'items', 'must recommend at least one credential (fail the assessment when none can be).');
  }
  const items = list.map((entry, i) => itemOf(entry, i, traceIds));
  const credentials = items.map((item) => item.credential_id);
  const repeated = credentials.find((id, i) => credentials.indexOf(id) !== i);
  if (repeated !== undefined) {
    throw domainError(code, `Credential ${repeated} is recommended twice.`, { credential_id: repeated });
  }
  const positions = items.map((item) => item.position).sort((a, b) => a - b);
  if (positions.some((position, i) => position !== i + 1)) {
    throw domainError(code, `The items' positions must be 1 to ${items.length}, each once.`, {
      field: 'items.position',
    });
  }
  return [...items].sort((a, b) => a.position - b.position);
}

function itemOf(input: unknown, index: number, traceIds: Set<string>): RecommendationItem {
  const label = `items[${index}]`;
  const code = 'INVALID_RECOMMENDATIONS';
  const item = requireObject(input, label, code);
  const credentialId = requireUuid(item.credential_id, `${label}.credential_id`, code);
  const sources = requireList(item.source_trace_ids ?? [], `${label}.source_trace_ids`, code, MAX_EVIDENCE_TRACES).map(
    (id, i) => requireUuid(id, `${label}.source_trace_ids[${i}]`, code),
  );
  const unknown = sources.filter((id) => !traceIds.has(id));
  if (unknown.length > 0) {
    throw domainError(
      'UNKNOWN_TRACE_ID',
      `The rationale for credential ${credentialId} cites trace${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}, not in the recorded evidence.`,
      { credential_id: credentialId, trace_ids: unknown },
    );
  }
  if (new Set(sources).size !== sources.length) {
    fail(code, `${label}.source_trace_ids`, 'must not cite a trace twice.');
  }
  const position = item.position;
  if (typeof position !== 'number' || !Number.isSafeInteger(position) || position < 1) {
    fail(code, `${label}.position`, `must be a whole number >= 1, got ${describe(position)}.`);
  }
  const scores = requireObject(item.scores ?? {}, `${label}.scores`, code);
  const components: RecommendationScores = {
    content: optionalUnit(scores.content, `${label}.scores.content`),
    skill_gap: optionalUnit(scores.skill_gap, `${label}.scores.skill_gap`),
    collaborative: optionalUnit(scores.collaborative, `${label}.scores.collaborative`),
  };
  return {
    credential_id: credentialId,
    title: requireText(item.title, `${label}.title`, { code, maxLength: 200 }),
    confidence: requireNumberIn(item.confidence, `${label}.confidence`, code, 0, 1),
    rationale: requireText(item.rationale, `${label}.rationale`, { code, maxLength: 4000 }),
    source_trace_ids: sources,
    position,
    scores: components,
  };
}

function metricsOf(input: unknown): ProcessingMetrics {
  const m = requireObject(input, 'metrics', 'INVALID_COMMAND');
  return {
    total_latency_ms: requireCount(m.total_latency_ms, 'metrics.total_latency_ms'),
    gpt_latency_ms: optionalCount(m.gpt_latency_ms, 'metrics.gpt_latency_ms'),
    rag_latency_ms: optionalCount(m.rag_latency_ms, 'metrics.rag_latency_ms'),
    token_cost_cents: requireAmount(m.token_cost_cents, 'metrics.token_cost_cents'),
  };
}

function profileOf(input: unknown): StudentSkillProfile | null {
  if (input === undefined || input === null) return null;
  const code = 'INVALID_RECOMMENDATIONS';
  const p = requireObject(input, 'profile', code);
  const skills = requireList(p.skills, 'profile.skills', code, MAX_PROFILE_SKILLS).map((entry, i) => {
    const s = requireObject(entry, `profile.skills[${i}]`, code);
    return {
      skill: requireText(s.skill, `profile.skills[${i}].skill`, { code, maxLength: 200 }),
      proficiency: requireNumberIn(s.proficiency, `profile.skills[${i}].proficiency`, code, 0, 1),
      gap: requireNumberIn(s.gap, `profile.skills[${i}].gap`, code, 0, 1000),
    };
  });
  const vector = requireList(p.vector, 'profile.vector', code, MAX_PROFILE_SKILLS).map((x, i) =>
    requireNumberIn(x, `profile.vector[${i}]`, code, -1000, 1000),
  );
  if (vector.length !== skills.length) {
    fail(code, 'profile.vector', `must have one value per profile skill (${skills.length}), got ${vector.length}.`);
  }
  return { role_id: requireUuid(p.role_id, 'profile.role_id', code), skills, vector };
}

// --- FailAssessment --------------------------------------------------------------------------

export function failAssessment(command: FailAssessment, state: AssessmentState): AssessmentEvent[] {
  const { data, metadata } = command;
  nowOf(metadata);
  const assessmentId = requireUuid(data.assessment_id, 'assessment_id');
  if (!isAdminLike(metadata.actor)) {
    throw domainError('ADMIN_ROLE_REQUIRED', 'Only a processor or an admin may fail an assessment.', {
      actor_role: metadata.actor.role,
    });
  }
  if (state.status === 'not_started') {
    throw domainError('ASSESSMENT_NOT_FOUND', `No assessment with id ${assessmentId}.`);
  }
  // The first failure wins; a repeated one (a retried job, a second timeout) writes nothing.
  if (state.status === 'failed') return [];
  if (state.status === 'completed') {
    throw domainError(
      'ASSESSMENT_ALREADY_COMPLETED',
      `Assessment ${assessmentId} completed at ${state.completed_at}; it can no longer fail.`,
      { completed_at: state.completed_at },
    );
  }
  return [
    {
      type: 'AssessmentFailed',
      data: {
        assessment_id: assessmentId,
        failed_at: requireInstant(metadata.now, 'metadata.now'),
        reason: requireText(data.reason, 'reason', { maxLength: 2000 }),
      },
    },
  ];
}

// --- SubmitRecommendationFeedback ------------------------------------------------------------

export function submitRecommendationFeedback(
  command: SubmitRecommendationFeedback,
  state: AssessmentState,
): AssessmentEvent[] {
  const { data, metadata } = command;
  nowOf(metadata);
  const { actor } = metadata;
  const assessmentId = requireUuid(data.assessment_id, 'assessment_id');
  const recommendationId = requireUuid(data.recommendation_id, 'recommendation_id');
  const credentialId = requireUuid(data.credential_id, 'credential_id');
  if (state.status === 'not_started') {
    throw domainError('ASSESSMENT_NOT_FOUND', `No assessment with id ${assessmentId}.`);
  }
  if (actor.role === 'student' ? actor.id !== state.user_id : actor.role !== 'advisor' && actor.role !== 'admin') {
    throw domainError(
      'NOT_ASSESSMENT_OWNER',
      actor.role === 'student'
        ? 'You can only give feedback on the recommendations of your own assessment.'
        : 'Feedback comes from the student who took the assessment, an advisor or an admin.',
      { actor_role: actor.role },
    );
  }
  if (state.status !== 'completed') {
    throw domainError(
      'RECOMMENDATIONS_NOT_READY',
      `Assessment ${assessmentId} is ${state.status.replace('_', ' ')}; feedback is possible once its recommendations are ready.`,
      { status: state.status },
    );
  }
  const recommendation = state.recommendation;
  if (!recommendation || recommendation.recommendation_id !== recommendationId) {
    throw domainError(
      'RECOMMENDATION_NOT_FOUND',
      `Assessment ${assessmentId} has no recommendation with id ${recommendationId}.`,
      { recommendation_id: recommendationId },
    );
  }
  if (!recommendation.credential_ids.includes(credentialId)) {
    throw domainError(
      'RECOMMENDATION_ITEM_NOT_FOUND',
      `Credential ${credentialId} is not one of the recommendation's items.`,
      { credential_id: credentialId },
    );
  }
  const relevance = data.relevance_score;
  if (typeof relevance !== 'number' || !Number.isInteger(relevance) || relevance < 1 || relevance > 5) {
    fail('INVALID_FEEDBACK', 'relevance_score', `must be a whole number from 1 to 5, got ${describe(relevance)}.`);
  }
  const status = data.acceptance_status ?? 'pending';
  if (!acceptanceStatuses.includes(status)) {
    fail(
      'INVALID_FEEDBACK',
      'acceptance_status',
      `must be one of ${acceptanceStatuses.join(', ')}, got ${describe(status)}.`,
    );
  }
  const comments = optionalText(data.comments, 'comments', {
    code: 'INVALID_FEEDBACK',
    allowEmpty: true,
    maxLength: MAX_FEEDBACK_COMMENTS_LENGTH,
  });
  const latest = state.feedback?.[actor.id]?.[credentialId];
  const normalisedComments = comments === '' ? null : comments;
  // The same feedback again (a double submit) is not a revision: it writes nothing.
  if (
    latest &&
    latest.relevance_score === relevance &&
    latest.acceptance_status === status &&
    latest.comments === normalisedComments
  ) {
    return [];
  }
  const received: RecommendationFeedbackReceived = {
    type: 'RecommendationFeedbackReceived',
    data: {
      assessment_id: assessmentId,
      recommendation_id: recommendationId,
      credential_id: credentialId,
      relevance_score: relevance,
      acceptance_status: status,
      comments: normalisedComments,
      submitted_by: { id: actor.id, role: actor.role },
      revision: (latest?.revision ?? 0) + 1,
      submitted_at: requireInstant(metadata.now, 'metadata.now'),
    },
  };
  return [received];
}
