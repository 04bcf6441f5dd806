import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type BenchRow, parseBenchTsv } from '../scoredExamplesTsv';

/** The shipped labelled sample (bench/essay-quality/sample.tsv), for specs. */
export function sampleRows(): BenchRow[] {
  return parseBenchTsv(readFileSync(join(__dirname, '../../../../../bench/essay-quality/sample.tsv'), 'utf8'));
}

export function sampleSet(set: string): { prompt: string; rows: BenchRow[] } {
  const rows = sampleRows().filter((r) => r.set === set);
  return { prompt: rows.find((r) => r.prompt)?.prompt ?? '', rows };
}
