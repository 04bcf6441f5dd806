import { idFromKey } from '../../../domain/shared/ids';
import type { CommandBus } from '../../messaging/commandBus';
import type { Logger } from '../../platform/logger';
import type { Pool } from '../../platform/postgres/pool';
import { describeError } from '../runtime/processor';
import { RECOMMENDATIONS } from './assessmentFacts';

/**
 * The backstop behind every job's own attempts and timeouts: an assessment of this deployment
 * (it has a recommendation job in this scope) still awaiting async work `deadlineMs` after it
 * was submitted is failed, with a reason, so that nothing waits forever (a job rejected by the
 * decider, an event never taken in). The command id derives from the assessment, so several
 * instances sweeping at once send one command, and a late sweep after completion is refused
 * by the decider and changes nothing.
 */
export class AsyncDeadline {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly deps: { pool: Pool; bus: CommandBus; logger: Logger; scope: string },
    private readonly options: { deadlineMs: number; checkEveryMs: number },
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.running ??= this.sweep()
        .then(() => undefined)
        .catch((err: unknown) => this.deps.logger.warn({ err: describeError(err) }, 'async deadline sweep failed'))
        .finally(() => (this.running = undefined));
    }, this.options.checkEveryMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Fails every overdue assessment; returns how many were sent a FailAssessment. */
  async sweep(): Promise<number> {
    const { rows } = await this.deps.pool.query<{ id: string }>(
      `SELECT a.id FROM assessments a
       JOIN async_jobs j ON j.scope = $1 AND j.job_key = $2 || '/' || a.id::text || '/evidence'
       WHERE a.status = 'awaiting_async'
         AND a.submitted_at < NOW() - make_interval(secs => $3::double precision / 1000)
       ORDER BY a.submitted_at LIMIT 100`,
      [this.deps.scope, RECOMMENDATIONS, this.options.deadlineMs],
    );
    for (const { id } of rows) {
      const seconds = Math.round(this.options.deadlineMs / 1000);
      const sent = await this.deps.bus.send('assessment', {
        command_id: idFromKey('async-deadline', id),
        type: 'FailAssessment',
        aggregate_id: id,
        issued_at: new Date().toISOString(),
        actor: { id: 'system:async-deadline', role: 'system' },
        correlation_id: id,
        data: {
          assessment_id: id,
          reason: `Processing did not finish within ${seconds} s of submission (ASYNC_DEADLINE_MS); the assessment was failed so that it does not wait forever.`,
        },
      });
      this.deps.logger.warn(
        { assessment_id: id, outcome: sent.status === 'replied' ? sent.reply.outcome : 'pending' },
        'assessment past its async deadline; failed',
      );
    }
    return rows.length;
  }
}
