/**
 * The offline essay scorer against human scores: `npm run bench:essay-quality -- [file.tsv]`.
 *
 * The file (default: bench/essay-quality/sample.tsv) has the columns `set`, `text`, `score`, and
 * optionally `score2` (a second human), `split` (`train`/`test`; without it a hash of the text puts
 * 75% in train) and `prompt`. Per set: calibrate on train, score test, compare. The last line is
 * `mean_qwk=<v> human_qwk=<v or n/a>`. Uses the local all-MiniLM-L6-v2 model when installed, else
 * the lexical embedding (and says so). Set BENCH_JSON=1 to also print the report as JSON.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { miniLmModelDir, repoPath } from '../../services/platform/paths';
import type { Embeddings } from '../../services/processors/embeddings/embeddings';
import { LexicalEmbeddings } from '../../services/processors/embeddings/lexicalEmbeddings';
import { MiniLmEmbeddings } from '../../services/processors/embeddings/miniLmEmbeddings';
import { formatBenchReport, runEssayBench } from '../../services/processors/essayScoring/offline/evaluation';
import { parseBenchTsv } from '../../services/processors/essayScoring/offline/scoredExamplesTsv';

async function openEmbeddings(): Promise<{ embeddings: Embeddings; note: string }> {
  try {
    const embeddings = await MiniLmEmbeddings.create({ modelDir: miniLmModelDir(), intraOpThreads: 2 });
    return { embeddings, note: 'MiniLM (all-MiniLM-L6-v2, local ONNX)' };
  } catch (err) {
    return {
      embeddings: new LexicalEmbeddings(),
      note: `lexical fallback (MiniLM unavailable: ${err instanceof Error ? err.message : String(err)})`,
    };
  }
}

async function main(): Promise<void> {
  const file = resolve(process.argv[2] ?? repoPath('bench', 'essay-quality', 'sample.tsv'));
  const rows = parseBenchTsv(readFileSync(file, 'utf8'));
  const { embeddings, note } = await openEmbeddings();
  console.log(`file: ${file} (${rows.length} rows)`);
  console.log(`embedding adapter: ${note}`);
  try {
    const report = await runEssayBench(rows, embeddings);
    if (process.env.BENCH_JSON === '1') console.log(JSON.stringify(report, null, 2));
    console.log(formatBenchReport(report));
  } finally {
    await embeddings.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
