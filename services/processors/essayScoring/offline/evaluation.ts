/**
 * Measures the offline scorer against human scores (the core of `npm run bench:essay-quality`):
 * per set, calibrate on the train rows, score the test rows, and compare with the human `score`
 * (QWK, exact and adjacent agreement), next to the human-human agreement (`score2`) and plain
 * baselines on the same split. No file I/O: rows and the embeddings port come in.
 */
import type { Embeddings } from '../../embeddings/embeddings';
import { agreementRates, nearestIndex, quadraticWeightedKappa } from './agreement';
import { fitRidge, predictRidge, type Matrix } from './kernelRidge';
import type { CalibrationOptions } from './calibration';
import { OfflineEssayScorer } from './offlineScorer';
import type { BenchRow } from './scoredExamplesTsv';
import { HashedTfIdf, type SparseVector, fnv1a, sparseDot, wordGrams, words } from './textFeatures';

export interface Agreement {
  qwk: number;
  exact: number;
  adjacent: number;
}

export interface SetReport {
  set: string;
  train: number;
  test: number;
  levels: number[];
  /** The calibrated offline scorer. */
  offline: Agreement;
  /** Human-human agreement on the test rows that have `score2` (null when none). */
  human: (Agreement & { rows: number }) | null;
  baselines: { constant: Agreement; length_ridge: Agreement; tfidf_ridge: Agreement; embedding_ridge: Agreement };
  model: string;
  flagged: number;
  calibrate_ms: number;
  score_ms_per_answer: number;
}

export interface BenchReport {
  sets: SetReport[];
  split: string;
  embeddings: { provider: string; model: string; degraded: boolean };
  mean: {
    offline: number;
    human: number | null;
    constant: number;
    length_ridge: number;
    tfidf_ridge: number;
    embedding_ridge: number;
  };
}

export interface BenchOptions {
  calibration?: CalibrationOptions;
  /** Prompts by set (optional; used for the copied-prompt and off-topic checks). */
  prompts?: Readonly<Record<string, string>>;
  /** Share of rows in train when the file has no `split` column (default 0.75, by a hash of the text). */
  trainShare?: number;
  clock?: () => number;
}

/** The deterministic split used when a row has no `split`: FNV-1a of the text, mod 100. */
export function hashSplit(text: string, trainShare = 0.75): 'train' | 'test' {
  return fnv1a(text) % 100 < Math.round(trainShare * 100) ? 'train' : 'test';
}

function agreement(pred: readonly number[], truth: readonly number[], levels: readonly number[]): Agreement {
  return { qwk: quadraticWeightedKappa(pred, truth, levels), ...agreementRates(pred, truth, levels) };
}

function snap(x: number, levels: readonly number[]): number {
  return levels[nearestIndex(levels, x)] as number;
}

/** Plain ridge (λ = 1) on a linear kernel, predictions rounded to the nearest level. */
function ridgeBaseline(
  kernelOf: (i: number, j: number) => number,
  nTrain: number,
  nTest: number,
  y: readonly number[],
  levels: readonly number[],
): number[] {
  const n = nTrain + nTest;
  const k: Matrix = Array.from({ length: n }, () => new Float64Array(n));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < nTrain; j++) {
      const v = kernelOf(i, j);
      (k[i] as Float64Array)[j] = v;
    }
  }
  const trainIdx = Array.from({ length: nTrain }, (_, i) => i);
  const fit = fitRidge(k, trainIdx, y, 1);
  const out: number[] = [];
  for (let t = nTrain; t < n; t++)
    out.push(snap(predictRidge(fit, (k[t] as Float64Array).subarray(0, nTrain)), levels));
  return out;
}

export async function runEssayBench(
  rows: readonly BenchRow[],
  embeddings: Embeddings,
  options: BenchOptions = {},
): Promise<BenchReport> {
  const clock = options.clock ?? (() => performance.now());
  const scorer = new OfflineEssayScorer(embeddings, { calibration: options.calibration ?? {}, clock });
  const hasSplit = rows.some((r) => r.split !== undefined);
  const sets = [...new Set(rows.map((r) => r.set))];
  const reports: SetReport[] = [];
  let embeddingInfo = { provider: 'none', model: 'none', degraded: false };

  for (const set of sets) {
    const setRows = rows.filter((r) => r.set === set);
    const side = (r: BenchRow): 'train' | 'test' => r.split ?? hashSplit(r.text, options.trainShare);
    const train = setRows.filter((r) => side(r) === 'train');
    const test = setRows.filter((r) => side(r) === 'test');
    if (train.length === 0 || test.length === 0) continue;
    const levels = [
      ...new Set(setRows.flatMap((r) => (r.score2 === undefined ? [r.score] : [r.score, r.score2]))),
    ].sort((a, b) => a - b);
    const maxScore = levels[levels.length - 1] as number;
    const prompt = options.prompts?.[set] ?? setRows.find((r) => r.prompt)?.prompt ?? '';
    const question = { question_id: set, prompt, rubric: null };

    const t0 = clock();
    const model = await scorer.calibrate(
      question,
      train.map((r) => ({ text: r.text, score: r.score })),
    );
    const t1 = clock();
    const truth = test.map((r) => r.score);
    const pred: number[] = [];
    let flagged = 0;
    let modelName = 'none';
    for (const r of test) {
      const result = await scorer.score({ ...question, max_score: maxScore, text: r.text }, model);
      pred.push(snap(result.score, levels));
      if (result.flags.length > 0) flagged++;
      modelName = result.model;
    }
    const t2 = clock();

    // Baselines on the same split.
    const all = [...train, ...test];
    const y = train.map((r) => r.score);
    const tfidf = HashedTfIdf.fit(train.map((r) => wordGrams(r.text)));
    const tv: SparseVector[] = all.map((r) => tfidf.transform(wordGrams(r.text)));
    const tfidfPred = ridgeBaseline(
      (i, j) => sparseDot(tv[i] as SparseVector, tv[j] as SparseVector),
      train.length,
      test.length,
      y,
      levels,
    );
    const batch = await embeddings.embed(all.map((r) => r.text));
    embeddingInfo = { provider: batch.provider, model: batch.model, degraded: batch.degraded };
    const ev = batch.vectors;
    const dotF = (a: Float32Array, b: Float32Array): number => {
      let s = 0;
      for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
      return s;
    };
    const embPred = ridgeBaseline(
      (i, j) => dotF(ev[i] as Float32Array, ev[j] as Float32Array),
      train.length,
      test.length,
      y,
      levels,
    );
    const lens = all.map((r) => Math.log1p(words(r.text).length));
    const lenPred = linearFit(lens.slice(0, train.length), y, lens.slice(train.length)).map((p) => snap(p, levels));
    const majority = mode(y);
    const constPred = test.map(() => majority);

    const withSecond = test.filter((r) => r.score2 !== undefined);
    reports.push({
      set,
      train: train.length,
      test: test.length,
      levels,
      offline: agreement(pred, truth, levels),
      human:
        withSecond.length > 0
          ? {
              ...agreement(
                withSecond.map((r) => r.score2 as number),
                withSecond.map((r) => r.score),
                levels,
              ),
              rows: withSecond.length,
            }
          : null,
      baselines: {
        constant: agreement(constPred, truth, levels),
        length_ridge: agreement(lenPred, truth, levels),
        tfidf_ridge: agreement(tfidfPred, truth, levels),
        embedding_ridge: agreement(embPred, truth, levels),
      },
      model: modelName,
      flagged,
      calibrate_ms: Math.round(t1 - t0),
      score_ms_per_answer: Math.round(((t2 - t1) / Math.max(1, test.length)) * 10) / 10,
    });
  }

  const mean = (f: (r: SetReport) => number): number =>
    reports.length > 0 ? reports.reduce((s, r) => s + f(r), 0) / reports.length : 0;
  const humans = reports.filter((r) => r.human !== null);
  return {
    sets: reports,
    split: hasSplit ? 'split column' : `hash of text, ${Math.round((options.trainShare ?? 0.75) * 100)}% train`,
    embeddings: embeddingInfo,
    mean: {
      offline: mean((r) => r.offline.qwk),
      human: humans.length > 0 ? humans.reduce((s, r) => s + (r.human?.qwk ?? 0), 0) / humans.length : null,
      constant: mean((r) => r.baselines.constant.qwk),
      length_ridge: mean((r) => r.baselines.length_ridge.qwk),
      tfidf_ridge: mean((r) => r.baselines.tfidf_ridge.qwk),
      embedding_ridge: mean((r) => r.baselines.embedding_ridge.qwk),
    },
  };
}

function linearFit(x: readonly number[], y: readonly number[], xs: readonly number[]): number[] {
  const n = x.length;
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += ((x[i] as number) - mx) * ((y[i] as number) - my);
    sxx += ((x[i] as number) - mx) ** 2;
  }
  const b = sxx > 0 ? sxy / sxx : 0;
  return xs.map((v) => my + b * (v - mx));
}

function mode(y: readonly number[]): number {
  const counts = new Map<number, number>();
  for (const v of y) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]?.[0] ?? 0;
}

const f3 = (x: number): string => x.toFixed(3);

/** The bench's printed report; its last line is `mean_qwk=<v> human_qwk=<v or n/a>`. */
export function formatBenchReport(report: BenchReport): string {
  const lines: string[] = [];
  const e = report.embeddings;
  lines.push(`embeddings: ${e.provider} (${e.model})${e.degraded ? ' — DEGRADED lexical fallback, not MiniLM' : ''}`);
  lines.push(`split: ${report.split}`);
  lines.push('');
  lines.push(
    [
      'set'.padEnd(14),
      'train',
      'test',
      'levels',
      'QWK',
      'exact',
      'adj',
      'human_QWK',
      'const',
      'length',
      'tfidf_ridge',
      'emb_ridge',
      'flagged',
      'model',
    ].join('\t'),
  );
  for (const r of report.sets) {
    lines.push(
      [
        r.set.padEnd(14),
        r.train,
        r.test,
        `${r.levels[0]}-${r.levels[r.levels.length - 1]}`,
        f3(r.offline.qwk),
        f3(r.offline.exact),
        f3(r.offline.adjacent),
        r.human ? `${f3(r.human.qwk)} (n=${r.human.rows})` : 'n/a',
        f3(r.baselines.constant.qwk),
        f3(r.baselines.length_ridge.qwk),
        f3(r.baselines.tfidf_ridge.qwk),
        f3(r.baselines.embedding_ridge.qwk),
        r.flagged,
        `${r.model} (calibrate ${r.calibrate_ms} ms, ${r.score_ms_per_answer} ms/answer)`,
      ].join('\t'),
    );
  }
  const m = report.mean;
  lines.push('');
  lines.push(
    `mean QWK: offline ${f3(m.offline)} | tfidf_ridge ${f3(m.tfidf_ridge)} | emb_ridge(${e.model}) ${f3(m.embedding_ridge)} | ` +
      `length ${f3(m.length_ridge)} | constant ${f3(m.constant)} | human-human ${m.human === null ? 'n/a' : f3(m.human)}`,
  );
  lines.push(`mean_qwk=${f3(m.offline)} human_qwk=${m.human === null ? 'n/a' : f3(m.human)}`);
  return lines.join('\n');
}
