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
 * - collaborative (−1..1): what earlier students of the same role said of the credential
 *   **beyond what their own gaps predicted** (`collaborativeModel`). Every earlier decision
 *   (accepted 1, rejected 0; with the student's 0..1 rating r, (1 + r)/2 and r/2; pending
 *   ignored) is compared with the acceptance predicted from that student's own gap coverage of
 *   the credential by a logistic fit over the role's history (`feedbackResiduals`), which
 *   starts from `DEFAULT_ACCEPTANCE` so that a handful of decisions cannot explain themselves
 *   away; the residual is decision − prediction. The signal pools the residuals of the `k` (20)
 *   earlier students with decisions whose need vectors are the most similar (cosine > 0):
 *   Σ sim · residual / (Σ sim + shrinkage) over their residuals on the credential and, weighted
 *   by `related` × the Jaccard similarity of the skill sets (`skillRelatedness`), on
 *   credentials teaching the same skills, so that feedback also reaches credentials nobody
 *   similar was shown. Both settings are chosen on the history itself (`fitCollaborative`):
 *   the pair under which neighbours' residuals best predict a held-out student's own, or none
 *   (the signal is off) when no pair beats predicting zero. So a history with nothing to say
 *   beyond the gaps cannot move the ranking, and one that does speaks in proportion to how
 *   well it predicted.
 *   Why residuals: raw acceptances mostly repeat the coverage (a credential teaching a gap is
 *   accepted because it teaches it) and follow what we showed, and the earlier
 *   baseline-centred signal (`collaborativeSignal` minus `feedbackBaselines`, still exported)
 *   only partly corrected that, with a fixed shrinkage of 1 whatever the noise: on the bench
 *   it cost 0.016 nDCG@5 against no signal, and it fell over the feedback rounds. The weight
 *   0.2 is unchanged: the chosen shrinkage, not the weight, decides how much the history speaks.
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
  /** Pseudo-similarity added to the collaborative denominator (default: chosen on the history, `fitCollaborative`). */
  shrinkage?: number;
  /** 0..1, weight of residuals on related credentials (default: chosen on the history, `fitCollaborative`). */
  relatedFeedback?: number;
  /** The acceptance model a small history is compared with (default `DEFAULT_ACCEPTANCE`). */
  acceptance?: AcceptanceModel;
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
  /** Earlier similar students whose feedback on it, or on credentials teaching the same skills, counted. */
  neighbours_with_feedback: number;
}

export const DEFAULT_WEIGHTS: BlendWeights = { content: 0.3, coverage: 0.5, collaborative: 0.2 };
export const DEFAULT_CALIBRATION: Calibration = { slope: 8.6, midpoint: 0.405 };

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
  return nearestTo(
    profile.vector,
    history.filter((h) => h.role_id === profile.role_id && h.vector.length === profile.vector.length),
    k,
  );
}

function nearestTo(vector: readonly number[], students: readonly PriorStudent[], k: number): Neighbour[] {
  return students
    .map((student) => ({ student, similarity: cosineOf(vector, student.vector) }))
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

/** Residuals of earlier decisions: student id → credential id → decision − predicted acceptance. */
export type FeedbackResiduals = Map<string, Map<string, number>>;

/** How related two credentials are, 0..1: credential id → credential id → weight (1 with itself). */
export type Relatedness = Map<string, Map<string, number>>;

/**
 * decision − predicted acceptance for every decided (not pending) feedback record of the
 * profile's role on one of the candidates. The decision is 1 for accepted and 0 for rejected, or
 * with the student's 0..1 rating r, (1 + r) / 2 for accepted and r / 2 for rejected (the former
 * ±signal on a 0..1 scale). The prediction is σ(a + b · coverage), coverage being the earlier
 * student's own gap coverage of the credential (their need vector weighted by this profile's
 * importances: same role, same skill order), a and b fitted over all these records by logistic
 * regression with a N(`DEFAULT_ACCEPTANCE`, 1) prior on each: a handful of decisions are
 * compared with the default acceptance model (they cannot explain themselves away), hundreds
 * refit it. A later decision on the same credential replaces an earlier one.
 */
export function feedbackResiduals(
  profile: StudentProfile,
  candidates: readonly CandidateCredential[],
  history: readonly PriorStudent[],
  vocabulary: SkillVocabulary,
  acceptancePrior: AcceptanceModel = DEFAULT_ACCEPTANCE,
): FeedbackResiduals {
  const index = new Map(profile.skills.map((s, i) => [vocabulary.canonical(s.skill), i]));
  const taught = new Map(
    candidates.map((c) => [
      c.credential_id,
      [...new Set(c.skills.map((s) => index.get(vocabulary.canonical(s))))].filter((i): i is number => i !== undefined),
    ]),
  );
  const rows: { student_id: string; credential_id: string; x: number; y: number }[] = [];
  for (const h of history) {
    if (h.role_id !== profile.role_id || h.vector.length !== profile.skills.length) continue;
    const gaps = h.vector.map((shortfall, i) => Math.max(0, shortfall) * profile.skills[i]!.importance);
    const total = gaps.reduce((sum, g) => sum + g, 0);
    for (const f of h.feedback) {
      const skills = taught.get(f.credential_id);
      if (f.status === 'pending' || skills === undefined) continue;
      const x = total > 0 ? skills.reduce((sum, i) => sum + gaps[i]!, 0) / total : 0;
      rows.push({ student_id: h.student_id, credential_id: f.credential_id, x, y: decisionOf(f) });
    }
  }
  const { intercept, slope } = fitAcceptance(rows, acceptancePrior);
  const out: FeedbackResiduals = new Map();
  for (const r of rows) {
    const predicted = 1 / (1 + Math.exp(-(intercept + slope * r.x)));
    const mine = out.get(r.student_id) ?? new Map<string, number>();
    mine.set(r.credential_id, r.y - predicted);
    out.set(r.student_id, mine);
  }
  return out;
}

/** 1 accepted, 0 rejected; with a 0..1 rating r, (1 + r) / 2 accepted, r / 2 rejected. */
function decisionOf(record: FeedbackRecord): number {
  const accepted = record.status === 'accepted';
  if (record.relevance === undefined || !Number.isFinite(record.relevance)) return accepted ? 1 : 0;
  const r = Math.min(1, Math.max(0, record.relevance));
  return accepted ? (1 + r) / 2 : r / 2;
}

/** P(accepted) = σ(intercept + slope · the student's own gap coverage of the credential). */
export interface AcceptanceModel {
  intercept: number;
  slope: number;
}

/**
 * The acceptance model a role's history is compared with until it has enough decisions of its
 * own: fitted by `bench/recommendations/run.ts` (logistic regression of the simulated decisions
 * on the deciding student's coverage, on its calibration population, its own seed); a caller
 * with real feedback should refit it.
 */
export const DEFAULT_ACCEPTANCE: AcceptanceModel = { intercept: -1.25, slope: 4.6 };

/** Logistic regression of y (0..1) on x, with a N(prior, 1) prior on each coefficient (Newton). */
function fitAcceptance(rows: readonly { x: number; y: number }[], prior: AcceptanceModel): AcceptanceModel {
  let w0 = prior.intercept;
  let w1 = prior.slope;
  for (let iter = 0; iter < 25; iter++) {
    let g0 = w0 - prior.intercept;
    let g1 = w1 - prior.slope;
    let h00 = 1;
    let h01 = 0;
    let h11 = 1;
    for (const { x, y } of rows) {
      const p = 1 / (1 + Math.exp(-(w0 + w1 * x)));
      const v = p * (1 - p);
      g0 += p - y;
      g1 += (p - y) * x;
      h00 += v;
      h01 += v * x;
      h11 += v * x * x;
    }
    const det = h00 * h11 - h01 * h01;
    const d0 = (h11 * g0 - h01 * g1) / det;
    const d1 = (h00 * g1 - h01 * g0) / det;
    w0 -= d0;
    w1 -= d1;
    if (Math.abs(d0) + Math.abs(d1) < 1e-9) break;
  }
  return { intercept: w0, slope: w1 };
}

/**
 * The Jaccard similarity of each pair of candidates' skill sets (1 for a credential with
 * itself): a student's residual on one credential also counts, in that proportion, for the
 * others teaching the same skills, so feedback reaches credentials nobody similar was shown.
 */
export function skillRelatedness(candidates: readonly CandidateCredential[], vocabulary: SkillVocabulary): Relatedness {
  const sets = candidates.map((c) => ({
    id: c.credential_id,
    skills: new Set(c.skills.map((s) => vocabulary.canonical(s))),
  }));
  const out: Relatedness = new Map();
  for (const a of sets) {
    const row = new Map<string, number>();
    for (const b of sets) {
      let both = 0;
      for (const s of a.skills) if (b.skills.has(s)) both++;
      const union = a.skills.size + b.skills.size - both;
      const j = a.id === b.id ? 1 : union > 0 ? both / union : 0;
      if (j > 0) row.set(b.id, j);
    }
    out.set(a.id, row);
  }
  return out;
}

interface Pooled {
  num: number;
  den: number;
  count: number;
}

/**
 * Σ sim · residual and Σ sim over the neighbours' residuals on the credential itself, and
 * Σ sim · relatedness · residual and Σ sim · relatedness over their residuals on the others.
 */
function pooledResidual(
  credential_id: string,
  neighbours: readonly Neighbour[],
  residuals: FeedbackResiduals,
  relatedness?: Relatedness,
): { own: Pooled; related: Pooled } {
  const row = relatedness?.get(credential_id);
  const own = { num: 0, den: 0, count: 0 };
  const related = { num: 0, den: 0, count: 0 };
  for (const n of neighbours) {
    const mine = residuals.get(n.student.student_id);
    if (mine === undefined) continue;
    const r = mine.get(credential_id);
    if (r !== undefined) {
      own.num += n.similarity * r;
      own.den += n.similarity;
      own.count++;
    }
    if (row === undefined) continue;
    let counted = false;
    for (const [other, x] of mine) {
      const w = other === credential_id ? 0 : (row.get(other) ?? 0);
      if (w <= 0) continue;
      related.num += n.similarity * w * x;
      related.den += n.similarity * w;
      counted = true;
    }
    if (counted || r !== undefined) related.count++;
  }
  return { own, related };
}

function pooledValue(pooled: { own: Pooled; related: Pooled }, settings: CollaborativeSettings): number {
  if (!Number.isFinite(settings.shrinkage)) return 0;
  const num = pooled.own.num + settings.related * pooled.related.num;
  const den = pooled.own.den + settings.related * pooled.related.den;
  return den > 0 ? Math.max(-1, Math.min(1, num / (den + Math.max(0, settings.shrinkage)))) : 0;
}

/** How the collaborative signal pools residuals (chosen on the history by `fitCollaborative`). */
export interface CollaborativeSettings {
  /** Pseudo-similarity added to the denominator; Infinity switches the signal off. */
  shrinkage: number;
  /** 0..1: how much a residual on another credential counts, times its relatedness, next to one on the credential itself. */
  related: number;
}

/**
 * The collaborative signal of one credential, −1..1, and how many neighbours' feedback counted:
 * (Σ sim · residual + related · Σ sim · w · residual) / (Σ sim + related · Σ sim · w + shrinkage),
 * the first sums over the neighbours' residuals on the credential, the second over their
 * residuals on other credentials, w being their `relatedness` to it. Without `relatedness` (or
 * with `related` 0) only the credential's own residuals count; an infinite shrinkage gives 0.
 */
export function residualSignal(
  credential_id: string,
  neighbours: readonly Neighbour[],
  residuals: FeedbackResiduals,
  shrinkage: number,
  relatedness?: Relatedness,
  related = 0,
): { value: number; count: number } {
  const pooled = pooledResidual(credential_id, neighbours, residuals, relatedness);
  const count = related > 0 && relatedness !== undefined ? pooled.related.count : pooled.own.count;
  return { value: count === 0 ? 0 : pooledValue(pooled, { shrinkage, related }), count };
}

/** The shrinkages `fitCollaborative` chooses from; Infinity switches the signal off. */
export const SHRINKAGE_GRID: readonly number[] = [0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128, 256, Infinity];
/** The weights of related credentials' residuals `fitCollaborative` chooses from. */
export const RELATED_GRID: readonly number[] = [0, 0.25, 0.5, 1];

/**
 * The settings under which neighbours' residuals best predict a student's own, leaving each of
 * (at most) the first `probes` (150) students of the role with decisions out in turn (the
 * history's order; the read model lists the newest first): the sum of squared errors of
 * own residual − the signal from the probe's k nearest other students, over the probe's
 * decisions, for every pair of `SHRINKAGE_GRID` × `RELATED_GRID` (or only the given values).
 * A pair replaces the current best only if strictly better, starting from "off" (shrinkage
 * Infinity, related 0) and trying smaller weights of related credentials first: a history
 * whose residuals are noise leaves the signal off, and related credentials count only when
 * they predicted better than the credential alone.
 */
export function fitCollaborative(
  profile: StudentProfile,
  history: readonly PriorStudent[],
  residuals: FeedbackResiduals,
  options: {
    k?: number;
    probes?: number;
    relatedness?: Relatedness;
    shrinkage?: number;
    related?: number;
  } = {},
): CollaborativeSettings {
  const k = options.k ?? 20;
  const shrinkages = options.shrinkage !== undefined ? [options.shrinkage] : SHRINKAGE_GRID;
  const relateds =
    options.relatedness === undefined ? [0] : options.related !== undefined ? [options.related] : RELATED_GRID;
  const settings = relateds.flatMap((related) => shrinkages.map((shrinkage) => ({ shrinkage, related })));
  const role = history.filter(
    (h) => h.role_id === profile.role_id && h.vector.length === profile.vector.length && residuals.has(h.student_id),
  );
  const errors = settings.map(() => 0);
  let baseline = 0;
  for (const probe of role.slice(0, options.probes ?? 150)) {
    const neighbours = nearestTo(
      probe.vector,
      role.filter((h) => h.student_id !== probe.student_id),
      k,
    );
    for (const [credential_id, own] of residuals.get(probe.student_id)!) {
      const pooled = pooledResidual(credential_id, neighbours, residuals, options.relatedness);
      settings.forEach((setting, i) => {
        errors[i]! += (own - pooledValue(pooled, setting)) ** 2;
      });
      baseline += own * own;
    }
  }
  let best: CollaborativeSettings = {
    shrinkage: options.shrinkage ?? Infinity,
    related: options.related ?? 0,
  };
  let bestError = options.shrinkage !== undefined ? Infinity : baseline;
  settings.forEach((setting, i) => {
    if (errors[i]! < bestError - 1e-12) {
      best = setting;
      bestError = errors[i]!;
    }
  });
  return best;
}

export interface CollaborativeModel {
  neighbours: Neighbour[];
  residuals: FeedbackResiduals;
  relatedness: Relatedness;
  /** As given in the options, else as `fitCollaborative` chose them. */
  settings: CollaborativeSettings;
}

/** Everything the collaborative signal of one ranking needs (see the module comment). */
export function collaborativeModel(
  profile: StudentProfile,
  candidates: readonly CandidateCredential[],
  history: readonly PriorStudent[],
  vocabulary: SkillVocabulary,
  options: Pick<RankingOptions, 'k' | 'shrinkage' | 'relatedFeedback' | 'acceptance'> = {},
): CollaborativeModel {
  const k = options.k ?? 20;
  const residuals = feedbackResiduals(profile, candidates, history, vocabulary, options.acceptance);
  // The neighbours are the most similar students who decided on something: a student who gave
  // no feedback would only take a place among the k.
  const neighbours = nearestStudents(
    profile,
    history.filter((h) => residuals.has(h.student_id)),
    k,
  );
  const relatedness = skillRelatedness(candidates, vocabulary);
  const settings =
    options.shrinkage !== undefined && options.relatedFeedback !== undefined
      ? { shrinkage: options.shrinkage, related: options.relatedFeedback }
      : fitCollaborative(profile, history, residuals, {
          k,
          relatedness,
          ...(options.shrinkage !== undefined ? { shrinkage: options.shrinkage } : {}),
          ...(options.relatedFeedback !== undefined ? { related: options.relatedFeedback } : {}),
        });
  return { neighbours, residuals, relatedness, settings };
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
  const active = candidates.filter((c) => (c.status ?? 'active') === 'active');
  const unique = [...new Map(active.map((c) => [c.credential_id, c])).values()];
  const model =
    weights.collaborative !== 0 && history.length > 0
      ? collaborativeModel(profile, unique, history, vocabulary, {
          k: options.k,
          shrinkage: options.shrinkage,
          relatedFeedback: options.relatedFeedback,
          acceptance: options.acceptance,
        })
      : undefined;

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
    const collaborative =
      model === undefined
        ? { value: 0, count: 0 }
        : residualSignal(
            c.credential_id,
            model.neighbours,
            model.residuals,
            model.settings.shrinkage,
            model.relatedness,
            model.settings.related,
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
