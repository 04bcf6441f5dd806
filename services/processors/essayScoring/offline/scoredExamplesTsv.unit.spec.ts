import { parseBenchTsv, parseScoredExamplesTsv, parseTsv, TsvFormatError } from './scoredExamplesTsv';

const refusal = (fn: () => unknown): TsvFormatError => {
  try {
    fn();
  } catch (err) {
    if (err instanceof TsvFormatError) return err;
    throw err;
  }
  throw new Error('expected the file to be refused');
};

describe('scoredExamplesTsv', () => {
  it('parses typed rows, tolerating CRLF, a BOM and blank lines', () => {
    const rows = parseScoredExamplesTsv('\uFEFFtext\tscore\r\nThe sun heats it.\t2\r\n\r\nIt dries.\t1.5\r\n', {
      min: 0,
      max: 3,
    });
    expect(rows).toEqual([
      { line: 2, text: 'The sun heats it.', score: 2 },
      { line: 4, text: 'It dries.', score: 1.5 },
    ]);
  });

  it('accepts columns in any order, and optional columns left empty', () => {
    const rows = parseBenchTsv('score\tset\ttext\tscore2\tsplit\n1\tq1\tAn answer\t\t\n2\tq1\tAnother\t1\ttest\n');
    expect(rows).toEqual([
      { line: 2, set: 'q1', text: 'An answer', score: 1 },
      { line: 3, set: 'q1', text: 'Another', score: 2, score2: 1, split: 'test' },
    ]);
  });

  it.each([
    ['wrong column count', 'text\tscore\nfine\t1\ntoo\tmany\t2\n', 3, /3 column\(s\), the header has 2/],
    ['empty text', 'text\tscore\nfine\t1\n\t2\n', 3, /empty text/],
    ['non-numeric score', 'text\tscore\nfine\t1\nbad\ttwo\n', 3, /score "two" is not a number/],
    ['score out of range', 'text\tscore\nfine\t1\nbad\t4\n', 3, /score 4 is outside 0–3/],
    ['unknown column', 'text\tscore\tgrade\nfine\t1\tA\n', 1, /unknown column "grade"/],
    ['missing required column', 'text\nfine\n', 1, /missing required column "score"/],
    ['empty score', 'text\tscore\nfine\t\n', 2, /empty score/],
    ['empty file', '\n\n', 1, /empty/],
  ])('refuses the whole file on %s, naming the line', (_, content, line, message) => {
    const err = refusal(() => parseScoredExamplesTsv(content, { min: 0, max: 3 }));
    expect(err.line).toBe(line);
    expect(err.message).toMatch(message);
    expect(err.message).toMatch(new RegExp(`^line ${line}: `));
  });

  it('refuses a value outside the allowed ones', () => {
    const err = refusal(() => parseBenchTsv('set\ttext\tscore\tsplit\nq\tan answer\t1\tvalidation\n'));
    expect(err.line).toBe(2);
    expect(err.message).toMatch(/split "validation" is not one of "train", "test"/);
  });

  it('lets the caller name required, optional and numeric columns', () => {
    const rows = parseTsv('id\tanswer\tpoints\nq1\tyes\t3\n', {
      required: ['id', 'answer'],
      optional: ['points'],
      numeric: ['points'],
      nonEmpty: ['answer'],
    });
    expect(rows).toEqual([{ line: 2, values: { id: 'q1', answer: 'yes', points: '3' }, numbers: { points: 3 } }]);
  });
});
