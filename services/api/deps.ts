import type { Pool } from 'pg';
import type { CommandBus } from '../messaging/commandBus';
import type { ReplyListener } from '../messaging/replyListener';
import type { Config } from '../platform/config';
import type { Readiness } from '../platform/health';
import type { Logger } from '../platform/logger';
import type { AssessmentReplay } from '../replay/logSource';
import type { ProjectionOperations } from './projections/projectionOperations';
import { waitForProjection } from '../../projections/runtime/readYourWrites';

/** Everything the HTTP adapter needs, passed in by the composition root. */
export interface ApiDeps {
  config: Config;
  logger: Logger;
  pool: Pool;
  bus: CommandBus;
  replies: ReplyListener;
  readiness: () => Promise<{ ready: boolean; dependencies: Readiness }>;
  /** An assessment as of an instant, recomputed from the event log. */
  replay: AssessmentReplay;
  /** Projections' lag and rebuilds (admin). */
  projections: ProjectionOperations;
}

/**
 * Read-your-writes: before a query about `aggregateId`, wait (bounded) until `projection` has
 * applied the newest write anyone made to it through the API.
 */
export function awaitProjection(deps: ApiDeps, projection: string, aggregateId: string): Promise<boolean> {
  return waitForProjection(
    deps.pool,
    projection,
    deps.replies.lastWriteOf(aggregateId),
    deps.config.READ_YOUR_WRITES_TIMEOUT_MS,
  );
}
