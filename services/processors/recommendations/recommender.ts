import type { EvidenceTrace, RecommendationSummary } from '../../../domain/assessment/assessment';
import type { SkillRequirement } from '../../../domain/catalog/role';
import { recommendationIdFor, type RecordRecommendations } from '../../../domain/assessment/recommendations';
import type { Logger } from '../../platform/logger';
import type { AssessmentFacts, RecordedEvidence } from './assessmentFacts';
import type { CandidateSource } from './candidates';
import { composeRationale, composeSummary, type RankedCredential, type SkillVocabulary } from './engine';
import type { RationaleWriter, WrittenRationales } from './llm/rationaleWriter';
import { recordedProfile, type StudentNeeds, type StudentNeedsBuilder } from './studentNeeds';

/**
 * The ranking stage: the student's needs, every active credential ranked by the engine's blend
 * (content similarity to the needs, skill-gap coverage, the collaborative signal of similar
 * earlier students), then rationales and a summary, from the LLM when there is one and it
 * answers, else composed from the evidence and scores (degraded). Each item cites the traces of
 * the recorded evidence its rationale rests on: the credential's own passages, then passages
 * naming a skill it covers.
 */
export interface RecommenderOptions {
  /** Items per result (default 5). */
  perResult: number;
}

type RecommendationData = RecordRecommendations['data'];

const MAX_COMPOSED_CITATIONS = 3;

export class Recommender {
  constructor(
    private readonly deps: {
      needs: StudentNeedsBuilder;
      candidates: CandidateSource;
      writer: RationaleWriter | null;
      logger: Logger;
      now?: () => number;
    },
    private readonly options: RecommenderOptions,
  ) {}

  async recommend(
    facts: AssessmentFacts,
    evidence: RecordedEvidence,
    skillsProfile: readonly SkillRequirement[],
    jobKey: string,
    signal?: AbortSignal,
  ): Promise<RecommendationData> {
    const { needs: builder, candidates, writer, logger } = this.deps;
    const needs = await builder.needsOf(facts, skillsProfile, signal);
    const batch = await builder.embedQueries([needs.queryText], signal);
    const ranking = await candidates.rank(facts, needs, batch.vectors[0]!, batch.model, this.options.perResult, signal);
    if (ranking.ranked.length === 0) {
      // Not given up at once: a credential just added may not be indexed yet. Out of attempts,
      // the assessment fails with this reason.
      throw new Error(`no active credential of the catalog teaches a skill of the ${facts.role_name} role`);
    }
    const skillsOf = new Map(ranking.candidates.map((c) => [c.credential_id, c.skills]));
    const ranked = ranking.ranked.map((r) => ({ ...r, skills: skillsOf.get(r.credential_id) ?? [] }));

    let written: WrittenRationales | null = null;
    if (writer) {
      try {
        written = await writer.write({ role_name: facts.role_name, needs, ranked, traces: evidence.traces }, signal);
      } catch (err) {
        if (signal?.aborted) throw err;
        const error = err instanceof Error ? err : new Error(String(err));
        logger.warn({ err: { name: error.name, message: error.message } }, 'rationale LLM failed; composing');
      }
    }
    const items = ranked.map((r, i) => {
      const own = written?.items.get(r.credential_id) ?? composed(r, needs, evidence.traces);
      return {
        credential_id: r.credential_id,
        title: r.title.slice(0, 200),
        confidence: round(r.confidence),
        rationale: own.rationale,
        source_trace_ids: own.source_trace_ids,
        position: i + 1,
        scores: {
          content: round(r.components.content),
          skill_gap: round(r.components.coverage),
          // The engine's signal is -1..1; recorded as 0..1, 0.5 meaning no evidence either way.
          collaborative: round((r.components.collaborative + 1) / 2),
        },
      };
    });
    const summary: RecommendationSummary =
      written?.summary ??
      composeSummary(needs.profile, ranking.ranked, {
        roleName: facts.role_name,
      });

    const essays = Object.values(facts.essay_scores);
    const essayLlmMs = essays.filter((e) => e.provider === 'openai').reduce((t, e) => t + (e.latency_ms ?? 0), 0);
    const usedLlm = written !== null || essays.some((e) => e.provider === 'openai');
    const essayCost = essays.reduce((t, e) => t + (e.cost_cents ?? 0), 0);
    const submittedAt = facts.submitted_at ? Date.parse(facts.submitted_at) : NaN;
    const now = (this.deps.now ?? Date.now)();
    return {
      assessment_id: facts.assessment_id,
      recommendation_id: recommendationIdFor(facts.assessment_id),
      summary,
      items,
      degraded: written === null || batch.degraded || ranking.degraded,
      provider: written ? 'openai' : 'composed',
      model: written?.model ?? 'composed-v1',
      prompt_version: written?.prompt_version ?? 'composed-v1',
      tokens_in: written?.tokens_in ?? null,
      tokens_out: written?.tokens_out ?? null,
      cost_cents: written?.cost_cents ?? null,
      metrics: {
        total_latency_ms: Number.isFinite(submittedAt) ? Math.max(0, Math.round(now - submittedAt)) : 0,
        gpt_latency_ms: usedLlm ? Math.round(essayLlmMs + (written?.latency_ms ?? 0)) : null,
        rag_latency_ms: evidence.latency_ms,
        token_cost_cents: round(essayCost + (written?.cost_cents ?? 0), 4),
      },
      profile: recordedProfile(needs.profile),
      job_key: jobKey,
    };
  }
}

/**
 * A composed rationale: the engine's sentence about the gaps the credential covers, citing the
 * credential's own passages first, then passages that name one of those skills.
 */
function composed(
  item: RankedCredential,
  needs: StudentNeeds,
  traces: readonly EvidenceTrace[],
): { rationale: string; source_trace_ids: string[] } {
  const cited = citationsFor(item, traces, needs.vocabulary);
  const { text } = composeRationale(
    item,
    needs.profile,
    cited.map((t) => ({ trace_id: t.trace_id, snippet: t.snippet, source_id: item.credential_id })),
    MAX_COMPOSED_CITATIONS,
  );
  return { rationale: text.slice(0, 4000), source_trace_ids: cited.map((t) => t.trace_id) };
}

function citationsFor(
  item: RankedCredential,
  traces: readonly EvidenceTrace[],
  vocabulary: SkillVocabulary,
): EvidenceTrace[] {
  const own = traces.filter((t) => t.source_id === item.credential_id);
  const spellings = item.covers.flatMap((c) => vocabulary.spellings(c.skill)).filter((s) => s.length > 2);
  const mentions = traces.filter((t) => {
    if (t.source_id === item.credential_id) return false;
    const text = t.snippet.toLowerCase();
    return spellings.some((s) => text.includes(s));
  });
  return [...own, ...mentions].slice(0, MAX_COMPOSED_CITATIONS);
}

function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(Math.min(1e9, Math.max(-1e9, x)) * f) / f;
}
