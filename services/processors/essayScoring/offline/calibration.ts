/**
 * Per-question calibration from human-scored answers: kernel ridge regression over a mix of
 * normalised kernels (TF-IDF of word uni/bigrams, TF-IDF of character n-grams, embedding cosine,
 * an RBF over standardised length/structure/vocabulary/coverage features), the mix, a kernel
 * power and λ chosen by k-fold cross-validation, then ordinal cut points between the observed
 * score levels chosen on out-of-fold predictions to maximise quadratic weighted kappa.
 *
 * The fitted model is a plain JSON object (cacheable); it keeps the examples' texts (features
 * are recomputed deterministically on load) and their embeddings. Pure: vectors come in.
 */
import type { EssayRubric } from '../../../../domain/assessment/rubric';
import type { EmbeddingProvider } from '../../embeddings/embeddings';
import { quadraticWeightedKappa } from './agreement';
import {
  applyCuts,
  fitRidge,
  type Matrix,
  optimiseCuts,
  outOfFold,
  predictRidge,
  type RidgeFit,
  stratifiedFolds,
} from './kernelRidge';
import { type CriterionProfile, lexicalCoverage, rubricProfiles } from './rubricCoverage';
import { isImplausibleWord, topicVocabulary } from './textQuality';
import {
  HashedTfIdf,
  type SparseVector,
  charGrams,
  contentStems,
  cosine,
  fnv1a,
  sparseDot,
  sparseGram,
  textStats,
  wordGrams,
  words,
} from './textFeatures';

export const CALIBRATED_MODEL = 'offline-calibrated-v1';

export interface ScoredExample {
  text: string;
  score: number;
}

export interface QuestionToCalibrate {
  question_id: string;
  prompt: string;
  rubric: EssayRubric | null;
}

export interface CalibrationOptions {
  /** Fewest examples to calibrate from (default 20). */
  minExamples?: number;
  /** Fewest distinct scores among them (default 2). */
  minDistinctScores?: number;
  /** Cross-validation folds (default 5). */
  folds?: number;
  /** Candidate ridge penalties (default 0.03 … 3). */
  lambdas?: number[];
  /** Hyper-parameters are chosen on at most this many examples (a stratified subsample; default 300). */
  selectionCap?: number;
  /** From this many examples, several kernel mixes and powers are tried (default 60). */
  searchFrom?: number;
}

export interface KernelWeights {
  word: number;
  char: number;
  embedding: number;
  dense: number;
}

export interface CalibratedModel {
  model: typeof CALIBRATED_MODEL;
  question_id: string;
  n_examples: number;
  /** The distinct human scores, ascending: predictions are one of them. */
  levels: number[];
  lambda: number;
  kernel_weights: KernelWeights;
  kernel_power: number;
  /** Cut points on the regression output between consecutive levels. */
  cuts: number[];
  cv: { folds: number; rmse: number; qwk_rounded: number; qwk_cuts: number };
  examples: ScoredExample[];
  embedding: { provider: EmbeddingProvider; model: string; vectors: string[] };
  dense: { names: string[]; mean: number[]; std: number[] };
  fit: { alpha: number[]; col_means: number[]; grand_mean: number; y_mean: number };
}

/** Vectors of the question's own texts, from the same embedding model as the examples. */
export interface QuestionVectors {
  prompt: Float32Array;
  /** One per rubric criterion (its description), in rubric order. */
  criteria: Float32Array[];
}

export const DENSE_FEATURES = [
  'log_words',
  'log_sentences',
  'log_unique_content',
  'mean_word_length',
  'type_token_ratio',
  'function_word_ratio',
  'long_word_share',
  'log_connectives',
  'cohesion',
  'prompt_similarity',
  'prompt_overlap',
  'rubric_lexical_coverage',
  'rubric_similarity',
  'implausible_share',
] as const;

/** Length, structure, vocabulary, cohesion, prompt and rubric features of one answer. */
export function denseFeatures(
  text: string,
  vector: Float32Array,
  question: QuestionToCalibrate,
  vectors: QuestionVectors,
  profiles: readonly CriterionProfile[],
): number[] {
  const st = textStats(text);
  const stems = contentStems(text);
  const promptStems = new Set(contentStems(question.prompt));
  const ws = words(text).filter((w) => /\p{L}/u.test(w));
  const rubricSim = vectors.criteria.length > 0 ? Math.max(...vectors.criteria.map((c) => cosine(vector, c))) : 0;
  return [
    Math.log1p(st.words),
    Math.log1p(st.sentences),
    Math.log1p(st.uniqueContentStems),
    st.meanWordLength,
    st.typeTokenRatio,
    st.functionWordRatio,
    st.longWordShare,
    Math.log1p(st.connectives),
    st.cohesion,
    cosine(vector, vectors.prompt),
    stems.length > 0 ? stems.filter((s) => promptStems.has(s)).length / stems.length : 0,
    lexicalCoverage(text, profiles),
    rubricSim,
    ws.length > 0 ? ws.filter(isImplausibleWord).length / ws.length : 0,
  ];
}

export function encodeVector(v: Float32Array): string {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
}

export function decodeVector(s: string): Float32Array {
  const b = Buffer.from(s, 'base64');
  const out = new Float32Array(b.byteLength / 4);
  new Uint8Array(out.buffer).set(b);
  return out;
}

/** The training side of a model, recomputed from its JSON (memoised by the caller). */
export interface PreparedModel {
  model: CalibratedModel;
  word: HashedTfIdf;
  char: HashedTfIdf;
  wordVectors: SparseVector[];
  charVectors: SparseVector[];
  embeddings: Float32Array[];
  /** Standardised dense features of the examples. */
  dense: Float64Array[];
  fit: RidgeFit;
  profiles: CriterionProfile[];
  topic: Set<string>;
}

interface Views {
  word: Matrix;
  char: Matrix;
  embedding: Matrix;
  dense: Matrix;
}

function standardise(rows: readonly number[][]): { mean: number[]; std: number[] } {
  const d = rows[0]?.length ?? 0;
  const mean = new Array<number>(d).fill(0);
  const std = new Array<number>(d).fill(0);
  for (const r of rows) r.forEach((x, j) => (mean[j] = (mean[j] as number) + x / rows.length));
  for (const r of rows)
    r.forEach((x, j) => (std[j] = (std[j] as number) + (x - (mean[j] as number)) ** 2 / rows.length));
  return { mean, std: std.map((v) => Math.sqrt(v)) };
}

function standardised(row: readonly number[], mean: readonly number[], std: readonly number[]): Float64Array {
  return Float64Array.from(row, (x, j) => {
    const s = std[j] as number;
    return s > 1e-9 ? Math.max(-4, Math.min(4, (x - (mean[j] as number)) / s)) : 0;
  });
}

function rbf(a: Float64Array, b: Float64Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d += ((a[i] as number) - (b[i] as number)) ** 2;
  return Math.exp(-d / (2 * a.length));
}

function gram<T>(items: readonly T[], k: (a: T, b: T) => number): Matrix {
  const n = items.length;
  const out = Array.from({ length: n }, () => new Float64Array(n));
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      const v = k(items[i] as T, items[j] as T);
      (out[i] as Float64Array)[j] = v;
      (out[j] as Float64Array)[i] = v;
    }
  }
  return out;
}

function combine(views: Views, w: KernelWeights, power: number): Matrix {
  const total = w.word + w.char + w.embedding + w.dense;
  const n = views.word.length;
  return Array.from({ length: n }, (_, i) => {
    const row = new Float64Array(n);
    const a = views.word[i] as Float64Array;
    const b = views.char[i] as Float64Array;
    const c = views.embedding[i] as Float64Array;
    const d = views.dense[i] as Float64Array;
    for (let j = 0; j < n; j++) {
      const v =
        (w.word * (a[j] as number) +
          w.char * (b[j] as number) +
          w.embedding * (c[j] as number) +
          w.dense * (d[j] as number)) /
        total;
      row[j] = power === 1 ? v : v ** power;
    }
    return row;
  });
}

/** Kernel value of a new answer against every example, combined like the fitted kernel. */
export function kernelRow(
  prepared: PreparedModel,
  text: string,
  vector: Float32Array,
  denseRaw: readonly number[],
): Float64Array {
  const m = prepared.model;
  const w = m.kernel_weights;
  const total = w.word + w.char + w.embedding + w.dense;
  const wv = prepared.word.transform(wordGrams(text));
  const cv = prepared.char.transform(charGrams(text));
  const dv = standardised(denseRaw, m.dense.mean, m.dense.std);
  const n = m.examples.length;
  const row = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v =
      (w.word * sparseDot(wv, prepared.wordVectors[i] as SparseVector) +
        w.char * sparseDot(cv, prepared.charVectors[i] as SparseVector) +
        w.embedding * cosine(vector, prepared.embeddings[i] as Float32Array) +
        w.dense * rbf(dv, prepared.dense[i] as Float64Array)) /
      total;
    row[i] = m.kernel_power === 1 ? v : v ** m.kernel_power;
  }
  return row;
}

export interface Prediction {
  /** The regression output on the score scale. */
  raw: number;
  levelIndex: number;
  score: number;
  /** Per level: mean of the 3 highest kernel similarities among examples at that level. */
  neighbours: { level: number; similarity: number }[];
}

export function predict(prepared: PreparedModel, row: Float64Array): Prediction {
  const m = prepared.model;
  const raw = predictRidge(prepared.fit, row);
  const levelIndex = applyCuts(raw, m.cuts);
  const neighbours = m.levels.map((level) => {
    const sims: number[] = [];
    m.examples.forEach((e, i) => {
      if (e.score === level) sims.push(row[i] as number);
    });
    sims.sort((a, b) => b - a);
    const top = sims.slice(0, 3);
    return { level, similarity: top.length > 0 ? top.reduce((a, b) => a + b, 0) / top.length : 0 };
  });
  return { raw, levelIndex, score: m.levels[levelIndex] as number, neighbours };
}

function textOrder(examples: readonly ScoredExample[]): number[] {
  return examples.map((e, i) => fnv1a(`${e.text}\u0000${i}`));
}

const MIXES: KernelWeights[] = [
  { word: 1, char: 1, embedding: 1, dense: 0.5 },
  { word: 1, char: 1, embedding: 1, dense: 0 },
  { word: 1, char: 1, embedding: 0, dense: 0.5 },
  { word: 0, char: 1, embedding: 1, dense: 0 },
  { word: 1, char: 0, embedding: 1, dense: 0 },
  { word: 0, char: 1, embedding: 0, dense: 0 },
];

/** Builds the model's training side from its JSON (no fitting). */
export function prepareModel(
  model: CalibratedModel,
  question: QuestionToCalibrate,
  vectors: QuestionVectors,
  embeddings?: Float32Array[],
): PreparedModel {
  const texts = model.examples.map((e) => e.text);
  const word = HashedTfIdf.fit(texts.map(wordGrams));
  const char = HashedTfIdf.fit(texts.map(charGrams));
  const emb = embeddings ?? model.embedding.vectors.map(decodeVector);
  const profiles = rubricProfiles(question.rubric);
  const dense = texts.map((t, i) =>
    standardised(
      denseFeatures(t, emb[i] as Float32Array, question, vectors, profiles),
      model.dense.mean,
      model.dense.std,
    ),
  );
  const minLevel = model.levels[0] as number;
  const good = model.examples.filter((e) => e.score > minLevel).map((e) => e.text);
  return {
    model,
    word,
    char,
    wordVectors: texts.map((t) => word.transform(wordGrams(t))),
    charVectors: texts.map((t) => char.transform(charGrams(t))),
    embeddings: emb,
    dense,
    fit: {
      alpha: Float64Array.from(model.fit.alpha),
      colMeans: Float64Array.from(model.fit.col_means),
      grandMean: model.fit.grand_mean,
      yMean: model.fit.y_mean,
    },
    profiles,
    topic: topicVocabulary(questionTexts(question), good),
  };
}

/** The prompt and rubric text of a question (for topic vocabulary). */
export function questionTexts(question: QuestionToCalibrate): string[] {
  const out = [question.prompt];
  for (const c of question.rubric?.criteria ?? []) {
    out.push(c.description, ...c.bands.map((b) => b.descriptor));
  }
  return out;
}

/**
 * Fits a calibrated model, or returns null when there are too few examples or too few distinct
 * scores. `embeddings[i]` is the vector of `examples[i].text`.
 */
export function fitCalibratedModel(
  question: QuestionToCalibrate,
  examples: readonly ScoredExample[],
  embeddings: readonly Float32Array[],
  embedding: { provider: EmbeddingProvider; model: string },
  vectors: QuestionVectors,
  options: CalibrationOptions = {},
): CalibratedModel | null {
  const n = examples.length;
  const levels = [...new Set(examples.map((e) => e.score))].sort((a, b) => a - b);
  if (n < (options.minExamples ?? 20) || levels.length < Math.max(2, options.minDistinctScores ?? 2)) return null;
  if (embeddings.length !== n) throw new Error('fitCalibratedModel: one embedding per example is required');
  const y = examples.map((e) => e.score);
  const texts = examples.map((e) => e.text);
  const profiles = rubricProfiles(question.rubric);

  const word = HashedTfIdf.fit(texts.map(wordGrams));
  const char = HashedTfIdf.fit(texts.map(charGrams));
  const denseRaw = texts.map((t, i) => denseFeatures(t, embeddings[i] as Float32Array, question, vectors, profiles));
  const stats = standardise(denseRaw);
  const dense = denseRaw.map((r) => standardised(r, stats.mean, stats.std));
  const views: Views = {
    word: sparseGram(texts.map((t) => word.transform(wordGrams(t)))),
    char: sparseGram(texts.map((t) => char.transform(charGrams(t)))),
    embedding: gram([...embeddings], cosine),
    dense: gram(dense, rbf),
  };

  const folds = Math.max(2, Math.min(options.folds ?? 5, Math.floor(n / 2)));
  const order = textOrder(examples);
  const fold = stratifiedFolds(y, folds, order);
  const all = y.map((_, i) => i);
  const cap = options.selectionCap ?? 300;
  // A stratified, deterministic subsample for choosing hyper-parameters on large sets.
  const subset = n <= cap ? all : stratifiedFolds(y, Math.ceil(n / cap), order).flatMap((f, i) => (f === 0 ? [i] : []));
  const search = n >= (options.searchFrom ?? 60);
  const mixes = search ? MIXES : [MIXES[0] as KernelWeights];
  const powers = search ? [1, 2] : [1];
  const lambdas = options.lambdas ?? [0.03, 0.1, 0.3, 1, 3];

  let best = { mse: Infinity, weights: MIXES[0] as KernelWeights, power: 1, lambda: 1, kernel: [] as Matrix };
  let bestPreds = new Map<number, number>();
  for (const weights of mixes) {
    for (const power of powers) {
      const kernel = combine(views, weights, power);
      for (const lambda of lambdas) {
        const preds = outOfFold(kernel, subset, y, fold, folds, lambda);
        let se = 0;
        for (const [i, p] of preds) se += (p - (y[i] as number)) ** 2;
        const mse = se / Math.max(1, preds.size);
        if (mse < best.mse - 1e-12) {
          best = { mse, weights, power, lambda, kernel };
          bestPreds = preds;
        }
      }
    }
  }
  const oof = subset.length === n ? bestPreds : outOfFold(best.kernel, all, y, fold, folds, best.lambda);
  const idx = all.filter((i) => oof.has(i));
  const preds = idx.map((i) => oof.get(i) as number);
  const truth = idx.map((i) => y[i] as number);
  const cuts = optimiseCuts(preds, truth, levels);
  const midpoints = levels.slice(1).map((l, i) => ((levels[i] as number) + l) / 2);
  const fit = fitRidge(best.kernel, all, y, best.lambda);
  const rmse = Math.sqrt(preds.reduce((s, p, i) => s + (p - (truth[i] as number)) ** 2, 0) / Math.max(1, preds.length));
  return {
    model: CALIBRATED_MODEL,
    question_id: question.question_id,
    n_examples: n,
    levels,
    lambda: best.lambda,
    kernel_weights: best.weights,
    kernel_power: best.power,
    cuts,
    cv: {
      folds,
      rmse: round(rmse, 4),
      qwk_rounded: round(qwkWith(preds, truth, levels, midpoints), 4),
      qwk_cuts: round(qwkWith(preds, truth, levels, cuts), 4),
    },
    examples: examples.map((e) => ({ text: e.text, score: e.score })),
    embedding: { ...embedding, vectors: embeddings.map(encodeVector) },
    dense: { names: [...DENSE_FEATURES], mean: stats.mean, std: stats.std },
    fit: {
      alpha: [...fit.alpha],
      col_means: [...fit.colMeans],
      grand_mean: fit.grandMean,
      y_mean: fit.yMean,
    },
  };
}

function qwkWith(
  preds: readonly number[],
  truth: readonly number[],
  levels: readonly number[],
  cuts: readonly number[],
) {
  return quadraticWeightedKappa(
    preds.map((p) => levels[applyCuts(p, cuts)] as number),
    truth,
    levels,
  );
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
