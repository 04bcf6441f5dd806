/**
 * Reciprocal rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009), in the application since
 * this Elasticsearch has no `rrf` retriever: each item scores Σ 1 / (k + rank) over the ranked
 * lists it appears in (rank from 1). Only ranks matter, so BM25 and cosine scores, which are on
 * different scales, need no normalising. Pure.
 */
export interface Fused<T> {
  id: string;
  /** Σ 1 / (k + rank). */
  score: number;
  /** Its 1-based rank in each input list, in input order (null where absent). */
  ranks: (number | null)[];
  /** The item as the first list that has it gave it. */
  item: T;
}

export const RRF_K = 60;

/**
 * Fuses ranked lists (best first) of items with an `id` (a repeated id within one list counts at
 * its best rank). Ties break by the best single rank, then by id, so the order is deterministic.
 */
export function rrfFuse<T extends { id: string }>(lists: readonly (readonly T[])[], k = RRF_K): Fused<T>[] {
  if (!(k >= 0) || !Number.isFinite(k)) throw new RangeError(`rrf k must be a finite number ≥ 0, got ${k}`);
  const fused = new Map<string, Fused<T>>();
  lists.forEach((list, l) => {
    list.forEach((item, i) => {
      let entry = fused.get(item.id);
      if (!entry) {
        entry = { id: item.id, score: 0, ranks: lists.map(() => null), item };
        fused.set(item.id, entry);
      }
      if (entry.ranks[l] !== null) return;
      entry.ranks[l] = i + 1;
      entry.score += 1 / (k + i + 1);
    });
  });
  const best = (f: Fused<T>) => Math.min(...f.ranks.map((r) => r ?? Infinity));
  return [...fused.values()].sort(
    (a, b) => b.score - a.score || best(a) - best(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
}
