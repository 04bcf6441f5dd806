/**
 * Kernel (dual) ridge regression with an unpenalised intercept (centred kernel), k-fold
 * cross-validation and ordinal cut points chosen to maximise quadratic weighted kappa. Pure math
 * on plain arrays: the caller builds the kernels.
 */
import { quadraticWeightedKappa } from './agreement';

/** A square symmetric matrix as rows. */
export type Matrix = Float64Array[];

export interface RidgeFit {
  alpha: Float64Array;
  /** Mean of each training column of the (uncentred) kernel, for centring new rows. */
  colMeans: Float64Array;
  grandMean: number;
  yMean: number;
}

/** Solves (A + λI) x = b for symmetric positive semi-definite A (Cholesky, in place on a copy). */
export function solveRidge(a: Float64Array, m: number, lambda: number, b: Float64Array): Float64Array {
  const l = Float64Array.from(a);
  for (let i = 0; i < m; i++) l[i * m + i] = (l[i * m + i] as number) + lambda;
  for (let j = 0; j < m; j++) {
    const rj = j * m;
    let d = l[rj + j] as number;
    for (let k = 0; k < j; k++) d -= (l[rj + k] as number) * (l[rj + k] as number);
    if (d <= 1e-12) d = 1e-12;
    const djj = Math.sqrt(d);
    l[rj + j] = djj;
    for (let i = j + 1; i < m; i++) {
      const ri = i * m;
      let s = l[ri + j] as number;
      for (let k = 0; k < j; k++) s -= (l[ri + k] as number) * (l[rj + k] as number);
      l[ri + j] = s / djj;
    }
  }
  const z = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let s = b[i] as number;
    const ri = i * m;
    for (let k = 0; k < i; k++) s -= (l[ri + k] as number) * (z[k] as number);
    z[i] = s / (l[ri + i] as number);
  }
  const x = new Float64Array(m);
  for (let i = m - 1; i >= 0; i--) {
    let s = z[i] as number;
    for (let k = i + 1; k < m; k++) s -= (l[k * m + i] as number) * (x[k] as number);
    x[i] = s / (l[i * m + i] as number);
  }
  return x;
}

/** Fits ridge on the rows/columns `train` of kernel `k` with targets `y` (indexed like `k`). */
export function fitRidge(k: Matrix, train: readonly number[], y: readonly number[], lambda: number): RidgeFit {
  const m = train.length;
  const colMeans = new Float64Array(m);
  for (let a = 0; a < m; a++) {
    const row = k[train[a] as number] as Float64Array;
    let s = 0;
    for (let b = 0; b < m; b++) s += row[train[b] as number] as number;
    colMeans[a] = s / m;
  }
  let grandMean = 0;
  for (let a = 0; a < m; a++) grandMean += colMeans[a] as number;
  grandMean /= m;
  const kc = new Float64Array(m * m);
  for (let a = 0; a < m; a++) {
    const row = k[train[a] as number] as Float64Array;
    for (let b = 0; b < m; b++) {
      kc[a * m + b] =
        (row[train[b] as number] as number) - (colMeans[a] as number) - (colMeans[b] as number) + grandMean;
    }
  }
  let yMean = 0;
  for (const i of train) yMean += y[i] as number;
  yMean /= m;
  const yc = Float64Array.from(train, (i) => (y[i] as number) - yMean);
  return { alpha: solveRidge(kc, m, lambda, yc), colMeans, grandMean, yMean };
}

/** Prediction from a row of kernel values against the training examples (in training order). */
export function predictRidge(fit: RidgeFit, row: ArrayLike<number>): number {
  const m = fit.alpha.length;
  let rowMean = 0;
  for (let b = 0; b < m; b++) rowMean += row[b] as number;
  rowMean /= m;
  let s = fit.yMean;
  for (let b = 0; b < m; b++) {
    s += (fit.alpha[b] as number) * ((row[b] as number) - rowMean - (fit.colMeans[b] as number) + fit.grandMean);
  }
  return s;
}

/** Deterministic stratified folds: sorted by target, ties by `order`, dealt round-robin. */
export function stratifiedFolds(y: readonly number[], folds: number, order: readonly number[]): number[] {
  const idx = y
    .map((_, i) => i)
    .sort((a, b) => (y[a] as number) - (y[b] as number) || (order[a] as number) - (order[b] as number));
  const fold = new Array<number>(y.length).fill(0);
  idx.forEach((i, r) => (fold[i] = r % folds));
  return fold;
}

/** Out-of-fold predictions of ridge on kernel `k` restricted to `subset`. */
export function outOfFold(
  k: Matrix,
  subset: readonly number[],
  y: readonly number[],
  fold: readonly number[],
  folds: number,
  lambda: number,
): Map<number, number> {
  const preds = new Map<number, number>();
  for (let f = 0; f < folds; f++) {
    const train = subset.filter((i) => fold[i] !== f);
    const test = subset.filter((i) => fold[i] === f);
    if (test.length === 0 || train.length < 2) continue;
    const fit = fitRidge(k, train, y, lambda);
    for (const i of test) {
      const row = k[i] as Float64Array;
      preds.set(
        i,
        predictRidge(
          fit,
          Float64Array.from(train, (j) => row[j] as number),
        ),
      );
    }
  }
  return preds;
}

/** Level index of a continuous prediction given ascending cut points. */
export function applyCuts(pred: number, cuts: readonly number[]): number {
  let i = 0;
  while (i < cuts.length && pred >= (cuts[i] as number)) i++;
  return i;
}

/**
 * Cut points between the ordered `levels` that maximise QWK of cut(pred) against `truth` (values
 * in `levels`), by coordinate ascent from the midpoints between levels. Each cut only moves
 * between its neighbours, so the cuts stay ordered.
 */
export function optimiseCuts(preds: readonly number[], truth: readonly number[], levels: readonly number[]): number[] {
  const cuts = levels.slice(1).map((l, i) => ((levels[i] as number) + l) / 2);
  if (preds.length === 0 || cuts.length === 0) return cuts;
  const sorted = [...new Set(preds)].sort((a, b) => a - b);
  const candidates: number[] = [];
  for (let i = 0; i + 1 < sorted.length; i++) candidates.push(((sorted[i] as number) + (sorted[i + 1] as number)) / 2);
  const score = (c: readonly number[]): number =>
    quadraticWeightedKappa(
      preds.map((p) => levels[applyCuts(p, c)] as number),
      truth,
      levels,
    );
  let best = score(cuts);
  for (let pass = 0; pass < 4; pass++) {
    let improved = false;
    for (let j = 0; j < cuts.length; j++) {
      const lo = j > 0 ? (cuts[j - 1] as number) : -Infinity;
      const hi = j + 1 < cuts.length ? (cuts[j + 1] as number) : Infinity;
      let bestCut = cuts[j] as number;
      for (const c of candidates) {
        if (c <= lo || c >= hi) continue;
        cuts[j] = c;
        const s = score(cuts);
        // Only a strict gain moves a cut, so ties keep the cut nearer the default midpoint.
        if (s > best + 1e-12) {
          best = s;
          bestCut = c;
          improved = true;
        }
      }
      cuts[j] = bestCut;
    }
    if (!improved) break;
  }
  return cuts;
}
