import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Prometheus metrics of this process (served by the API at `GET /metrics`).
 *
 * Scope: ONE registry per process, created on first use. Prometheus scrapes a process, and the
 * default metrics (CPU, memory, event loop, GC) describe the process, so a registry per
 * `startMicrocred` would only duplicate them. A process running several systems (the tests do)
 * shares the counters: each system adds to them, and nothing is registered twice. Specs
 * therefore assert how much a counter MOVED, never its absolute value; a spec that wants a
 * registry of its own calls `createMetrics()` and hands it to `createApp({ metrics })`.
 *
 * Not a label: the instance. Prometheus adds `instance`/`job` from the scrape target.
 */
export interface Metrics {
  registry: Registry;
  httpRequests: Counter<'method' | 'route' | 'status_code'>;
  httpRequestDuration: Histogram<'method' | 'route' | 'status_code'>;
  deciderDecideDuration: Histogram<'context'>;
  deciderCommands: Counter<'context' | 'outcome'>;
  projectionEvents: Counter<'projection' | 'outcome'>;
  processorJobs: Counter<'processor' | 'outcome'>;
  processorDegraded: Counter<'processor' | 'provider'>;
  /** Jobs not yet done, per processor, read from `async_jobs` at each scrape (see `watchJobBacklog`). */
  processorBacklog: Gauge<'processor'>;
}

/** Where a registry's backlog gauge reads its figures (set by whoever serves `/metrics`). */
const backlogSources = new WeakMap<Registry, () => Promise<Record<string, number>>>();

/**
 * Lets the registry's `processor_jobs_backlog` read the job table at each scrape. A scrape that
 * cannot reach PostgreSQL leaves the gauge empty rather than failing `/metrics`.
 */
export function watchJobBacklog(metrics: Metrics, source: () => Promise<Record<string, number>>): void {
  backlogSources.set(metrics.registry, source);
}

/** What a processor job attempt ended in. */
export type JobOutcome = 'succeeded' | 'retried' | 'failed' | 'rejected';

/** A fresh registry with every microcred metric (no default process metrics: see `enableDefaultMetrics`). */
export function createMetrics(): Metrics {
  const registry = new Registry();
  const registers = [registry];
  return {
    registry,
    httpRequests: new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered, by method, route template (or "unmatched") and status code',
      labelNames: ['method', 'route', 'status_code'],
      registers,
    }),
    httpRequestDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by method, route template (or "unmatched") and status code',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    deciderDecideDuration: new Histogram({
      name: 'decider_decide_duration_seconds',
      help: 'Time to decide one command (decide, evolve and the Avro encoding of its events), by bounded context',
      labelNames: ['context'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    }),
    deciderCommands: new Counter({
      name: 'decider_commands_total',
      help: 'Commands decided, by bounded context and outcome (accepted, rejected, duplicate); counted when decided, also for a batch whose transaction then aborts and is redelivered',
      labelNames: ['context', 'outcome'],
      registers,
    }),
    projectionEvents: new Counter({
      name: 'projection_events_total',
      help: 'Events seen by a projection, by outcome: applied, skipped (already applied: a redelivery), failed (its batch rolled back and is retried), dead_lettered (a poison event, or one held behind it: see projection_dead_letters)',
      labelNames: ['projection', 'outcome'],
      registers,
    }),
    processorJobs: new Counter({
      name: 'processor_jobs_total',
      help: 'Processor job attempts, by outcome: succeeded, retried (attempt failed or report not confirmed), failed (out of attempts, failure reported), rejected (the decider refused the report)',
      labelNames: ['processor', 'outcome'],
      registers,
    }),
    processorDegraded: new Counter({
      name: 'processor_degraded_total',
      help: 'Jobs whose accepted report says degraded (e.g. an essay scored by the offline fallback), by processor and provider',
      labelNames: ['processor', 'provider'],
      registers,
    }),
    processorBacklog: new Gauge({
      name: 'processor_jobs_backlog',
      help: 'Processor jobs queued, retrying or running (not waiting for their inputs), by processor: work the processors have not caught up with',
      labelNames: ['processor'],
      registers,
      async collect() {
        const source = backlogSources.get(registry);
        this.reset();
        if (!source) return;
        const counts = await source().catch(() => undefined);
        for (const [processor, n] of Object.entries(counts ?? {})) this.set({ processor }, n);
      },
    }),
  };
}

let processWide: Metrics | undefined;
const withDefaults = new WeakSet<Registry>();

/** The process's metrics (one registry per process; see the module comment). */
export function processMetrics(): Metrics {
  return (processWide ??= createMetrics());
}

/**
 * Adds prom-client's default process metrics (CPU, memory, event loop lag, GC, handles) to a
 * registry, once. Called by whoever serves `/metrics`, so a process that never serves them
 * starts no event-loop or GC observers.
 */
export function enableDefaultMetrics(metrics: Metrics = processMetrics()): void {
  if (withDefaults.has(metrics.registry)) return;
  withDefaults.add(metrics.registry);
  collectDefaultMetrics({ register: metrics.registry });
}

/** Starts timing one decision; call the result with the decision's outcome. */
export function timeDecision(context: string): (outcome: string) => void {
  const metrics = processMetrics();
  const stop = metrics.deciderDecideDuration.startTimer({ context });
  return (outcome) => {
    stop();
    metrics.deciderCommands.inc({ context, outcome });
  };
}

/** Counts a projection batch's events: applied, skipped as already applied, or failed. */
export function countProjectionEvents(
  projection: string,
  outcome: 'applied' | 'skipped' | 'failed' | 'dead_lettered',
  n: number,
): void {
  if (n > 0) processMetrics().projectionEvents.inc({ projection, outcome }, n);
}

/** Counts a processor job attempt's outcome, and a degraded result by its provider. */
export function countJob(processor: string, outcome: JobOutcome, data?: Record<string, unknown>): void {
  const metrics = processMetrics();
  metrics.processorJobs.inc({ processor, outcome });
  if (outcome === 'succeeded' && data?.degraded === true) {
    metrics.processorDegraded.inc({
      processor,
      provider: typeof data.provider === 'string' ? data.provider : 'unknown',
    });
  }
}
