import { boundedContexts } from '../../domain';
import type { MessageCodec } from '../messaging/messageCodec';
import type { Platform } from '../platform/platform';
import { DeciderRuntime } from './deciderRuntime';

/** One decider runtime per bounded context, all in this process. */
export async function startDeciders(platform: Platform, codec: MessageCodec): Promise<DeciderRuntime[]> {
  const runtimes = boundedContexts.map(
    (context) =>
      new DeciderRuntime({
        platform,
        context,
        codec,
        instanceId: platform.config.INSTANCE_ID,
        snapshotEvery: platform.config.DECIDER_SNAPSHOT_EVERY,
        idempotencyWindowMs: platform.config.IDEMPOTENCY_WINDOW_SECONDS * 1000,
      }),
  );
  await Promise.all(runtimes.map((r) => r.start()));
  return runtimes;
}
