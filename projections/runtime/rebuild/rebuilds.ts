import type { Logger } from '../../../services/platform/logger';
import {
  abandonRebuild,
  RebuildInterrupted,
  resumeRebuild,
  startRebuild,
  type RebuildDeps,
  type RebuildOptions,
  type RunningRebuild,
} from './rebuild';
import { findRebuild, listRebuilds, rebuildErrors, type RebuildRecord } from './registry';

/**
 * The rebuilds a long-lived process (the API) runs in the background: started, resumed and
 * cancelled on request, followed through the registry, stopped (left resumable) at shutdown.
 */
export class ProjectionRebuilds {
  private readonly running = new Map<string, { controller: AbortController; done: Promise<unknown> }>();
  private readonly logger: Logger;

  constructor(
    private readonly deps: RebuildDeps,
    private readonly options: Pick<RebuildOptions, 'concurrency' | 'batchSize'> = {},
  ) {
    this.logger = deps.logger.child({ component: 'rebuilds' });
  }

  /** Starts a rebuild of one projection; answers once it is registered (it runs on). */
  start(projection: string, requestedBy: string): Promise<RebuildRecord> {
    return this.launch((signal) => startRebuild(this.deps, [projection], this.run(requestedBy, signal)));
  }

  /** Resumes an interrupted rebuild. */
  resume(id: string, requestedBy: string): Promise<RebuildRecord> {
    return this.launch((signal) => resumeRebuild(this.deps, id, this.run(requestedBy, signal)));
  }

  /** Stops a rebuild running here and drops it; drops an interrupted one; refuses one running elsewhere. */
  async cancel(id: string): Promise<RebuildRecord> {
    const here = this.running.get(id);
    if (here) {
      here.controller.abort();
      await here.done;
    }
    return abandonRebuild(this.deps, id);
  }

  async get(id: string): Promise<RebuildRecord> {
    const found = await findRebuild(this.deps.pool, id);
    if (!found || found.topic_prefix !== this.deps.config.KAFKA_TOPIC_PREFIX) throw rebuildErrors.notFound(id);
    return found;
  }

  list(limit = 20): Promise<RebuildRecord[]> {
    return listRebuilds(this.deps.pool, this.deps.config.KAFKA_TOPIC_PREFIX, limit);
  }

  /** Stops every rebuild running here; each stays resumable. */
  async stop(): Promise<void> {
    const all = [...this.running.values()];
    for (const r of all) r.controller.abort();
    await Promise.all(all.map((r) => r.done));
  }

  private run(requestedBy: string, signal: AbortSignal): RebuildOptions {
    return { ...this.options, requestedBy, signal };
  }

  private async launch(begin: (signal: AbortSignal) => Promise<RunningRebuild>): Promise<RebuildRecord> {
    const controller = new AbortController();
    const { record, done } = await begin(controller.signal);
    const settled = done.then(
      (r) => this.logger.info({ rebuild_id: r.id, projections: r.projections }, 'rebuild swapped in'),
      (err: unknown) => {
        if (err instanceof RebuildInterrupted) return;
        this.logger.error({ err: (err as Error).message, rebuild_id: record.id }, 'rebuild did not finish');
      },
    );
    this.running.set(record.id, { controller, done: settled });
    void settled.finally(() => this.running.delete(record.id));
    return record;
  }
}
