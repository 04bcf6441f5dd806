import type { Actor } from '../../../domain/shared/decider';
import { idFromKey } from '../../../domain/shared/ids';
import type { RawRecord } from '../../../projections/runtime/projection';
import { ProjectionRunner } from '../../../projections/runtime/projectionRunner';
import type { CommandBus } from '../../messaging/commandBus';
import type { ContextName, EventEnvelope, Position } from '../../messaging/envelopes';
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
 * - `run(job, signal)`: the work, ending in the command that reports it (throw to retry), or in
 *   null when the work is its own outcome (a webhook delivered: there is nothing to decide);
 * - `giveUp(job, error)`: the command that reports a job out of attempts (or null).
 *
 * Optionally: `decode` for topics that are not our event envelopes (the public topic's
 * CloudEvents), `retryDelayMs` for a schedule of one's own (a partner's Retry-After), and lanes
 * (`NewJob.lane`, `ProcessorOptions.laneConcurrency`): per-lane concurrency caps, per-key order,
 * and lanes paused while their destination is switched off.
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

export interface ProcessorDefinition<P extends object, E = EventEnvelope> {
  /** Also the job type in `async_jobs`, e.g. `essay_scoring`. */
  name: string;
  topics: (topics: Topics) => string[];
  /** Decodes a consumed record; default: an event envelope through the registry. */
  decode?: (record: RawRecord) => Promise<{ schemaId: number; value: E }>;
  intake: (event: E & Position, jobs: JobIntake<P>) => Promise<void>;
  run: (job: Job<P>, signal: AbortSignal) => Promise<ProcessorReport | null>;
  giveUp: (job: Job<P>, error: unknown) => ProcessorReport | null | Promise<ProcessorReport | null>;
  /** The wait before the next attempt once attempt `job.attempts` failed; default: exponential backoff. */
  retryDelayMs?: (job: Job<P>, error: unknown) => number;
}

/** Thrown by `run` when retrying cannot help: the job is given up at once. */
export class PermanentJobError extends Error {
  override name = 'PermanentJobError';
}

/** Thrown by `run` when the job no longer has a purpose (what it was for was deleted): it is cancelled. */
export class CancelJobError extends Error {
  override name = 'CancelJobError';
}

/** Thrown by `run` before doing any work: the job waits `delayMs` and its attempt is not counted. */
export class DeferJobError extends Error {
  override name = 'DeferJobError';
  constructor(
    message: string,
    readonly delayMs: number,
  ) {
    super(message);
  }
}

/**
 * Thrown by `run` when the job's destination is switched off (a webhook endpoint answered 410):
 * the job's lane is paused (the attempt counts, the job waits with the lane's others) until an
 * intake resumes it.
 */
export class PauseLaneError extends Error {
  override name = 'PauseLaneError';
  constructor(readonly reason: string) {
    super(reason);
  }
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
  /** Jobs of one lane run at once, at most (lanes: `NewJob.lane`); default: no cap. */
  laneConcurrency?: number;
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

export class ProcessorRuntime<P extends object, E = EventEnvelope> {
  private readonly logger: Logger;
  private readonly store: JobStore;
  private readonly intake: ProjectionRunner<E>;
  private readonly worker: string;
  private readonly actor: Actor;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly stopping = new AbortController();
  private wake: (() => void) | undefined;
  /** Something happened since the last claim began (a job ended, jobs arrived): claim again at once. */
  private woken = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly definition: ProcessorDefinition<P, E>,
    private readonly deps: ProcessorDeps,
  ) {
    const { platform } = deps;
    const scope = platform.config.KAFKA_TOPIC_PREFIX;
    this.logger = platform.logger.child({ component: 'processor', processor: definition.name });
    this.store = new JobStore(platform.pool, scope, definition.name, deps.options.laneConcurrency);
    this.worker = `${platform.config.INSTANCE_ID}-${process.pid}`;
    this.actor = { id: `system:${definition.name}`, role: 'system' };
    this.intake = new ProjectionRunner<E>(platform, deps.codec, {
      name: `processor.${definition.name}`,
      topics: definition.topics,
      // Jobs, not a read model: a processor's intake is never rebuilt (it is not in allProjections).
      tables: [],
      ...(definition.decode ? { decode: definition.decode } : {}),
      apply: (client, event) => definition.intake(event, new JobIntake<P>(client, scope, definition.name)),
    });
  }

  async start(): Promise<void> {
    this.intake.onProgress(() => this.nudge());
    await this.intake.start();
    this.loop = this.run();
    this.logger.info({ worker: this.worker }, 'processor started');
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    this.nudge();
    await this.intake.stop();
    await this.loop;
    await Promise.allSettled([...this.inFlight]);
  }

  private async run(): Promise<void> {
    const { options } = this.deps;
    while (!this.stopping.signal.aborted) {
      this.woken = false;
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
          this.nudge();
        });
        this.inFlight.add(attempt);
      }
      // Every due job that fits was claimed: wait for a slot, new jobs or the next poll (at once
      // if one of those came while claiming: a wake-up is never lost).
      await this.sleep(options.pollMs);
    }
  }

  private nudge(): void {
    this.woken = true;
    this.wake?.();
  }

  private sleep(ms: number): Promise<void> {
    if (this.woken) return Promise.resolve();
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
      let report: ProcessorReport | null;
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
        if (err instanceof CancelJobError) {
          this.logger.info({ reason: err.message }, 'job cancelled');
          await this.store.cancel(job, this.worker, err.message).catch(() => undefined);
          return;
        }
        if (err instanceof DeferJobError) {
          await this.store.defer(job, this.worker, err.delayMs, undefined).catch(() => undefined);
          return;
        }
        if (err instanceof PauseLaneError && job.lane !== null) {
          this.logger.warn({ lane: job.lane, reason: err.reason }, 'lane paused');
          await this.store.pauseLane(job.lane, err.reason).catch(() => undefined);
          await this.store.retryLater(job, this.worker, 0, describeError(err)).catch(() => undefined);
          return;
        }
        if (!(err instanceof PermanentJobError) && job.attempts < options.maxAttempts) {
          const delay =
            this.definition.retryDelayMs?.(job, err) ??
            backoffMs(job.attempts, options.retryBaseMs, options.retryMaxMs);
          this.logger.warn({ err: describeError(err), delay_ms: delay }, 'job attempt failed; retrying');
          await this.store.retryLater(job, this.worker, delay, describeError(err)).catch(() => undefined);
          countJob(this.definition.name, 'retried');
          return;
        }
        this.logger.warn({ err: describeError(err) }, 'job out of attempts; reporting the failure');
        await this.store.noteError(job, describeError(err)).catch(() => undefined);
        givingUp = true;
        try {
          report = await this.definition.giveUp(job, err);
        } catch (giveUpError) {
          // Its give-up could not be recorded (e.g. the dead-letter topic is down): try again shortly.
          this.logger.warn({ err: describeError(giveUpError) }, 'giving up failed; retrying');
          await this.store
            .retryLater(job, this.worker, options.retryBaseMs, describeError(giveUpError))
            .catch(() => undefined);
          return;
        }
      }
      if (report === null) {
        await this.store.finish(job, this.worker, givingUp ? 'failed' : 'succeeded', null).catch((err: unknown) => {
          // Its lease lapses and it is claimed again: at least once, as the work itself.
          this.logger.warn({ err: describeError(err) }, 'finishing the job failed; it will be claimed again');
        });
        countJob(this.definition.name, givingUp ? 'failed' : 'succeeded');
        return;
      }
      await this.report(job, report, givingUp);
    });
  }

  private async withTimeout(job: Job<P>): Promise<ProcessorReport | null> {
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
