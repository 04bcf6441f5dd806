/**
 * bench/llm-overhead — what our LLM essay scorer adds on top of the provider's own latency.
 *
 *   npm run bench:llm-overhead                       # = npm run build && node dist/bench/llm-overhead/run.js
 *   BENCH_ESSAYS=100 BENCH_LATENCIES=0,200,1000 npm run bench:llm-overhead
 *
 * The fake OpenAI server runs as its own OS process (dist/test/support/fakeOpenAI.js) with a
 * fixed latency per setting; this process scores essays one at a time through LlmEssayScorer
 * (the real openai SDK over HTTP, prompt building, strict-schema validation with ajv, evidence
 * checks, breaker and retry wrappers). Per essay it compares our end-to-end time with the time
 * the server itself spent on that request (as the server measured it): the difference is our
 * overhead — client-side work plus the loopback HTTP round trip.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { EssayRubric } from '../../domain/assessment/rubric';
import { repoPath } from '../../services/platform/paths';
import type { EssayToScore } from '../../services/processors/essayScoring/essayScore';
import { LlmEssayScorer } from '../../services/processors/essayScoring/llm/llmEssayScorer';
import { spawnFakeOpenAI } from '../../test/support/fakeOpenAI';

const ESSAYS = Number(process.env.BENCH_ESSAYS ?? 200);
const SLOW_ESSAYS = Number(process.env.BENCH_SLOW_ESSAYS ?? 50);
const LATENCIES = (process.env.BENCH_LATENCIES ?? '0,200').split(',').map(Number);
const WARMUP = 10;

interface CatalogQuestion {
  slug: string;
  question_type: string;
  prompt: string;
  rubric: EssayRubric;
  weight: number;
}

function essayQuestions(): CatalogQuestion[] {
  const catalog = JSON.parse(readFileSync(repoPath('services', 'cli', 'demo', 'catalog.json'), 'utf8')) as {
    roles: { questions: CatalogQuestion[] }[];
  };
  return catalog.roles.flatMap((r) => r.questions).filter((q) => q.question_type === 'essay');
}

const SENTENCES = [
  'First I would clarify what exactly changed and against which baseline, including seasonality.',
  'I would gather the relevant data and logs for the period, split by the main dimensions.',
  'Before trusting any number I would check completeness, duplicates and definition changes.',
  'Then I would break the problem down step by step and quantify each contributing factor.',
  'I would test the leading hypothesis with a targeted comparison rather than a guess.',
  'Finally I would present the findings with a clear recommendation and the next steps.',
  'Throughout, I would keep the stakeholders informed and note the risks and trade-offs.',
];

/** A ~300-word essay, different for each i. */
function essayText(i: number): string {
  const lines: string[] = [];
  for (let k = 0; k < 42; k += 1) lines.push(`${SENTENCES[(i + k) % SENTENCES.length]!.slice(0, -1)} (${i}.${k}).`);
  return lines.join(i % 3 === 0 ? '\n' : ' ');
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const ms = (x: number) => +x.toFixed(2);

async function main(): Promise<void> {
  const questions = essayQuestions();
  const fake = await spawnFakeOpenAI({ apiKey: 'bench-key' });
  const scorer = new LlmEssayScorer({
    apiKey: 'bench-key',
    baseURL: fake.url,
    model: 'gpt-4o-mini',
    timeoutMs: 30_000,
    prices: '{"gpt-4o-mini":{"input_per_million":15,"output_per_million":60}}',
  });
  const rows: Record<string, number | string>[] = [];
  try {
    for (const latency of LATENCIES) {
      const n = latency >= 100 ? SLOW_ESSAYS : ESSAYS;
      const input = (i: number): EssayToScore => {
        const q = questions[i % questions.length]!;
        return { question_id: q.slug, prompt: q.prompt, rubric: q.rubric, max_score: q.weight, text: essayText(i) };
      };
      await fake.control.setLatency(latency);
      for (let i = 0; i < WARMUP; i += 1) await scorer.score(input(10_000 + i));
      await fake.control.reset();

      const ours: number[] = [];
      let cents = 0;
      let tokensIn = 0;
      for (let i = 0; i < n; i += 1) {
        const started = performance.now();
        const r = await scorer.score(input(i));
        ours.push(performance.now() - started);
        cents += r.cost_cents;
        tokensIn += r.tokens_in;
      }
      const served = (await fake.control.requests()).filter((r) => r.endpoint === 'chat');
      if (served.length !== n) throw new Error(`expected ${n} requests at the fake, saw ${served.length}`);
      const server = served.map((r) => r.latency_ms);
      const overhead = ours.map((o, i) => o - server[i]!).sort((a, b) => a - b);
      const sortedOurs = [...ours].sort((a, b) => a - b);
      rows.push({
        fake_latency_ms: latency,
        essays: n,
        server_mean_ms: ms(mean(server)),
        ours_mean_ms: ms(mean(ours)),
        ours_p50_ms: ms(percentile(sortedOurs, 50)),
        ours_p95_ms: ms(percentile(sortedOurs, 95)),
        overhead_mean_ms: ms(mean(overhead)),
        overhead_p95_ms: ms(percentile(overhead, 95)),
        tokens_in_per_essay: Math.round(tokensIn / n),
        cents_per_essay: +(cents / n).toFixed(5),
      });
    }
  } finally {
    await scorer.close();
    await fake.stop();
  }
  console.log(`node ${process.version}, sequential essays, fake OpenAI in its own process on 127.0.0.1`);
  console.table(rows);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
