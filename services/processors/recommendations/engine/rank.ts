/**
 * Ranking of a role's candidate credentials for one student (pure).
 *
 * **Blend.** score = w_content · content + w_coverage · coverage + w_collab · collaborative, with
 * the default weights 0.3 / 0.5 / 0.2 (`DEFAULT_WEIGHTS`):
 * - content (0..1): similarity of the credential to the student's needs — the cosine of
 *   `needsVector` and the candidate's `vector` when both are given, else the candidate's
 *   `content_score` (e.g. from hybrid retrieval), clamped to [0, 1];
 * - coverage (0..1): the share of the student's gap the credential teaches, Σ gap_share(s) over
 *   the role skills s it names (skill names matched through the `SkillVocabulary`). Since
 *   gap(s) = importance × shortfall, a credential teaching the student's weakest, most important
 *   skills ranks first;
 * - collaborative (−1..1): among the `k` earlier students of the same role whose need vectors
 *   (`StudentProfile.vector`) are most similar (cosine > 0),
 *   Σ sim · (signal − baseline) / (Σ sim + `shrinkage`), the sums over those who gave feedback
 *   on the credential, baseline = the credential's mean signal over all earlier students of the
 *   role (`feedbackBaselines`); signal = +relevance for accepted,
 *   −(1 − relevance) for rejected (relevance: the student's optional 0..1 rating, default 1 for
 *   accepted and 0 for rejected), 0 for pending. The shrinkage keeps one neighbour's opinion
 *   from moving a credential much.
 *
 * **Confidence** = 1 / (1 + exp(−slope · (score − midpoint))): a logistic map, so it is bounded
 * in (0, 1) and strictly increasing in the score for slope > 0. The default slope and midpoint
 * (`DEFAULT_CALIBRATION`) were fitted by `bench/recommendations/run.ts` (logistic regression of
 * the bench's graded relevance on the blended score, on a calibration population drawn with
 * its own seed), so that confidence ≈ the expected relevance under the bench's rule; a caller
 * with real feedback should refit them.
 *
 * **Diversity.** The first `top` (5) places never hold two near-duplicates: a candidate is held
 * back when its skill set's Jaccard similarity with an already placed one is ≥ `maxSkillJaccard`
 * (0.75), when both have vectors and their cosine is ≥ `maxVectorCosine` (0.95), or when their
 * normalised titles are equal. Held-back candidates follow, in score order, after the top.
 */
import type { StudentProfile } from './profile';
import { normaliseSkill, skillJaccard, type SkillVocabulary } from './skills';
import { cosineOf } from './vectors';

export interface CandidateCredential {
  credential_id: string;
  title: string;
  description?: string;
  skills: string[];
  provider?: string | null;
  /** Only active credentials are ranked; missing means active. */
  status?: 'active' | 'retired';
  /** Content similarity to the student's needs, 0..1, e.g. from hybrid retrieval. */
  content_score?: number;
  /** The credential's embedding (title + description + skills), for content and diversity. */
  vector?: ArrayLike<number>;
}

export type FeedbackStatus = 'accepted' | 'rejected' | 'pending';

export interface FeedbackRecord {
  credential_id: string;
  status: FeedbackStatus;
  /** Optional 0..1 rating of how relevant the student found it. */
  relevance?: number;
}

export interface PriorStudent {
  student_id: string;
  role_id: string;
  /** Their `StudentProfile.vector` (the same role's skill order). */
  vector: number[];
  feedback: FeedbackRecord[];
}

export interface BlendWeights {
  content: number;
  coverage: number;
  collaborative: number;
}

export interface Calibration {
  slope: number;
  midpoint: number;
}

export interface RankingOptions {
  weights?: Partial<BlendWeights>;
  /** Neighbours for the collaborative signal (default 20). */
  k?: number;
  /** Pseudo-similarity added to the collaborative denominator (default 1). */
  shrinkage?: number;
  calibration?: Calibration;
  needsVector?: ArrayLike<number>;
  diversity?: { top?: number; maxSkillJaccard?: number; maxVectorCosine?: number };
  /** Items returned (default all). */
  limit?: number;
}

export interface RankedCredential {
  credential_id: string;
  title: string;
  rank: number;
  score: number;
  /** Calibrated 0..1 (see the module comment). */
  confidence: number;
  components: { content: number; coverage: number; collaborative: number };
  /** The role skills it teaches that the student has a gap in, largest gap first. */
  covers: { skill: string; gap_share: number; proficiency: number }[];
  /** Earlier similar students whose feedback on it counted. */
  neighbours_with_feedback: number;
}

export const DEFAULT_WEIGHTS: BlendWeights = { content: 0.3, coverage: 0.5, collaborative: 0.2 };
export const DEFAULT_CALIBRATION: Calibration = { slope: 8, midpoint: 0.41 };

export function calibratedConfidence(score: number, calibration: Calibration = DEFAULT_CALIBRATION): number {
  const slope = Math.max(1e-6, calibration.slope);
  const z = slope * (score - calibration.midpoint);
  return 1 / (1 + Math.exp(-Math.max(-700, Math.min(700, z))));
}

export interface Neighbour {
  student: PriorStudent;
  similarity: number;
}

/** The k most similar earlier students of the same role (cosine of need vectors > 0), most similar first. */
export function nearestStudents(profile: StudentProfile, history: readonly PriorStudent[], k = 20): Neighbour[] {
  return history
    .filter((h) => h.role_id === profile.role_id && h.vector.length === profile.vector.length)
    .map((student) => ({ student, similarity: cosineOf(profile.vector, student.vector) }))
    .filter((n) => n.similarity > 0)
    .sort((a, b) => b.similarity - a.similarity)
    .slice(0, k);
}

function feedbackSignal(record: FeedbackRecord): number {
  const r = record.relevance === undefined ? undefined : Math.min(1, Math.max(0, record.relevance));
  if (record.status === 'accepted') return r ?? 1;
  if (record.status === 'rejected') return -(1 - (r ?? 0));
  return 0;
}

/** Mean feedback signal per credential over every earlier student of the role (the baseline). */
export function feedbackBaselines(role_id: string, history: readonly PriorStudent[]): Map<string, number> {
  const sums = new Map<string, { sum: number; n: number }>();
  for (const h of history) {
    if (h.role_id !== role_id) continue;
    for (const f of h.feedback) {
      if (f.status === 'pending') continue;
      const acc = sums.get(f.credential_id) ?? { sum: 0, n: 0 };
      acc.sum += feedbackSignal(f);
      acc.n++;
      sums.set(f.credential_id, acc);
    }
  }
  return new Map([...sums].map(([id, { sum, n }]) => [id, sum / n]));
}

/**
 * The collaborative signal of one credential, −1..1, and how many neighbours gave feedback on
 * it: Σ sim · (signal − baseline) / (Σ sim + shrinkage), where the baseline is the credential's
 * mean signal over all earlier students of the role (0 when not given). Subtracting it keeps
 * what similar students think beyond what everyone thinks: a credential everyone accepts is
 * already favoured by its coverage, and would otherwise be counted twice.
 */
export function collaborativeSignal(
  credential_id: string,
  neighbours: readonly Neighbour[],
  shrinkage = 1,
  baseline = 0,
): { value: number; count: number } {
  let num = 0;
  let den = 0;
  let count = 0;
  for (const n of neighbours) {
    const records = n.student.feedback.filter((f) => f.credential_id === credential_id && f.status !== 'pending');
    if (records.length === 0) continue;
    const signal = records.reduce((s, f) => s + feedbackSignal(f), 0) / records.length;
    num += n.similarity * (signal - baseline);
    den += n.similarity;
    count++;
  }
  return { value: count === 0 ? 0 : Math.max(-1, Math.min(1, num / (den + shrinkage))), count };
}

/** Skill-gap coverage of a credential's skills, 0..1, with the covered skills. */
export function gapCoverage(
  skills: readonly string[],
  profile: StudentProfile,
  vocabulary: SkillVocabulary,
): { value: number; covers: RankedCredential['covers'] } {
  const taught = new Set(skills.map((s) => vocabulary.canonical(s)));
  const covers = profile.skills
    .filter((s) => s.gap > 0 && taught.has(vocabulary.canonical(s.skill)))
    .sort((a, b) => b.gap - a.gap)
    .map((s) => ({ skill: s.skill, gap_share: s.gap_share, proficiency: s.proficiency }));
  return {
    value: Math.min(
      1,
      covers.reduce((sum, c) => sum + c.gap_share, 0),
    ),
    covers,
  };
}

function nearDuplicate(
  a: CandidateCredential,
  b: CandidateCredential,
  vocabulary: SkillVocabulary,
  maxSkillJaccard: number,
  maxVectorCosine: number,
): boolean {
  if (normaliseSkill(a.title) === normaliseSkill(b.title)) return true;
  if (skillJaccard(a.skills, b.skills, vocabulary) >= maxSkillJaccard) return true;
  return a.vector !== undefined && b.vector !== undefined && cosineOf(a.vector, b.vector) >= maxVectorCosine;
}

export function rankCredentials(
  profile: StudentProfile,
  candidates: readonly CandidateCredential[],
  history: readonly PriorStudent[],
  vocabulary: SkillVocabulary,
  options: RankingOptions = {},
): RankedCredential[] {
  const weights = { ...DEFAULT_WEIGHTS, ...options.weights };
  const neighbours = nearestStudents(profile, history, options.k ?? 20);
  const shrinkage = options.shrinkage ?? 1;
  const baselines = feedbackBaselines(profile.role_id, history);
  const active = candidates.filter((c) => (c.status ?? 'active') === 'active');
  const unique = [...new Map(active.map((c) => [c.credential_id, c])).values()];

  const scored = unique.map((c) => {
    const content = Math.min(
      1,
      Math.max(
        0,
        options.needsVector !== undefined && c.vector !== undefined
          ? cosineOf(options.needsVector, c.vector)
          : (c.content_score ?? 0),
      ),
    );
    const coverage = gapCoverage(c.skills, profile, vocabulary);
    const collaborative = collaborativeSignal(
      c.credential_id,
      neighbours,
      shrinkage,
      baselines.get(c.credential_id) ?? 0,
    );
    const score =
      weights.content * content + weights.coverage * coverage.value + weights.collaborative * collaborative.value;
    return { c, content, coverage, collaborative, score };
  });
  scored.sort((a, b) => b.score - a.score || a.c.credential_id.localeCompare(b.c.credential_id));

  const top = options.diversity?.top ?? 5;
  const maxJ = options.diversity?.maxSkillJaccard ?? 0.75;
  const maxCos = options.diversity?.maxVectorCosine ?? 0.95;
  const placed: typeof scored = [];
  const heldBack: typeof scored = [];
  for (const item of scored) {
    if (placed.length < top && placed.some((p) => nearDuplicate(p.c, item.c, vocabulary, maxJ, maxCos))) {
      heldBack.push(item);
    } else if (placed.length < top) {
      placed.push(item);
    } else {
      heldBack.push(item);
    }
  }
  const ordered = [...placed, ...heldBack.sort((a, b) => b.score - a.score)];

  return ordered.slice(0, options.limit ?? ordered.length).map((item, i) => ({
    credential_id: item.c.credential_id,
    title: item.c.title,
    rank: i + 1,
    score: item.score,
    confidence: calibratedConfidence(item.score, options.calibration),
    components: {
      content: item.content,
      coverage: item.coverage.value,
      collaborative: item.collaborative.value,
    },
    covers: item.coverage.covers,
    neighbours_with_feedback: item.collaborative.count,
  }));
}
