/**
 * bench/pipeline — submit to result, end to end.
 *
 *   npm run bench:pipeline                              # 10 concurrent submits, 3 rounds
 *   BENCH_CONCURRENCY=20 BENCH_ROUNDS=5 npm run bench:pipeline
 *
 * The service runs as its own OS process with every role, offline (no LLM: essays scored by the
 * offline scorer with MiniLM, rationales composed), on the demo catalog loaded as npm start
 * does. One warm-up assessment per demo role is not measured (it builds the role's
 * question→skill links and the credential vectors, which are then kept). Each round, N students
 * submit an assessment at once (every question answered, two ~200-word essays per demo role);
 * each polls GET /assessments/{id}/result every 25 ms until it answers 200. Prints submit →
 * result p50/p95/p99, results per second, and the stages the results record (essays scored,
 * evidence retrieval, the whole of it as the processor saw it).
 */
import { performance } from 'node:perf_hooks';
import {
  answerFor,
  essayFrom,
  demoRoles,
  percentile,
  pool,
  registerStudents,
  startBenchService,
  type BenchService,
  type Json,
} from '../support/service';

const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const POLL_MS = 25;

const SENTENCES = [
  'First I would clarify the goal, the metric that matters, and the baseline to compare against.',
  'Then I would gather the data I need and check it for duplicates, gaps and changed definitions.',
  'I would break the problem down into parts and test the most likely explanation first.',
  'I would be explicit about trade-offs, risks and what could go wrong, and how I would notice.',
  'I would share what I found with the people affected, with the evidence and a clear next step.',
  'Finally I would agree on how we will know that the change worked, and follow up on it.',
];

function essayFor(i: number): string {
  return essayFrom(SENTENCES, i, 200);
}

interface Timed {
  ms: number;
  metrics: Json;
  essays: number;
}

async function submitAndWait(service: BenchService, token: string, role: Json, i: number): Promise<Timed> {
  const { http } = service;
  const start = await http('POST', '/assessments/start', { role_id: role.role_id }, token);
  if (start.status !== 201) throw new Error(`start: ${start.status} ${JSON.stringify(start.body)}`);
  const questions = start.body.questions as Json[];
  const responses = questions.map((q) => ({ question_id: q.question_id, answer: answerFor(q, essayFor(i)) }));
  const id = start.body.assessment_id as string;
  const t0 = performance.now();
  const submit = await http('POST', `/assessments/${id}/responses`, { completed: true, responses }, token);
  if (submit.status !== 202) throw new Error(`submit: ${submit.status} ${JSON.stringify(submit.body)}`);
  for (;;) {
    const res = await http('GET', `/assessments/${id}/result`, undefined, token);
    if (res.status === 200) {
      return {
        ms: performance.now() - t0,
        metrics: res.body.metrics as Json,
        essays: questions.filter((q) => q.type === 'essay').length,
      };
    }
    if (res.status !== 202) throw new Error(`result: ${res.status} ${JSON.stringify(res.body)}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function main() {
  const service = await startBenchService({ env: { PROCESSOR_POLL_MS: '50' } });
  try {
    const [first] = await registerStudents(service, 1);
    const roles = await demoRoles(service, first!);
    const students = await registerStudents(service, CONCURRENCY * ROUNDS + roles.length);
    // Warm-up: one per role, sequentially (not measured).
    for (const [i, role] of roles.entries()) await submitAndWait(service, students[i]!, role, i);

    const results: Timed[] = [];
    let wall = 0;
    let next = roles.length;
    for (let round = 0; round < ROUNDS; round++) {
      const t0 = performance.now();
      await pool(CONCURRENCY, CONCURRENCY, async () => {
        const i = next++;
        results.push(await submitAndWait(service, students[i]!, roles[i % roles.length]!, i));
      });
      wall += performance.now() - t0;
    }
    const sorted = results.map((r) => r.ms).sort((a, b) => a - b);
    const stage = (key: string) =>
      results
        .map((r) => Number(r.metrics[key] ?? NaN))
        .filter(Number.isFinite)
        .sort((a, b) => a - b);
    const rag = stage('rag_latency_ms');
    const total = stage('total_latency_ms');
    const essays = results.reduce((n, r) => n + r.essays, 0);
    console.log(
      `\nbench/pipeline — ${ROUNDS} rounds of ${CONCURRENCY} concurrent submits (${results.length} assessments, ${essays} essays), offline (no LLM), ${roles.length} demo roles`,
    );
    console.table([
      {
        measure: 'submit → result 200 (client)',
        p50: s(percentile(sorted, 50)),
        p95: s(percentile(sorted, 95)),
        p99: s(percentile(sorted, 99)),
      },
      {
        measure: 'submit → recommendations recorded (metrics.total_latency_ms)',
        p50: s(percentile(total, 50)),
        p95: s(percentile(total, 95)),
        p99: s(percentile(total, 99)),
      },
      {
        measure: 'evidence retrieval (metrics.rag_latency_ms)',
        p50: s(percentile(rag, 50)),
        p95: s(percentile(rag, 95)),
        p99: s(percentile(rag, 99)),
      },
    ]);
    console.log(`results per second: ${(results.length / (wall / 1000)).toFixed(2)} (wall time of the rounds)`);
    console.log(`aim: p95 submit → result under 1 s at 10 concurrent submits`);
  } finally {
    await service.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
