/**
 * Human-scored examples as tab-separated text (shared by the admin import and the essay bench).
 *
 * A header row names the columns; each further line is one row. No quoting: values hold no tabs
 * or newlines. CRLF line ends and a UTF-8 BOM are tolerated, blank lines skipped. One bad row
 * refuses the whole file: the error names the line (1 = the header) and the problem. Pure.
 */

export interface TsvSchema {
  /** Columns the header must have. */
  required: readonly string[];
  /** Columns the header may have; any other column is refused. */
  optional?: readonly string[];
  /** Columns holding numbers (default: `score` and `score2`). Empty is allowed only in optional ones. */
  numeric?: readonly string[];
  /** Columns that must not be empty (default: `text`, plus every required numeric column). */
  nonEmpty?: readonly string[];
  /** Inclusive range of every numeric column. */
  range?: { min: number; max: number };
  /** Allowed values of a column (e.g. `split: ['train', 'test']`); empty is allowed in optional ones. */
  allowed?: Readonly<Record<string, readonly string[]>>;
}

export interface TsvRow {
  /** 1-based line number in the file (the header is line 1). */
  line: number;
  /** Every column's raw value ('' when empty), by column name. */
  values: Record<string, string>;
  /** The numeric columns' values; absent when an optional numeric cell is empty. */
  numbers: Record<string, number>;
}

export class TsvFormatError extends Error {
  constructor(
    readonly line: number,
    readonly problem: string,
  ) {
    super(`line ${line}: ${problem}`);
    this.name = 'TsvFormatError';
  }
}

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

export function parseTsv(content: string, schema: TsvSchema): TsvRow[] {
  const lines = content.replace(/^\uFEFF/, '').split(/\r?\n/);
  const headerIndex = lines.findIndex((l) => l.trim() !== '');
  if (headerIndex < 0) throw new TsvFormatError(1, 'the file is empty (a header row is required)');
  const headerLine = headerIndex + 1;
  const header = (lines[headerIndex] as string).split('\t').map((h) => h.trim());
  const optional = schema.optional ?? [];
  const known = new Set([...schema.required, ...optional]);
  const seen = new Set<string>();
  for (const h of header) {
    if (h === '') throw new TsvFormatError(headerLine, 'a header column has no name');
    if (!known.has(h)) {
      throw new TsvFormatError(
        headerLine,
        `unknown column "${h}" (expected ${[...known].map((k) => `"${k}"`).join(', ')})`,
      );
    }
    if (seen.has(h)) throw new TsvFormatError(headerLine, `column "${h}" appears twice`);
    seen.add(h);
  }
  for (const r of schema.required) {
    if (!seen.has(r)) throw new TsvFormatError(headerLine, `missing required column "${r}"`);
  }
  const numeric = new Set((schema.numeric ?? ['score', 'score2']).filter((c) => seen.has(c)));
  const nonEmpty = new Set(
    (schema.nonEmpty ?? ['text', ...schema.required.filter((c) => numeric.has(c))]).filter((c) => seen.has(c)),
  );
  for (const c of schema.required) if (numeric.has(c)) nonEmpty.add(c);

  const rows: TsvRow[] = [];
  for (let i = headerIndex + 1; i < lines.length; i++) {
    const raw = lines[i] as string;
    if (raw.trim() === '') continue;
    const line = i + 1;
    const cells = raw.split('\t');
    if (cells.length !== header.length) {
      throw new TsvFormatError(line, `${cells.length} column(s), the header has ${header.length}`);
    }
    const values: Record<string, string> = {};
    const numbers: Record<string, number> = {};
    header.forEach((h, k) => {
      const v = (cells[k] as string).trim();
      values[h] = v;
      if (v === '') {
        if (nonEmpty.has(h)) throw new TsvFormatError(line, `empty ${h}`);
        return;
      }
      if (numeric.has(h)) {
        if (!NUMBER.test(v)) throw new TsvFormatError(line, `${h} "${v}" is not a number`);
        const n = Number(v);
        if (schema.range && (n < schema.range.min || n > schema.range.max)) {
          throw new TsvFormatError(line, `${h} ${v} is outside ${schema.range.min}–${schema.range.max}`);
        }
        numbers[h] = n;
      }
      const allowed = schema.allowed?.[h];
      if (allowed && !allowed.includes(v)) {
        throw new TsvFormatError(line, `${h} "${v}" is not one of ${allowed.map((a) => `"${a}"`).join(', ')}`);
      }
    });
    rows.push({ line, values, numbers });
  }
  return rows;
}

export interface ScoredExampleRow {
  line: number;
  text: string;
  score: number;
}

/** The admin import: `text` and `score` columns (score within `range`). */
export function parseScoredExamplesTsv(content: string, range?: { min: number; max: number }): ScoredExampleRow[] {
  return parseTsv(content, { required: ['text', 'score'], ...(range ? { range } : {}) }).map((r) => ({
    line: r.line,
    text: r.values.text as string,
    score: r.numbers.score as number,
  }));
}

export interface BenchRow {
  line: number;
  set: string;
  text: string;
  score: number;
  score2?: number;
  split?: 'train' | 'test';
  /** The question's prompt (optional; one row per set is enough). */
  prompt?: string;
}

/** The essay bench's file: `set`, `text`, `score`, optional `score2`, `split` and `prompt`. */
export function parseBenchTsv(content: string): BenchRow[] {
  return parseTsv(content, {
    required: ['set', 'text', 'score'],
    optional: ['score2', 'split', 'prompt'],
    nonEmpty: ['set', 'text', 'score'],
    allowed: { split: ['train', 'test'] },
  }).map((r) => {
    const row: BenchRow = {
      line: r.line,
      set: r.values.set as string,
      text: r.values.text as string,
      score: r.numbers.score as number,
    };
    if (r.numbers.score2 !== undefined) row.score2 = r.numbers.score2;
    if (r.values.split) row.split = r.values.split as 'train' | 'test';
    if (r.values.prompt) row.prompt = r.values.prompt;
    return row;
  });
}
