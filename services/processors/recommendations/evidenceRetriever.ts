import { performance } from 'node:perf_hooks';
import type { EvidenceTrace } from '../../../domain/assessment/assessment';
import type { SkillRequirement } from '../../../domain/catalog/role';
import {
  evidenceTraceIdFor,
  MAX_SNIPPET_LENGTH,
  type RecordEvidence,
} from '../../../domain/assessment/recommendations';
import type { EvidenceHit, Retrieval } from '../../../projections/search/retrieval';
import type { Embeddings } from '../embeddings/embeddings';
import { cosine } from '../embeddings/vectors';
import type { AssessmentFacts } from './assessmentFacts';
import type { CandidateSource } from './candidates';
import type { StoredVectors } from './storedVectors';
import type { StudentNeedsBuilder } from './studentNeeds';

/**
 * The evidence stage: hybrid retrieval (BM25 + kNN, fused in the app) over the `evidence` index
 * (passages of credential descriptions and knowledge documents; retired ones are never
 * returned), with three kinds of query:
 *
 * - the student's needs as a whole (role, weakest skills, profile answers, essay openings);
 * - each of the three weakest skills, in the words of the role (what the skill means, where a
 *   knowledge document explains it);
 * - the passages of the credentials the ranking is likely to recommend (the engine's top
 *   candidates for this student), so each recommended credential can cite its own text.
 *
 * Every passage kept becomes a trace, quoted verbatim with its offsets, with its cosine to the
 * query that found it, computed with the same embedding model as the query.
 */
export interface EvidenceStageOptions {
  /** Traces recorded (default 16). */
  maxTraces: number;
}

type EvidenceData = RecordEvidence['data'];

export class EvidenceRetriever {
  constructor(
    private readonly deps: {
      retrieval: Retrieval;
      embeddings: Embeddings;
      needs: StudentNeedsBuilder;
      candidates: CandidateSource;
      stored: StoredVectors;
    },
    private readonly options: EvidenceStageOptions,
  ) {}

  async retrieve(
    facts: AssessmentFacts,
    skillsProfile: readonly SkillRequirement[],
    jobKey: string,
    signal?: AbortSignal,
  ): Promise<EvidenceData> {
    const started = performance.now();
    const { retrieval, needs: builder, candidates } = this.deps;
    const needs = await builder.needsOf(facts, skillsProfile, signal);
    const skillQueries = needs.weakest
      .slice(0, 3)
      .map((s) => `${s.skill}: what it means in practice for the ${facts.role_name} role and how to learn it`);
    const batch = await builder.embedQueries([needs.queryText, ...skillQueries], signal);
    const [needsVector, ...skillVectors] = batch.vectors;
    const model = batch.model;
    const likely = await candidates.topCandidates(facts, needs, needsVector!, model, 8, signal);

    const searches: Promise<{ hits: EvidenceHit[]; vector: Float32Array }>[] = [
      retrieval
        .searchEvidence({ text: needs.queryText, vector: needsVector!, k: 6, embeddingModel: model })
        .then((hits) => ({ hits, vector: needsVector! })),
      ...skillQueries.map((text, i) =>
        retrieval
          .searchEvidence({ text, vector: skillVectors[i]!, k: 3, embeddingModel: model })
          .then((hits) => ({ hits, vector: skillVectors[i]! })),
      ),
    ];
    if (likely.length > 0) {
      searches.push(
        retrieval
          .searchEvidence({
            text: needs.queryText,
            vector: needsVector!,
            k: likely.length * 3,
            filter: { sourceIds: likely, sourceType: 'credential' },
            embeddingModel: model,
          })
          // One passage per credential: its best.
          .then((hits) => ({
            hits: hits.filter((h, i) => hits.findIndex((o) => o.source_id === h.source_id) === i),
            vector: needsVector!,
          })),
      );
    }
    const results = await Promise.all(searches);

    // Interleave the lists (best of each first) so every query is represented within the cap.
    const chosen = new Map<string, { hit: EvidenceHit; vector: Float32Array }>();
    const depth = Math.max(0, ...results.map((r) => r.hits.length));
    for (let rank = 0; rank < depth && chosen.size < this.options.maxTraces; rank++) {
      for (const r of results) {
        const hit = r.hits[rank];
        if (hit && usable(hit) && !chosen.has(hit.id) && chosen.size < this.options.maxTraces) {
          chosen.set(hit.id, { hit, vector: r.vector });
        }
      }
    }
    const entries = [...chosen.values()];
    const vectors = await this.vectorsOf(
      entries.map((e) => e.hit),
      model,
      signal,
    );
    const traces: EvidenceTrace[] = entries.map(({ hit, vector }) => ({
      trace_id: evidenceTraceIdFor(facts.assessment_id, hit.id),
      source_uri: hit.source_uri,
      source_id: hit.source_id,
      source_type: hit.source_type,
      snippet: hit.snippet,
      start: hit.start,
      end: hit.end,
      similarity: roundedCosine(vector, vectors.get(hit.id)!),
      embedding_provider: batch.provider,
      embedding_model: batch.model,
    }));
    return {
      assessment_id: facts.assessment_id,
      traces,
      query_summary: needs.querySummary,
      latency_ms: Math.round(performance.now() - started),
      degraded: batch.degraded,
      job_key: jobKey,
    };
  }

  /**
   * Each passage's vector by the query's model: as stored by the search projection when it was
   * made by the same model, else embedded now.
   */
  private async vectorsOf(
    hits: readonly EvidenceHit[],
    model: string,
    signal?: AbortSignal,
  ): Promise<Map<string, ArrayLike<number>>> {
    const stored = await this.deps.stored.passages(hits.map((h) => h.id));
    const out = new Map<string, ArrayLike<number>>();
    const missing: EvidenceHit[] = [];
    for (const hit of hits) {
      const s = stored.get(hit.id);
      if (s?.model === model) out.set(hit.id, s.vector);
      else missing.push(hit);
    }
    if (missing.length > 0) {
      const batch = await this.deps.embeddings.embed(
        missing.map((h) => h.snippet),
        signal ? { signal } : {},
      );
      if (batch.model !== model) {
        // A provider fell back between the two calls: similarities would compare two models.
        throw new Error(`embedding model changed mid-retrieval (${model} → ${batch.model}); retrying`);
      }
      missing.forEach((h, i) => out.set(h.id, batch.vectors[i]!));
    }
    return out;
  }
}

/** A passage the decider will take: non-blank, within the snippet limit, offsets matching its length. */
function usable(hit: EvidenceHit): boolean {
  return (
    hit.snippet.trim().length > 0 &&
    hit.snippet.length <= MAX_SNIPPET_LENGTH &&
    hit.end - hit.start === hit.snippet.length
  );
}

function roundedCosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const c = cosine(a, b);
  return Math.max(-1, Math.min(1, Math.round(c * 10_000) / 10_000));
}
