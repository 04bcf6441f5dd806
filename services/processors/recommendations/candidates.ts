import type { Pool } from 'pg';
import { listCredentials } from '../../../projections/catalog/queries';
import { priorStudentsOf } from '../../../projections/recommendations/queries';
import { credentialText } from '../../../projections/search/documents';
import type { Embeddings } from '../embeddings/embeddings';
import { rankCredentials, type CandidateCredential, type PriorStudent, type RankedCredential } from './engine';
import type { AssessmentFacts } from './assessmentFacts';
import type { IndexedCredential, StoredVectors } from './storedVectors';
import type { StudentNeeds } from './studentNeeds';

/**
 * The candidates a student's credentials are ranked from: the active credentials of the catalog
 * that teach at least one of the role's skills (by name or synonym; retired ones never take
 * part), each with its vector (title, description and skills,
 * as the search index embeds them; kept per credential revision and embedding model), and the
 * earlier students of the role with their feedback, for the collaborative signal.
 */
export interface Ranking {
  ranked: RankedCredential[];
  candidates: CandidateCredential[];
  /** Earlier students of the role that took part in the collaborative signal. */
  history: number;
  /** The candidates came from the catalog read model: the search index could not answer. */
  degraded: boolean;
}

const MAX_CATALOG = 1000;

export class CandidateSource {
  private readonly vectors = new Map<string, { model: string; vector: Float32Array }>();

  constructor(
    private readonly deps: { pool: Pool; embeddings: Embeddings; stored: StoredVectors; historyLimit?: number },
  ) {}

  async rank(
    facts: AssessmentFacts,
    needs: StudentNeeds,
    needsVector: Float32Array,
    needsModel: string,
    limit: number,
    signal?: AbortSignal,
  ): Promise<Ranking> {
    const [{ candidates, degraded }, history] = await Promise.all([
      this.candidates(needsModel, signal),
      priorStudentsOf(this.deps.pool, facts.role_id, {
        limit: this.deps.historyLimit ?? 2000,
        excludeAssessmentId: facts.assessment_id,
      }) as Promise<PriorStudent[]>,
    ]);
    // A credential teaching none of the role's skills is not a candidate for it.
    const roleSkills = needs.profile.skills.map((s) => s.skill);
    const relevant = candidates.filter((c) =>
      c.skills.some((s) => roleSkills.some((r) => needs.vocabulary.same(r, s))),
    );
    const ranked = rankCredentials(needs.profile, relevant, history, needs.vocabulary, {
      needsVector,
      limit,
    });
    return { ranked, candidates: relevant, history: history.length, degraded };
  }

  /** The ids of the `n` credentials the ranking puts first for this student. */
  async topCandidates(
    facts: AssessmentFacts,
    needs: StudentNeeds,
    needsVector: Float32Array,
    needsModel: string,
    n: number,
    signal?: AbortSignal,
  ): Promise<string[]> {
    const { ranked } = await this.rank(facts, needs, needsVector, needsModel, n, signal);
    return ranked.map((r) => r.credential_id);
  }

  /**
   * This deployment's active credentials, as the search index holds them (text and vector); when
   * Elasticsearch cannot answer, the catalog read model's (embedded here), and the ranking is
   * degraded. Vectors are kept per credential revision and model.
   */
  private async candidates(
    model: string,
    signal?: AbortSignal,
  ): Promise<{ candidates: CandidateCredential[]; degraded: boolean }> {
    let items: IndexedCredential[];
    let degraded = false;
    try {
      items = await this.deps.stored.activeCredentials();
    } catch {
      const { items: rows } = await listCredentials(this.deps.pool, { page: 1, pageSize: MAX_CATALOG });
      items = rows.map((c) => ({ ...c, description: c.description ?? '' }));
      degraded = true;
    }
    const key = (c: IndexedCredential) => `${c.credential_id}@${Date.parse(c.updated_at)}`;
    for (const c of items) {
      if (c.stored?.model === model && this.vectors.get(key(c))?.model !== model) {
        this.vectors.set(key(c), { model, vector: Float32Array.from(c.stored.vector) });
      }
    }
    const missing = items.filter((c) => this.vectors.get(key(c))?.model !== model);
    if (missing.length > 0) {
      const batch = await this.deps.embeddings.embed(
        missing.map((c) => credentialText(c)),
        signal ? { signal } : {},
      );
      if (batch.model !== model) {
        throw new Error(`embedding model changed mid-ranking (${model} → ${batch.model}); retrying`);
      }
      missing.forEach((c, i) => this.vectors.set(key(c), { model: batch.model, vector: batch.vectors[i]! }));
    }
    // Forget revisions and credentials no longer active.
    const live = new Set(items.map(key));
    for (const k of this.vectors.keys()) if (!live.has(k)) this.vectors.delete(k);
    return {
      degraded,
      candidates: items.map((c) => ({
        credential_id: c.credential_id,
        title: c.title,
        description: c.description,
        skills: c.skills,
        provider: c.provider,
        status: 'active' as const,
        vector: this.vectors.get(key(c))!.vector,
      })),
    };
  }
}
