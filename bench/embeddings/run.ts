/**
 * bench/embeddings — the local all-MiniLM-L6-v2 adapter on this machine: embeddings per second for
 * short sentences and for ~400-word essays (embedded passage by passage), the process's resident
 * memory before and after loading the model and after the runs, and what embedding does to the
 * latency of a trivial HTTP endpoint served by the same process (inference runs in a worker
 * thread, so the API's event loop should barely notice).
 *
 *   npm run bench:embeddings
 *   BENCH_SENTENCES=2000 BENCH_ESSAYS=50 MINILM_INTRA_OP_THREADS=2 npm run bench:embeddings
 *
 * Settings: BENCH_SENTENCES (512), BENCH_ESSAYS (24), BENCH_HTTP_REQUESTS (500 per phase),
 * MINILM_INTRA_OP_THREADS (1), MINILM_MODEL_DIR / CACHE_DIR (see services/platform/paths.ts),
 * BENCH_JSON=1 also prints the results as JSON. Needs no stack: loopback HTTP only.
 */
import { createServer, request, Agent, type Server } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { miniLmModelDir } from '../../services/platform/paths';
import { MiniLmEmbeddings } from '../../services/processors/embeddings/miniLmEmbeddings';
import { embedPassages } from '../../services/processors/embeddings/passages';

const SENTENCES = Number(process.env.BENCH_SENTENCES ?? 512);
const ESSAYS = Number(process.env.BENCH_ESSAYS ?? 24);
const HTTP_REQUESTS = Number(process.env.BENCH_HTTP_REQUESTS ?? 500);
const THREADS = Number(process.env.MINILM_INTRA_OP_THREADS ?? 1);

const mb = (bytes: number): number => Math.round(bytes / 2 ** 20);
const rss = (): number => mb(process.memoryUsage().rss);

const SUBJECTS = ['The team', 'A data engineer', 'Our decider', 'The projection', 'Each consumer', 'The student'];
const VERBS = ['validates', 'replays', 'partitions', 'summarises', 'rebuilds', 'explains', 'indexes', 'scores'];
const OBJECTS = [
  'the event log before every release',
  'a holdout set of anonymised answers',
  'the read model from offset zero',
  'dashboards that communicate insights to stakeholders',
  'containers across a cluster of machines',
  'rubric criteria with concrete evidence from the essay',
  'window functions that rank rows within a partition',
  'idempotent retries with exponential backoff',
];
const TAILS = ['', ' carefully', ' every night', ' within a transaction', ' so that audits stay simple'];

/** Deterministic pseudo-random sentences (a fixed LCG), varied enough to exercise the tokenizer. */
function sentences(n: number, seed: number): string[] {
  let x = seed;
  const next = (k: number): number => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x % k;
  };
  return Array.from(
    { length: n },
    () =>
      `${SUBJECTS[next(SUBJECTS.length)]} ${VERBS[next(VERBS.length)]} ${OBJECTS[next(OBJECTS.length)]}` +
      `${TAILS[next(TAILS.length)]}.`,
  );
}

/** ~400 words: sentences of ~10 words in paragraphs of five. */
function essay(seed: number): string {
  const s = sentences(34, seed);
  const paragraphs: string[] = [];
  for (let i = 0; i < s.length; i += 5) paragraphs.push(s.slice(i, i + 5).join(' '));
  return paragraphs.join('\n\n');
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function startServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return { server, port: address.port };
}

/** `count` sequential GETs over keep-alive, each with a 5 s timeout; latencies in ms. */
async function httpLoop(port: number, count: number): Promise<{ p50: number; p95: number; p99: number; max: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const latencies: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      await new Promise<void>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/ping', agent, timeout: 5000 }, (res) => {
          res.resume();
          res.on('end', resolve);
        });
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', reject);
        req.end();
      });
      latencies.push(performance.now() - started);
      // pace the loop a little, like a client that is not saturating the server
      await new Promise((r) => setTimeout(r, 2));
    }
  } finally {
    agent.destroy();
  }
  latencies.sort((a, b) => a - b);
  const round = (v: number): number => +v.toFixed(2);
  return {
    p50: round(percentile(latencies, 50)),
    p95: round(percentile(latencies, 95)),
    p99: round(percentile(latencies, 99)),
    max: round(latencies[latencies.length - 1] ?? NaN),
  };
}

async function main(): Promise<void> {
  const modelDir = miniLmModelDir(process.env);
  const load0 = loadavg()[0]?.toFixed(2);
  console.log(`embeddings bench: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), load ${load0}`);
  console.log(`model ${modelDir}, intraOpNumThreads ${THREADS}`);

  const rssBefore = rss();
  const loadStarted = performance.now();
  const embeddings = await MiniLmEmbeddings.create({ modelDir, intraOpThreads: THREADS, maxQueuedTexts: 100_000 });
  const loadMs = performance.now() - loadStarted;
  const rssLoaded = rss();
  const { server, port } = await startServer();
  try {
    // warm-up (first runs allocate ORT's arenas)
    await embeddings.embed(sentences(64, 1));
    await embedPassages(embeddings, essay(1));

    const short = sentences(SENTENCES, 7);
    let started = performance.now();
    await embeddings.embed(short);
    const shortSeconds = (performance.now() - started) / 1000;

    const essays = Array.from({ length: ESSAYS }, (_, i) => essay(100 + i));
    const words = essays.reduce((n, e) => n + e.split(/\s+/).length, 0) / essays.length;
    let passages = 0;
    started = performance.now();
    for (const text of essays) passages += (await embedPassages(embeddings, text)).passages.length;
    const essaySeconds = (performance.now() - started) / 1000;
    const rssAfterRuns = rss();

    const idle = await httpLoop(port, HTTP_REQUESTS);
    // the same loop while essays are embedded back to back (bounded: stops with the loop)
    let busy = true;
    let embeddedWhileBusy = 0;
    const load = (async () => {
      for (let i = 0; busy; i++) {
        await embedPassages(embeddings, essays[i % essays.length]!);
        embeddedWhileBusy++;
      }
    })();
    const loaded = await httpLoop(port, HTTP_REQUESTS);
    busy = false;
    await load;
    const rssEnd = rss();

    const results = {
      cores: cpus().length,
      intra_op_threads: THREADS,
      model_load_ms: Math.round(loadMs),
      short_sentences: { texts: SENTENCES, per_second: Math.round(SENTENCES / shortSeconds) },
      essays: {
        essays: ESSAYS,
        words_per_essay: Math.round(words),
        passages_per_essay: +(passages / ESSAYS).toFixed(1),
        essays_per_second: +(ESSAYS / essaySeconds).toFixed(2),
        passages_per_second: Math.round(passages / essaySeconds),
      },
      rss_mb: { before_model: rssBefore, after_model: rssLoaded, after_runs: rssAfterRuns, end: rssEnd },
      http_ms: { idle, while_embedding: loaded, essays_embedded_meanwhile: embeddedWhileBusy },
    };
    console.log(`model load                 ${results.model_load_ms} ms`);
    console.log(`short sentences            ${results.short_sentences.per_second} embeddings/s (${SENTENCES} texts)`);
    console.log(
      `~${results.essays.words_per_essay}-word essays          ${results.essays.essays_per_second} essays/s, ` +
        `${results.essays.passages_per_second} passages/s (${results.essays.passages_per_essay} passages each)`,
    );
    console.log(
      `RSS                        ${rssBefore} MB before model, ${rssLoaded} MB loaded, ${rssAfterRuns} MB after runs, ` +
        `${rssEnd} MB at end`,
    );
    for (const [name, r] of [
      ['HTTP idle', idle],
      ['HTTP while embedding', loaded],
    ] as const) {
      console.log(`${name.padEnd(27)}p50 ${r.p50} ms  p95 ${r.p95} ms  p99 ${r.p99} ms  max ${r.max} ms`);
    }
    console.log(`essays embedded during the loaded HTTP phase: ${embeddedWhileBusy}; load ${loadavg()[0]?.toFixed(2)}`);
    if (process.env.BENCH_JSON === '1') console.log(JSON.stringify(results));
  } finally {
    await new Promise((resolve) => server.close(resolve));
    await embeddings.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
