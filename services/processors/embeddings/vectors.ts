/** Small vector helpers shared by the embedding adapters (pure). */

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`vector lengths differ: ${a.length} vs ${b.length}`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] ?? 0) * (b[i] ?? 0);
  return s;
}

export function l2Norm(a: ArrayLike<number>): number {
  return Math.sqrt(dot(a, a));
}

/** Cosine similarity; 0 when either vector is all zeros. */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = l2Norm(a) * l2Norm(b);
  return n === 0 ? 0 : dot(a, b) / n;
}

/** `v / |v|` in place (left unchanged when all zeros); returns `v`. */
export function normalizeInPlace(v: Float32Array): Float32Array {
  const n = l2Norm(v);
  if (n > 0) for (let i = 0; i < v.length; i++) v[i] = (v[i] ?? 0) / n;
  return v;
}

/** The re-normalised mean of equal-length vectors (the direction of their sum). */
export function meanVector(vectors: readonly Float32Array[]): Float32Array {
  const first = vectors[0];
  if (!first) throw new RangeError('meanVector needs at least one vector');
  const acc = new Float64Array(first.length);
  for (const v of vectors) {
    if (v.length !== first.length) throw new RangeError(`vector lengths differ: ${v.length} vs ${first.length}`);
    for (let i = 0; i < v.length; i++) acc[i] = (acc[i] ?? 0) + (v[i] ?? 0);
  }
  return normalizeInPlace(Float32Array.from(acc, (x) => x / vectors.length));
}
