import { evidenceLocator } from './evidence';

describe('evidenceLocator', () => {
  const essay = 'First, I would ask:\n  “which metric dropped?”  Then I’d check   the data.\nDone.';
  const { locate } = evidenceLocator(essay);

  it('returns the exact essay substring for a verbatim quote', () => {
    expect(locate('Then I’d check   the data.')).toBe('Then I’d check   the data.');
  });

  it('forgives reflowed whitespace and straightened quotes, returning the essay’s own text', () => {
    expect(locate('I would ask: "which metric dropped?"')).toBe('I would ask:\n  “which metric dropped?”');
    expect(locate("Then I'd check the data.")).toBe('Then I’d check   the data.');
    expect(locate('  Then I’d check\tthe data.  ')).toBe('Then I’d check   the data.');
  });

  it('forgives quotation marks the model wrapped around the quote', () => {
    expect(locate('"Then I\'d check the data."')).toBe('Then I’d check   the data.');
  });

  it('refuses anything else: paraphrase, case changes, ellipses', () => {
    expect(locate('Then I would check the data.')).toBeNull();
    expect(locate('then I’d check the data.')).toBeNull();
    expect(locate('First, I would ask … the data.')).toBeNull();
  });

  it("treats an empty quote as 'no evidence'", () => {
    expect(locate('')).toBe('');
    expect(locate('   ')).toBe('');
  });
});
