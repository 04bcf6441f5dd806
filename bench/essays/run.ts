/**
 * bench/essays — essays scored end to end, and what it does to the API.
 *
 *   npm run bench:essays                          # 24 students, offline scorer (no LLM)
 *   BENCH_STUDENTS=48 npm run bench:essays
 *
 * The service runs as its own OS process with every role (the processors embed and score essays
 * with MiniLM in a worker thread). This process first measures a steady read load on the API
 * (GET /catalog/roles at BENCH_READ_RATE requests/s, 50 by default) alone, then the same load while N students
 * submit assessments with ~400-word essays. Prints the API's p50/p95/p99 in both phases, essays
 * scored per second, submit-to-scored latency, and the service's resident memory.
 */
import { performance } from 'node:perf_hooks';
import {
  answerFor,
  essayFrom,
  demoRoles,
  percentile,
  pool,
  registerStudents,
  residentMb,
  startBenchService,
  summarize,
  waitUntil,
  type Json,
} from '../support/service';

const STUDENTS = Number(process.env.BENCH_STUDENTS ?? 24);
const READ_RATE = Number(process.env.BENCH_READ_RATE ?? 50);
const BASELINE_SECONDS = Number(process.env.BENCH_BASELINE_SECONDS ?? 10);

const SENTENCES = [
  'First I would clarify which metric dropped, revenue or units, and against which baseline, last month or the same month last year.',
  'Then I would request order-level data by region, product and channel, along with marketing spend and stock levels.',
  'Before any analysis I would check the data for duplicates, missing days and changed definitions.',
  'I would break the decline down by segment to see whether it is concentrated in one region or product line.',
  'Seasonality matters, so I would compare with previous years and look at the weekly pattern.',
  'I would look at price changes, promotions and competitor activity during the period.',
  'A simple waterfall chart would show which segments contributed most of the fifteen percent drop.',
  'I would present the findings to the manager with the main driver first, the evidence, and a recommended next step.',
  'I would be clear about what the data cannot tell us and what further data would help.',
  'Finally I would agree on a follow-up metric to watch so we know whether the fix works.',
];

/** About 400 words, different for every student. */
function essayFor(i: number): string {
  return essayFrom(SENTENCES, i, 400);
}

async function main() {
  const service = await startBenchService({ env: { PROCESSOR_POLL_MS: '100' } });
  const { http } = service;
  try {
    const students = await registerStudents(service, STUDENTS);
    const roles = await demoRoles(service, students[0]!);
    const reader = students[0]!;
    const rssIdle = residentMb(service.pids[0]!);

    // The read load, running through both phases; each latency is stamped with its phase.
    const latencies: { phase: 'baseline' | 'scoring'; ms: number }[] = [];
    let phase: 'baseline' | 'scoring' | 'done' = 'baseline';
    let rssPeak = rssIdle;
    // Paced, not flat out: a steady dashboard-like load that leaves the cores to the service.
    const inFlight = new Set<Promise<void>>();
    const ticker = setInterval(() => {
      if (phase === 'done' || inFlight.size >= 16) return;
      const at = phase;
      const t0 = performance.now();
      const request = http('GET', '/catalog/roles', undefined, reader).then((res) => {
        if (res.status !== 200) throw new Error(`read: ${res.status}`);
        latencies.push({ phase: at, ms: performance.now() - t0 });
      });
      inFlight.add(request);
      void request.finally(() => inFlight.delete(request));
    }, 1000 / READ_RATE);
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, residentMb(service.pids[0]!))), 250);
    await new Promise((r) => setTimeout(r, BASELINE_SECONDS * 1000));

    phase = 'scoring';
    const started = performance.now();
    const submitted: { id: string; token: string; at: number; essays: number }[] = [];
    let next = 0;
    await pool(STUDENTS, 8, async () => {
      const i = next++;
      const token = students[i]!;
      const role = roles[i % roles.length]!;
      const start = await http('POST', '/assessments/start', { role_id: role.role_id }, token);
      if (start.status !== 201) throw new Error(`start: ${start.status} ${JSON.stringify(start.body)}`);
      const questions = start.body.questions as Json[];
      const responses = questions.map((q) => ({ question_id: q.question_id, answer: answerFor(q, essayFor(i)) }));
      const id = start.body.assessment_id as string;
      const submit = await http('POST', `/assessments/${id}/responses`, { completed: true, responses }, token);
      if (submit.status !== 202) throw new Error(`submit: ${submit.status} ${JSON.stringify(submit.body)}`);
      submitted.push({ id, token, at: performance.now(), essays: questions.filter((q) => q.type === 'essay').length });
    });
    const scoredAt = new Map<string, number>();
    await waitUntil(
      async () => {
        for (const s of submitted) {
          if (scoredAt.has(s.id)) continue;
          const res = await http('GET', `/assessments/${s.id}`, undefined, s.token);
          if (res.status === 200 && res.body.scoring?.essays_pending === 0) scoredAt.set(s.id, performance.now());
        }
        return scoredAt.size === submitted.length;
      },
      600_000,
      'every essay to be scored',
    );
    const seconds = (performance.now() - started) / 1000;
    phase = 'done';
    clearInterval(sampler);
    clearInterval(ticker);
    await Promise.all([...inFlight]);

    const essays = submitted.reduce((n, s) => n + s.essays, 0);
    const toScored = submitted.map((s) => scoredAt.get(s.id)! - s.at).sort((a, b) => a - b);
    const baseline = latencies.filter((l) => l.phase === 'baseline').map((l) => l.ms);
    const during = latencies.filter((l) => l.phase === 'scoring').map((l) => l.ms);
    console.log(`\nbench/essays — ${STUDENTS} assessments, ${essays} essays of ~400 words, offline scorer (MiniLM)`);
    console.table([
      summarize('API reads alone (GET /catalog/roles)', baseline, BASELINE_SECONDS),
      summarize('API reads while essays are scored', during, seconds),
    ]);
    console.log(
      `essays scored: ${essays} in ${seconds.toFixed(1)} s (${(essays / seconds).toFixed(2)} essays/s, submits included)`,
    );
    console.log(
      `submit → every essay of the assessment scored: p50 ${(percentile(toScored, 50) / 1000).toFixed(2)} s, p95 ${(percentile(toScored, 95) / 1000).toFixed(2)} s`,
    );
    console.log(`service resident memory: ${rssIdle} MB idle (model loaded), ${rssPeak} MB peak while scoring`);
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
