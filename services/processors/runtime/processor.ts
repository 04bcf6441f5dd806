import type { Actor } from '../../../domain/shared/decider';
import { idFromKey } from '../../../domain/shared/ids';
import { ProjectionRunner } from '../../../projections/runtime/projectionRunner';
import type { CommandBus } from '../../messaging/commandBus';
import type { ContextName, EventEnvelope, StoredEvent } from '../../messaging/envelopes';
import type { MessageCodec } from '../../messaging/messageCodec';
import type { Topics } from '../../platform/config';
import type { Logger } from '../../platform/logger';
import { withLogContext } from '../../platform/logger';
import { countJob } from '../../platform/metrics';
import type { Platform } from '../../platform/platform';
import { JobIntake, JobStore, type Job } from './jobs';

/**
 * A processor does slow or external work that events call for, and reports back ONLY by sending
 * a command, so every state change passes a decider. Writing one means filling in this shape:
 *
 * - `intake(event, jobs)`: which jobs an event creates, completes or cancels (runs in the same
 *   PostgreSQL transaction as the consumed offset: each event is taken in exactly once);
 * - `run(job, signal)`: the work, ending in the command that reports it (throw to retry);
 * - `giveUp(job, error)`: the command that reports a job out of attempts.
 *
 * The runtime does the rest: deterministic job keys, leases, retries with backoff, a timeout per
 * attempt, and the report, whose command id derives from the job, so a re-run job's second
 * report is a duplicate the decider drops.
 */
export interface ProcessorReport {
  context: ContextName;
  type: string;
  aggregate_id: string;
  data: Record<string, unknown>;
}

export interface ProcessorDefinition<P extends object> {
  /** Also the job type in `async_jobs`, e.g. `essay_scoring`. */
  name: string;
  topics: (topics: Topics) => string[];
  intake: (event: StoredEvent, jobs: JobIntake<P>) => Promise<void>;
  run: (job: Job<P>, signal: AbortSignal) => Promise<ProcessorReport>;
  giveUp: (job: Job<P>, error: unknown) => ProcessorReport;
}

/** Thrown by `run` when retrying cannot help: the job is given up at once. */
export class PermanentJobError extends Error {
  override name = 'PermanentJobError';
}

export interface ProcessorOptions {
  /** Jobs run at once by this process. */
  concurrency: number;
  /** Attempts before giving up. */
  maxAttempts: number;
  /** How long an attempt may take; it is then aborted and retried. */
  attemptTimeoutMs: number;
  /** A claimed job whose worker has not finished within this is claimed again (the worker died). */
  leaseMs: number;
  /** Backoff between attempts: base × 2^(attempt − 1), with jitter, capped at max. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** How often to look for due jobs when nothing woke the runner. */
  pollMs: number;
}

export interface ProcessorDeps {
  platform: Platform;
  codec: MessageCodec;
  bus: CommandBus;
  options: ProcessorOptions;
}

export function backoffMs(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  const exponential = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential / 2 + (random() * exponential) / 2);
}

/** An error as it is kept in `async_jobs.error_payload` (never a stack or payload data). */
export function describeError(err: unknown): { name: string; message: string } {
  const error = err instanceof Error ? err : new Error(String(err));
  return { name: error.name, message: error.message.slice(0, 500) };
}

export class ProcessorRuntime<P extends object> {
  private readonly logger: Logger;
  private readonly store: JobStore;
  private readonly intake: ProjectionRunner<EventEnvelope>;
  private readonly worker: string;
  private readonly actor: Actor;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly stopping = new AbortController();
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly definition: ProcessorDefinition<P>,
    private readonly deps: ProcessorDeps,
  ) {
    const { platform } = deps;
    const scope = platform.config.KAFKA_TOPIC_PREFIX;
    this.logger = platform.logger.child({ component: 'processor', processor: definition.name });
    this.store = new JobStore(platform.pool, scope, definition.name);
    this.worker = `${platform.config.INSTANCE_ID}-${process.pid}`;
    this.actor = { id: `system:${definition.name}`, role: 'system' };
    this.intake = new ProjectionRunner(platform, deps.codec, {
      name: `processor.${definition.name}`,
      topics: definition.topics,
      apply: (client, event) => definition.intake(event, new JobIntake<P>(client, scope, definition.name)),
    });
  }

  async start(): Promise<void> {
    this.intake.onProgress(() => this.wake?.());
    await this.intake.start();
    this.loop = this.run();
    this.logger.info({ worker: this.worker }, 'processor started');
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    this.wake?.();
    await this.intake.stop();
    await this.loop;
    await Promise.allSettled([...this.inFlight]);
  }

  private async run(): Promise<void> {
    const { options } = this.deps;
    while (!this.stopping.signal.aborted) {
      const free = options.concurrency - this.inFlight.size;
      let claimed: Job<P>[] = [];
      if (free > 0) {
        claimed = await this.store.claim<P>(this.worker, free, options.leaseMs).catch((err: unknown) => {
          this.logger.warn({ err: describeError(err) }, 'claiming jobs failed; will retry');
          return [];
        });
      }
      for (const job of claimed) {
        const attempt = this.attempt(job).finally(() => {
          this.inFlight.delete(attempt);
          this.wake?.();
        });
        this.inFlight.add(attempt);
      }
      if (claimed.length === 0 || claimed.length === free) await this.sleep(options.pollMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private attempt(job: Job<P>): Promise<void> {
    return withLogContext({ correlation_id: job.id, job_key: job.key, attempt: job.attempts }, async () => {
      const { options } = this.deps;
      let report: ProcessorReport;
      let givingUp = false;
      try {
        if (job.attempts > options.maxAttempts) throw new PermanentJobError('out of attempts');
        report = await this.withTimeout(job);
      } catch (err) {
        if (this.stopping.signal.aborted) {
          // Shutting down: not the job's fault. Another worker (or our restart) takes it again.
          await this.store.retryLater(job, this.worker, 0, describeError(err)).catch(() => undefined);
          return;
        }
        if (!(err instanceof PermanentJobError) && job.attempts < options.maxAttempts) {
          const delay = backoffMs(job.attempts, options.retryBaseMs, options.retryMaxMs);
          this.logger.warn({ err: describeError(err), delay_ms: delay }, 'job attempt failed; retrying');
          await this.store.retryLater(job, this.worker, delay, describeError(err)).catch(() => undefined);
          countJob(this.definition.name, 'retried');
          return;
        }
        this.logger.warn({ err: describeError(err) }, 'job out of attempts; reporting the failure');
        await this.store.noteError(job, describeError(err)).catch(() => undefined);
        report = this.definition.giveUp(job, err);
        givingUp = true;
      }
      await this.report(job, report, givingUp);
    });
  }

  private async withTimeout(job: Job<P>): Promise<ProcessorReport> {
    const { attemptTimeoutMs } = this.deps.options;
    const signal = AbortSignal.any([this.stopping.signal, AbortSignal.timeout(attemptTimeoutMs)]);
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(new Error(`attempt aborted after ${attemptTimeoutMs} ms or on shutdown`));
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([this.definition.run(job, signal), aborted]);
    } finally {
      signal.removeEventListener('abort', onAbort!);
    }
  }

  /** Sends the report; its command id derives from the job, so a repeat is a duplicate. */
  private async report(job: Job<P>, report: ProcessorReport, givingUp: boolean): Promise<void> {
    const commandId = idFromKey('job-report', `${job.id}/${report.type}`);
    try {
      const sent = await this.deps.bus.send(report.context, {
        command_id: commandId,
        type: report.type,
        aggregate_id: report.aggregate_id,
        issued_at: new Date().toISOString(),
        actor: this.actor,
        correlation_id: job.id,
        data: report.data,
      });
      if (sent.status === 'pending') {
        // In the log, not yet decided: look again shortly (the repeat is a duplicate).
        await this.store.retryLater(job, this.worker, this.deps.options.retryBaseMs, {
          name: 'ReportPending',
          message: `command ${commandId} not decided yet`,
        });
        countJob(this.definition.name, 'retried');
        return;
      }
      const { reply } = sent;
      const result = { command_id: commandId, command_type: report.type, outcome: reply.outcome, error: reply.error };
      if (reply.outcome === 'rejected') {
        this.logger.warn({ error: reply.error }, 'the decider rejected the report');
        await this.store.finish(job, this.worker, 'rejected', result);
        countJob(this.definition.name, 'rejected');
      } else {
        await this.store.finish(job, this.worker, givingUp ? 'failed' : 'succeeded', result);
        countJob(this.definition.name, givingUp ? 'failed' : 'succeeded', report.data);
      }
    } catch (err) {
      this.logger.warn({ err: describeError(err) }, 'report not sent; retrying');
      await this.store
        .retryLater(job, this.worker, this.deps.options.retryBaseMs, describeError(err))
        .catch(() => undefined);
      countJob(this.definition.name, 'retried');
    }
  }
}
