import { ProjectionRebuilds } from '../../../projections/runtime/rebuild/rebuilds';
import type { MessageCodec } from '../../messaging/messageCodec';
import { DependencyUnavailableError } from '../../platform/errors';
import type { Platform } from '../../platform/platform';
import { isDatabaseUnavailable } from '../../platform/postgres/pool';
import { EventLog } from '../../replay/eventLog';
import { projectionStatus, type PartitionLag } from '../../replay/projectionStatus';

/** What the admin API does to projections: read their lag, run their rebuilds. */
export interface ProjectionOperations {
  status(): Promise<PartitionLag[]>;
  rebuilds: Pick<ProjectionRebuilds, 'start' | 'resume' | 'cancel' | 'get' | 'list'>;
  /** Stops the rebuilds running in this process (each stays resumable). */
  stop(): Promise<void>;
}

/** The operations over this process's platform: each status read opens (and closes) a reader of its own. */
export function projectionOperations(platform: Platform, codec: MessageCodec): ProjectionOperations {
  const rebuilds = new ProjectionRebuilds({ ...platform, codec });
  return {
    async status() {
      let log: EventLog | undefined;
      try {
        log = await EventLog.open({ ...platform, codec, name: 'api-projections-status' });
        return await projectionStatus({
          pool: platform.pool,
          admin: platform.kafkaAdmin,
          log,
          topics: platform.topics,
        });
      } catch (err) {
        // PostgreSQL down is the error middleware's 503; anything else here is the log not answering.
        if (isDatabaseUnavailable(err)) throw err;
        platform.logger.warn({ err }, 'reading the projections status failed');
        throw new DependencyUnavailableError('kafka', 'the event log cannot be read now; retry later');
      } finally {
        await log?.close().catch(() => undefined);
      }
    },
    rebuilds,
    stop: () => rebuilds.stop(),
  };
}
