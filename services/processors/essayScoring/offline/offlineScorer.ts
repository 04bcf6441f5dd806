/**
 * The offline essay scorer: no LLM. With a calibrated model (fitted on the question's
 * human-scored answers) it predicts the human score; without one it maps rubric coverage to
 * bands. Either way each criterion gets a band with a verbatim evidence passage, and answers that
 * must not be rewarded (empty, gibberish, copied prompt, keyword lists, off topic) are scored at
 * the minimum and flagged for review — after the model, so a model cannot be fooled into
 * rewarding them. Embeddings come in through the port; everything else is pure.
 */
import type { Embeddings, EmbeddingBatch, EmbeddingProvider } from '../../embeddings/embeddings';
import { meanVector } from '../../embeddings/vectors';
import type { CriterionScore, EssayScoreResult, EssayToScore } from '../essayScore';
import {
  type CalibratedModel,
  type CalibrationOptions,
  type PreparedModel,
  type QuestionToCalibrate,
  type QuestionVectors,
  type ScoredExample,
  decodeVector,
  denseFeatures,
  fitCalibratedModel,
  kernelRow,
  predict,
  prepareModel,
  questionTexts,
} from './calibration';
import {
  type CriterionCoverage,
  type CriterionProfile,
  coverage,
  profileTexts,
  rubricFraction,
  rubricProfiles,
} from './rubricCoverage';
import { type TextQualityOptions, type TextQualityReport, assessTextQuality, topicVocabulary } from './textQuality';
import { type Span, cosine, passageSpans, words } from './textFeatures';

export const OFFLINE_PROMPT_VERSION = 'offline-v1';
export const RUBRIC_MODEL = 'offline-rubric-v1';

export interface OfflineScorerOptions {
  calibration?: CalibrationOptions;
  quality?: TextQualityOptions;
  /** Texts per embeddings call (default 64). */
  batchSize?: number;
  /** Milliseconds clock for latency (default performance.now). */
  clock?: () => number;
  /** Question-text vectors kept in memory (default 2,000). */
  cacheSize?: number;
}

/** Embedding similarity below which an answer is unrelated to its question, per provider. */
export function offTopicThreshold(provider: EmbeddingProvider): number {
  return provider === 'lexical' ? 0.1 : 0.2;
}

const EVIDENCE_MAX_CHARS = 300;

export class OfflineEssayScorer {
  private readonly cache = new Map<string, Float32Array>();
  private readonly prepared = new WeakMap<CalibratedModel, { key: string; prepared: PreparedModel }>();
  private readonly clock: () => number;

  constructor(
    private readonly embeddings: Embeddings,
    private readonly options: OfflineScorerOptions = {},
  ) {
    this.clock = options.clock ?? (() => performance.now());
  }

  /**
   * Fits a model on the question's human-scored answers; null when there are too few. With the
   * question's `previous` model, examples it already holds keep their vectors (an override adds
   * one example: only that one is embedded), as long as the embedding model is the same.
   */
  async calibrate(
    question: QuestionToCalibrate,
    examples: readonly ScoredExample[],
    previous: CalibratedModel | null = null,
  ): Promise<CalibratedModel | null> {
    const usable = examples.filter((e) => Number.isFinite(e.score));
    const minExamples = this.options.calibration?.minExamples ?? 20;
    if (usable.length < minExamples) return null;
    const known = new Map<string, Float32Array>();
    previous?.examples.forEach((e, i) => known.set(e.text, decodeVector(previous.embedding.vectors[i]!)));
    let fresh = [...new Set(usable.map((e) => e.text).filter((t) => !known.has(t)))];
    let batch = fresh.length > 0 ? await this.embedAll(fresh) : undefined;
    if (batch && previous && batch.model !== previous.embedding.model) {
      known.clear(); // another embedding model answered: the old vectors are not comparable
      fresh = [...new Set(usable.map((e) => e.text))];
      batch = await this.embedAll(fresh);
    }
    fresh.forEach((t, i) => known.set(t, batch!.vectors[i]!));
    const embedding = batch ? { provider: batch.provider, model: batch.model } : previous!.embedding;
    const vectors = await this.questionVectors(question, embedding.model);
    return fitCalibratedModel(
      question,
      usable,
      usable.map((e) => known.get(e.text)!),
      { provider: embedding.provider, model: embedding.model },
      vectors,
      this.options.calibration,
    );
  }

  async score(essay: EssayToScore, model: CalibratedModel | null): Promise<EssayScoreResult> {
    return (await this.scoreWithEmbedding(essay, model)).result;
  }

  /**
   * Scores the essay and hands back the essay's vector it computed on the way (the normalised
   * mean of its passages' vectors), so the caller need not embed the essay a second time.
   */
  async scoreWithEmbedding(
    essay: EssayToScore,
    model: CalibratedModel | null,
  ): Promise<{
    result: EssayScoreResult;
    embedding: { provider: EmbeddingProvider; model: string; vector: Float32Array } | null;
  }> {
    const started = this.clock();
    const question: QuestionToCalibrate = {
      question_id: essay.question_id,
      prompt: essay.prompt,
      rubric: essay.rubric,
    };
    const profiles = rubricProfiles(essay.rubric);
    const text = essay.text ?? '';
    const hasWords = words(text).some((w) => /\p{L}/u.test(w));
    const passages = hasWords ? passageSpans(text) : [];

    // One embeddings call for the answer and its passages.
    const batch = hasWords ? await this.embeddings.embed([text, ...passages.map((p) => p.text)]) : null;
    const vector = batch?.vectors[0] ?? null;
    const passageVectors = batch?.vectors.slice(1) ?? [];
    const modelName = batch?.model ?? model?.embedding.model ?? 'none';
    const provider: EmbeddingProvider = batch?.provider ?? model?.embedding.provider ?? 'lexical';
    const vectors = hasWords ? await this.questionVectors(question, modelName) : null;

    let prepared: PreparedModel | null = null;
    if (model !== null && vectors !== null) prepared = await this.prepare(model, question, vectors, modelName);

    // Rubric coverage, per criterion.
    const coverages: CriterionCoverage[] = [];
    if (vectors !== null) {
      for (const p of profiles) {
        const profileVectors = await this.textVectors(profileTexts(p), modelName);
        coverages.push(coverage(p, { passages, passageVectors, profileVectors, provider }));
      }
    }

    // Quality: topic vocabulary from the question (and the model's good examples).
    const topic = prepared?.topic ?? topicVocabulary(questionTexts(question));
    let topicSimilarity: { value: number; threshold: number } | undefined;
    // The lexical embedding knows no meaning: its similarity says nothing the vocabulary does not.
    if (vector !== null && vectors !== null && provider !== 'lexical') {
      let best = Math.max(cosine(vector, vectors.prompt), ...vectors.criteria.map((c) => cosine(vector, c)));
      if (prepared !== null) {
        const minLevel = prepared.model.levels[0] as number;
        prepared.model.examples.forEach((e, i) => {
          if (e.score > minLevel) best = Math.max(best, cosine(vector, prepared.embeddings[i] as Float32Array));
        });
      }
      topicSimilarity = { value: best, threshold: offTopicThreshold(provider) };
    }
    const quality = assessTextQuality(
      text,
      {
        prompt: essay.prompt,
        ...(essay.rubric?.min_words !== undefined ? { rubricMinWords: essay.rubric.min_words } : {}),
        topicVocabulary: topic,
        ...(topicSimilarity ? { topicSimilarity } : {}),
      },
      this.options.quality,
    );

    const scored = this.decide(essay, question, profiles, coverages, prepared, text, vector, vectors, quality, {
      passages,
      passageVectors,
    });
    const result: EssayScoreResult = {
      ...scored,
      max_score: essay.max_score,
      provider: 'offline',
      prompt_version: OFFLINE_PROMPT_VERSION,
      degraded: true,
      flags: quality.flags,
      needs_review: scored.needs_review || quality.flags.length > 0,
      tokens_in: 0,
      tokens_out: 0,
      cost_cents: 0,
      latency_ms: Math.max(0, Math.round(this.clock() - started)),
    };
    const embedding =
      batch && passageVectors.length > 0
        ? { provider: batch.provider, model: batch.model, vector: meanVector(passageVectors) }
        : null;
    return { result, embedding };
  }

  private decide(
    essay: EssayToScore,
    question: QuestionToCalibrate,
    profiles: readonly CriterionProfile[],
    coverages: readonly CriterionCoverage[],
    prepared: PreparedModel | null,
    text: string,
    vector: Float32Array | null,
    vectors: QuestionVectors | null,
    quality: TextQualityReport,
    answer: { passages: readonly Span[]; passageVectors: readonly Float32Array[] },
  ): Pick<EssayScoreResult, 'score' | 'criteria' | 'rationale' | 'model' | 'needs_review'> {
    const maxScore = essay.max_score;
    const rejected = quality.flags.length > 0;
    const rejection = rejected ? `Not rewarded: ${quality.reasons.join('; ')}.` : '';
    const coverageFraction = rubricFraction(coverages);

    if (prepared !== null && vector !== null && vectors !== null) {
      const m = prepared.model;
      const row = kernelRow(prepared, text, vector, denseFeatures(text, vector, question, vectors, prepared.profiles));
      const p = predict(prepared, row);
      const modelScore = clamp(p.score, 0, maxScore);
      const nearest = [...p.neighbours].sort((a, b) => b.similarity - a.similarity)[0];
      const nearestIndex = nearest ? m.levels.indexOf(nearest.level) : p.levelIndex;
      const unsure = Math.abs(nearestIndex - p.levelIndex) >= 2;
      const topLevel = m.levels[m.levels.length - 1] as number;
      const fraction = topLevel > 0 ? modelScore / Math.max(topLevel, maxScore) : 0;
      const criteria =
        coverages.length > 0
          ? this.criteria(coverages, rejected, fraction - coverageFraction)
          : [this.overall(answer, modelScore, maxScore, rejected, prepared)];
      const rationale = rejected
        ? `${rejection} The calibrated model alone would have given ${fmt(modelScore)} of ${fmt(maxScore)}.`
        : `Calibrated on ${m.n_examples} human-scored answers: predicted ${fmt(modelScore)} of ${fmt(maxScore)} ` +
          `(most similar scored answers are at ${fmt(nearest?.level ?? modelScore)}; ${quality.words} words).` +
          (unsure ? ' The nearest scored answers disagree with the prediction, so a person should check it.' : '');
      return {
        score: rejected ? 0 : round2(modelScore),
        criteria,
        rationale,
        model: `${m.model}:${m.n_examples} examples`,
        needs_review: unsure,
      };
    }

    if (coverages.length > 0) {
      const score = round2(coverageFraction * maxScore);
      const strongest = [...coverages].sort((a, b) => b.coverage - a.coverage)[0];
      const weakest = [...coverages].sort((a, b) => a.coverage - b.coverage)[0];
      const rationale = rejected
        ? rejection
        : `Scored by rubric coverage (no calibrated model): ${Math.round(coverageFraction * 100)}% of the rubric earned, ` +
          `strongest on ${strongest?.criterion_id ?? '-'}, weakest on ${weakest?.criterion_id ?? '-'}.`;
      return {
        score: rejected ? 0 : score,
        criteria: this.criteria(coverages, rejected, 0),
        rationale,
        model: RUBRIC_MODEL,
        needs_review: false,
      };
    }

    // No rubric and no model: nothing to score against.
    return {
      score: 0,
      criteria: profiles.map((p) => ({
        criterion_id: p.criterion.id,
        band_score: p.minBand,
        max_band_score: p.maxBand,
        evidence: '',
        rationale: 'Not scored: no rubric coverage could be computed.',
      })),
      rationale: rejected
        ? rejection
        : 'Not scored: the question has no rubric and too few human-scored answers to calibrate on.',
      model: RUBRIC_MODEL,
      needs_review: true,
    };
  }

  /** Criterion bands from coverage, shifted by `shift` (share of the scale) to agree with a model. */
  private criteria(coverages: readonly CriterionCoverage[], rejected: boolean, shift: number): CriterionScore[] {
    return coverages.map((c) => {
      const span = c.maxBand - c.minBand;
      const band = rejected ? c.minBand : clamp(Math.round(c.band + shift * span), c.minBand, c.maxBand);
      const evidence = rejected || c.evidence === null ? '' : evidenceText(c.evidence);
      const rationale = rejected
        ? 'Not rewarded: the answer was flagged.'
        : c.pointsCovered === 0 && c.coverage < 0.2
          ? `Band ${band}/${c.maxBand}: the answer barely touches what this criterion asks for.`
          : `Band ${band}/${c.maxBand}: covers ${c.pointsCovered} of ${c.pointsTotal} points of the criterion` +
            (c.bestPoint ? `, best on "${c.bestPoint}"` : '') +
            `, and reads closest to the band-${c.closestBand} descriptor.`;
      return {
        criterion_id: c.criterion_id,
        band_score: band,
        max_band_score: c.maxBand,
        evidence,
        rationale,
      };
    });
  }

  /** Without a rubric: one overall criterion; evidence is the passage closest to answers scored alike. */
  private overall(
    answer: { passages: readonly Span[]; passageVectors: readonly Float32Array[] },
    score: number,
    maxScore: number,
    rejected: boolean,
    prepared: PreparedModel,
  ): CriterionScore {
    const m = prepared.model;
    const top = Math.max(m.levels[m.levels.length - 1] as number, maxScore);
    let evidence: Span | null = null;
    let best = -Infinity;
    answer.passages.forEach((p, i) => {
      const v = answer.passageVectors[i];
      if (!v) return;
      m.examples.forEach((e, j) => {
        if (e.score !== score) return;
        const sim = cosine(v, prepared.embeddings[j] as Float32Array);
        if (sim > best) {
          best = sim;
          evidence = p;
        }
      });
    });
    evidence ??= answer.passages[0] ?? null;
    return {
      criterion_id: 'overall',
      band_score: rejected ? 0 : score,
      max_band_score: top,
      evidence: rejected || evidence === null ? '' : evidenceText(evidence),
      rationale: rejected
        ? 'Not rewarded: the answer was flagged.'
        : `Overall ${fmt(score)}/${fmt(top)}, by similarity to this question's human-scored answers.`,
    };
  }

  private async prepare(
    model: CalibratedModel,
    question: QuestionToCalibrate,
    vectors: QuestionVectors,
    embeddingModel: string,
  ): Promise<PreparedModel> {
    const key = `${embeddingModel}\u0000${question.prompt}`;
    const memo = this.prepared.get(model);
    if (memo && memo.key === key) return memo.prepared;
    let prepared: PreparedModel;
    if (model.embedding.model === embeddingModel) {
      prepared = prepareModel(model, question, vectors);
    } else {
      // The examples were embedded by another model: refit on the same examples with this one.
      const refit = await this.calibrate(question, model.examples);
      prepared = prepareModel(refit ?? model, question, vectors);
    }
    this.prepared.set(model, { key, prepared });
    return prepared;
  }

  private async questionVectors(question: QuestionToCalibrate, model: string): Promise<QuestionVectors> {
    const texts = [question.prompt, ...(question.rubric?.criteria ?? []).map((c) => c.description)];
    const v = await this.textVectors(texts, model);
    return { prompt: v[0] as Float32Array, criteria: v.slice(1) };
  }

  /** Vectors of question texts (prompt, rubric), cached by embedding model and text. */
  private async textVectors(texts: readonly string[], model: string): Promise<Float32Array[]> {
    const missing = [...new Set(texts.filter((t) => !this.cache.has(`${model}\u0000${t}`)))];
    if (missing.length > 0) {
      const batch = await this.embedAll(missing);
      missing.forEach((t, i) => this.remember(`${batch.model}\u0000${t}`, batch.vectors[i] as Float32Array));
      if (batch.model !== model) {
        // The provider changed under us (e.g. fell back): answer with what it gave now.
        const now = new Map(missing.map((t, i) => [t, batch.vectors[i] as Float32Array]));
        return texts.map((t) => now.get(t) ?? (this.cache.get(`${model}\u0000${t}`) as Float32Array));
      }
    }
    return texts.map((t) => this.cache.get(`${model}\u0000${t}`) as Float32Array);
  }

  private remember(key: string, v: Float32Array): void {
    if (this.cache.size >= (this.options.cacheSize ?? 2000)) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(key, v);
  }

  private async embedAll(texts: readonly string[], retried = false): Promise<EmbeddingBatch> {
    const size = this.options.batchSize ?? 64;
    const vectors: Float32Array[] = [];
    let meta: Omit<EmbeddingBatch, 'vectors'> = { provider: 'lexical', model: 'none', degraded: true };
    for (let i = 0; i < texts.length; i += size) {
      const b = await this.embeddings.embed(texts.slice(i, i + size));
      if (i > 0 && b.model !== meta.model) {
        // Mixed providers in one set would make the vectors incomparable: start over once.
        if (retried) throw new Error(`embeddings changed model mid-batch (${meta.model} → ${b.model})`);
        return this.embedAll(texts, true);
      }
      meta = { provider: b.provider, model: b.model, degraded: b.degraded };
      vectors.push(...b.vectors);
    }
    return { ...meta, vectors };
  }
}

/** A passage as evidence: verbatim, cut at a word boundary when long (still a substring). */
function evidenceText(span: Span): string {
  if (span.text.length <= EVIDENCE_MAX_CHARS) return span.text;
  const cut = span.text.slice(0, EVIDENCE_MAX_CHARS);
  const space = cut.lastIndexOf(' ');
  return (space > 40 ? cut.slice(0, space) : cut).trimEnd();
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, x));
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(2);
}
