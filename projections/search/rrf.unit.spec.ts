import { rrfFuse } from './rrf';

const ids = (...xs: string[]) => xs.map((id) => ({ id }));

describe('rrfFuse', () => {
  it('scores each item Σ 1/(k + rank) over the lists it appears in', () => {
    const fused = rrfFuse([ids('a', 'b', 'c'), ids('c', 'a')], 60);
    const byId = new Map(fused.map((f) => [f.id, f]));
    expect(byId.get('a')!.score).toBeCloseTo(1 / 61 + 1 / 62, 12);
    expect(byId.get('b')!.score).toBeCloseTo(1 / 62, 12);
    expect(byId.get('c')!.score).toBeCloseTo(1 / 63 + 1 / 61, 12);
    expect(byId.get('a')!.ranks).toEqual([1, 2]);
    expect(byId.get('b')!.ranks).toEqual([2, null]);
  });

  it('ranks an item found by both lists above one found by a single list, whatever the raw scores', () => {
    expect(rrfFuse([ids('x', 'both'), ids('y', 'both')]).map((f) => f.id)).toEqual(['both', 'x', 'y']);
  });

  it('breaks ties by the best single rank, then by id, so the order is deterministic', () => {
    // k = 0: q and z score 1/1, a scores 1/2 + 1/2. All equal: q and z have the best rank (1),
    // and q < z by id; a (best rank 2) comes last although its id sorts first.
    expect(rrfFuse([ids('z', 'a'), ids('q', 'a')], 0).map((f) => [f.id, f.score])).toEqual([
      ['q', 1],
      ['z', 1],
      ['a', 1],
    ]);
    // Same score and best rank: by id.
    expect(rrfFuse([ids('b'), ids('a')]).map((f) => f.id)).toEqual(['a', 'b']);
  });

  it('counts a repeated id within one list once, at its best rank', () => {
    const [only] = rrfFuse([ids('a', 'a', 'a')], 60);
    expect(only).toMatchObject({ id: 'a', ranks: [1] });
    expect(only!.score).toBeCloseTo(1 / 61, 12);
  });

  it('keeps the item as the first list gave it', () => {
    const fused = rrfFuse([[{ id: 'a', from: 'bm25' }], [{ id: 'a', from: 'knn' }]]);
    expect(fused[0]!.item.from).toBe('bm25');
  });

  it('handles empty input, empty lists and a single list (its own order)', () => {
    expect(rrfFuse([])).toEqual([]);
    expect(rrfFuse([[], []])).toEqual([]);
    expect(rrfFuse([ids('c', 'a', 'b')]).map((f) => f.id)).toEqual(['c', 'a', 'b']);
  });

  it('uses k = 60 by default and refuses a negative or non-finite k', () => {
    expect(rrfFuse([ids('a')])[0]!.score).toBeCloseTo(1 / 61, 12);
    expect(rrfFuse([ids('a')], 0)[0]!.score).toBe(1);
    expect(() => rrfFuse([ids('a')], -1)).toThrow(RangeError);
    expect(() => rrfFuse([ids('a')], Number.NaN)).toThrow(RangeError);
  });

  it('is pure: the inputs are left as they were', () => {
    const lists = [ids('a', 'b'), ids('b')];
    const copy = JSON.parse(JSON.stringify(lists));
    rrfFuse(lists);
    expect(lists).toEqual(copy);
  });
});
