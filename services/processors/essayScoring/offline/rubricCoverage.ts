/**
 * Rubric coverage: how much of what each criterion asks for an essay's passages cover, from
 * embedding similarity (passages vs the criterion's points and band descriptors) and content-word
 * overlap. Gives a band per criterion with the best-matching passage as verbatim evidence. Pure:
 * the vectors are computed by the caller.
 */
import type { EssayCriterion, EssayRubric } from '../../../../domain/assessment/rubric';
import type { EmbeddingProvider } from '../../embeddings/embeddings';
import { contentStems, cosine, type Span } from './textFeatures';

/** One point a criterion asks for: a clause of its description or of its top band descriptor. */
export interface CriterionPoint {
  text: string;
  stems: string[];
}

export interface CriterionProfile {
  criterion: EssayCriterion;
  minBand: number;
  maxBand: number;
  points: CriterionPoint[];
  /** Bands in ascending score order. */
  bands: { score: number; descriptor: string }[];
}

/** Covering this share of a criterion's points earns its top band. */
export const FULL_COVERAGE = 0.6;

/** Cosine similarity at which a passage starts to / fully matches a point, per embedding provider. */
export function similarityRange(provider: EmbeddingProvider): { low: number; high: number } {
  return provider === 'lexical' ? { low: 0.15, high: 0.55 } : { low: 0.25, high: 0.65 };
}

export function criterionProfile(criterion: EssayCriterion): CriterionProfile {
  const bands = [...criterion.bands].sort((a, b) => a.score - b.score);
  const top = bands[bands.length - 1];
  const source = `${criterion.description}; ${top?.descriptor ?? ''}`;
  const seen = new Set<string>();
  const points: CriterionPoint[] = [];
  for (const raw of source.split(/[:;,()]|\.\s|\s(?:and|or|vs|versus|e\.g\.|such as|including)\s/)) {
    const text = raw.replace(/["“”]/g, '').trim();
    const stems = contentStems(text);
    if (stems.length === 0) continue;
    const key = stems.join(' ');
    if (seen.has(key)) continue;
    seen.add(key);
    points.push({ text, stems });
  }
  return {
    criterion,
    minBand: bands[0]?.score ?? 0,
    maxBand: top?.score ?? 0,
    points,
    bands: bands.map((b) => ({ score: b.score, descriptor: b.descriptor })),
  };
}

export function rubricProfiles(rubric: EssayRubric | null): CriterionProfile[] {
  return rubric === null ? [] : rubric.criteria.map(criterionProfile);
}

/** Texts whose vectors `coverage` needs for a profile: its points, then its band descriptors. */
export function profileTexts(p: CriterionProfile): string[] {
  return [p.criterion.description, ...p.points.map((x) => x.text), ...p.bands.map((b) => b.descriptor)];
}

/** Share of a point's content stems found in the essay, scaled so that 60% counts as covered. */
function lexicalPointCoverage(essayStems: ReadonlySet<string>, point: CriterionPoint): number {
  let hit = 0;
  for (const s of point.stems) if (essayStems.has(s)) hit++;
  return Math.min(1, hit / point.stems.length / 0.6);
}

/** Lexical-only coverage of a whole text (cheap; a calibration feature). */
export function lexicalCoverage(text: string, profiles: readonly CriterionProfile[]): number {
  if (profiles.length === 0) return 0;
  const stems = new Set(contentStems(text));
  let total = 0;
  let weights = 0;
  for (const p of profiles) {
    const c =
      p.points.length === 0 ? 0 : p.points.reduce((s, pt) => s + lexicalPointCoverage(stems, pt), 0) / p.points.length;
    total += p.criterion.weight * Math.min(1, c / FULL_COVERAGE);
    weights += p.criterion.weight;
  }
  return weights > 0 ? total / weights : 0;
}

export interface CriterionCoverage {
  criterion_id: string;
  weight: number;
  minBand: number;
  maxBand: number;
  /** Share of the criterion's points covered, after scaling (0..1). */
  coverage: number;
  /** Continuous band estimate in [minBand, maxBand]. */
  band: number;
  /** The best-matching passage ('' when nothing matched at all). */
  evidence: Span | null;
  evidenceSimilarity: number;
  /** The point best covered, and the band whose descriptor the essay is closest to. */
  bestPoint: string | null;
  closestBand: number;
  pointsCovered: number;
  pointsTotal: number;
}

export interface CoverageInput {
  passages: readonly Span[];
  passageVectors: readonly Float32Array[];
  /** Vectors of `profileTexts(profile)`, in that order. */
  profileVectors: readonly Float32Array[];
  provider: EmbeddingProvider;
}

export function coverage(profile: CriterionProfile, input: CoverageInput): CriterionCoverage {
  const { low, high } = similarityRange(input.provider);
  const scale = (sim: number): number => Math.max(0, Math.min(1, (sim - low) / (high - low)));
  const passageStems = input.passages.map((p) => new Set(contentStems(p.text)));
  const allStems = new Set(passageStems.flatMap((s) => [...s]));
  const descriptionVector = input.profileVectors[0];
  const pointVectors = input.profileVectors.slice(1, 1 + profile.points.length);
  const bandVectors = input.profileVectors.slice(1 + profile.points.length);

  // Per point: the better of embedding match (best passage) and content-word overlap.
  let covered = 0;
  let pointsCovered = 0;
  let bestPoint: string | null = null;
  let bestPointValue = 0;
  const passageSupport = new Float64Array(input.passages.length);
  profile.points.forEach((point, k) => {
    const pv = pointVectors[k];
    let bestSim = 0;
    let bestPassage = -1;
    input.passages.forEach((_, i) => {
      const v = input.passageVectors[i];
      const sim = pv && v ? cosine(v, pv) : 0;
      const lex = lexicalPointCoverage(passageStems[i] as Set<string>, point);
      const value = Math.max(scale(sim), lex);
      if (value > bestSim) {
        bestSim = value;
        bestPassage = i;
      }
    });
    const value = Math.max(bestSim, lexicalPointCoverage(allStems, point));
    covered += value;
    if (value >= 0.5) pointsCovered++;
    if (bestPassage >= 0) passageSupport[bestPassage] = (passageSupport[bestPassage] as number) + bestSim;
    if (value > bestPointValue) {
      bestPointValue = value;
      bestPoint = point.text;
    }
  });
  const rawCoverage = profile.points.length > 0 ? covered / profile.points.length : 0;
  const cov = Math.min(1, rawCoverage / FULL_COVERAGE);

  // The passage that supports the criterion most (its points plus its description).
  let evidenceIndex = -1;
  let evidenceValue = 0;
  input.passages.forEach((_, i) => {
    const v = input.passageVectors[i];
    const simDesc = v && descriptionVector ? scale(cosine(v, descriptionVector)) : 0;
    const value = (passageSupport[i] as number) + simDesc;
    if (value > evidenceValue) {
      evidenceValue = value;
      evidenceIndex = i;
    }
  });

  // The band whose descriptor the best passages resemble most (a softmax over bands).
  let closestBand = profile.minBand;
  let descriptorBand = profile.minBand + cov * (profile.maxBand - profile.minBand);
  if (bandVectors.length === profile.bands.length && input.passages.length > 0) {
    const sims = profile.bands.map((_, b) => {
      let best = -1;
      input.passageVectors.forEach((v) => (best = Math.max(best, cosine(v, bandVectors[b] as Float32Array))));
      return best;
    });
    const top = Math.max(...sims);
    const weights = sims.map((s) => Math.exp((s - top) / 0.05));
    const sum = weights.reduce((a, b) => a + b, 0);
    descriptorBand = profile.bands.reduce((s, b, i) => s + (b.score * (weights[i] as number)) / sum, 0);
    closestBand = profile.bands[sims.indexOf(top)]?.score ?? profile.minBand;
  }
  const coverageBand = profile.minBand + cov * (profile.maxBand - profile.minBand);
  const band = Math.max(profile.minBand, Math.min(profile.maxBand, 0.75 * coverageBand + 0.25 * descriptorBand));
  const evidence = evidenceIndex >= 0 && evidenceValue > 0 ? (input.passages[evidenceIndex] ?? null) : null;
  return {
    criterion_id: profile.criterion.id,
    weight: profile.criterion.weight,
    minBand: profile.minBand,
    maxBand: profile.maxBand,
    coverage: cov,
    band,
    evidence,
    evidenceSimilarity: evidenceValue,
    bestPoint,
    closestBand,
    pointsCovered,
    pointsTotal: profile.points.length,
  };
}

/** Weighted share of the rubric earned by continuous bands (0..1). */
export function rubricFraction(coverages: readonly CriterionCoverage[]): number {
  let total = 0;
  let weights = 0;
  for (const c of coverages) {
    const span = c.maxBand - c.minBand;
    total += c.weight * (span > 0 ? (c.band - c.minBand) / span : 0);
    weights += c.weight;
  }
  return weights > 0 ? total / weights : 0;
}
