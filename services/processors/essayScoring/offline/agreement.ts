/** Agreement between two raters on an ordinal scale. Pure. */

/**
 * Quadratic weighted kappa of ratings `a` and `b` over the ordered categories `levels` (each
 * rating is mapped to the nearest level). 1 = perfect agreement, 0 = chance. When neither rater
 * varies the expected disagreement is 0: the kappa is 1 if they agree everywhere, else 0.
 */
export function quadraticWeightedKappa(a: readonly number[], b: readonly number[], levels?: readonly number[]): number {
  if (a.length !== b.length) throw new Error('quadraticWeightedKappa: ratings differ in length');
  const n = a.length;
  if (n === 0) return 0;
  const cats = levels ?? [...new Set([...a, ...b])].sort((x, y) => x - y);
  const k = cats.length;
  if (k < 2) return 1;
  const ia = a.map((x) => nearestIndex(cats, x));
  const ib = b.map((x) => nearestIndex(cats, x));
  const observed = new Float64Array(k * k);
  const ha = new Float64Array(k);
  const hb = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    const x = ia[i] as number;
    const y = ib[i] as number;
    observed[x * k + y] = (observed[x * k + y] as number) + 1;
    ha[x] = (ha[x] as number) + 1;
    hb[y] = (hb[y] as number) + 1;
  }
  let num = 0;
  let den = 0;
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const w = ((i - j) * (i - j)) / ((k - 1) * (k - 1));
      num += w * (observed[i * k + j] as number);
      den += (w * (ha[i] as number) * (hb[j] as number)) / n;
    }
  }
  if (den === 0) return num === 0 ? 1 : 0;
  return 1 - num / den;
}

export function nearestIndex(levels: readonly number[], x: number): number {
  let best = 0;
  let bestD = Infinity;
  for (let i = 0; i < levels.length; i++) {
    const d = Math.abs((levels[i] as number) - x);
    if (d < bestD) {
      bestD = d;
      best = i;
    }
  }
  return best;
}

/** Share of pairs equal (exact) and within one level of each other (adjacent). */
export function agreementRates(
  a: readonly number[],
  b: readonly number[],
  levels: readonly number[],
): { exact: number; adjacent: number } {
  if (a.length === 0) return { exact: 0, adjacent: 0 };
  let exact = 0;
  let adjacent = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(nearestIndex(levels, a[i] as number) - nearestIndex(levels, b[i] as number));
    if (d === 0) exact++;
    if (d <= 1) adjacent++;
  }
  return { exact: exact / a.length, adjacent: adjacent / a.length };
}
