import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { allProjections } from '../projections';
import { ProjectionRunner } from '../projections/runtime/projectionRunner';
import { createApp } from './api/app';
import { ensureBootstrapAdmin } from './api/auth/authRoutes';
import { bootstrap } from './bootstrap/bootstrap';
import type { DeciderRuntime } from './deciders/deciderRuntime';
import { startDeciders } from './deciders/startDeciders';
import { createCommandClient } from './messaging/commandClient';
import { MessageCodec } from './messaging/messageCodec';
import type { Config } from './platform/config';
import { checkReadiness } from './platform/health';
import { createPlatform, type Platform } from './platform/platform';
import type { Embeddings } from './processors/embeddings/embeddings';
import { createProcessEmbeddings, startProcessors } from './processors/startProcessors';
import { SearchProjectionRunner } from '../projections/search/searchProjectionRunner';
import { kafkaAssessmentReplay } from './replay/logSource';
import { projectionOperations } from './api/projections/projectionOperations';
import { startPublisher } from './publisher/publisher';
import { startWebhookDeliveries } from './webhooks/delivery/startWebhookDeliveries';

export interface RunningMicrocred {
  platform: Platform;
  /** Base URL of the API, when this process serves it. */
  url?: string;
  deciders: DeciderRuntime[];
  stop: () => Promise<void>;
}

/**
 * Builds and starts the parts of microcred that `config.ROLES` names: `deciders` (the only
 * writers of events), `processors` (essay scoring, recommendations), `projections` (read models and
 * the search indexes) and `api` (HTTP). Bootstraps topics, schemas and migrations first. Used by
 * the process entry point and by the tests.
 */
export async function startMicrocred(config: Config, name = 'app'): Promise<RunningMicrocred> {
  const platform = await createPlatform(config, name);
  const { logger } = platform;
  logger.info(await bootstrap(platform), 'bootstrap complete');
  const codec = new MessageCodec(platform.codec, platform.topics);
  const stops: (() => Promise<void>)[] = [];
  let deciders: DeciderRuntime[] = [];

  if (config.ROLES.includes('deciders')) {
    deciders = await startDeciders(platform, codec);
    logger.info('deciders started');
    stops.push(() => Promise.all(deciders.map((r) => r.stop())).then(() => undefined));
  }
  // One embedding model per process, for the processors and the search projection.
  let embeddings: Embeddings | undefined;
  if (config.ROLES.includes('processors') || config.ROLES.includes('projections')) {
    embeddings = await createProcessEmbeddings(platform);
    const model = embeddings;
    stops.push(() => model.close());
  }
  if (config.ROLES.includes('processors')) {
    const processors = await startProcessors(platform, codec, embeddings!);
    logger.info({ llm: processors.llm !== null }, 'processors started');
    stops.unshift(processors.stop);
    const publisher = await startPublisher(platform, codec);
    stops.unshift(() => publisher.stop());
    const webhooks = await startWebhookDeliveries(platform, codec);
    stops.unshift(webhooks.stop);
  }
  if (config.ROLES.includes('projections')) {
    const runners = [
      ...allProjections.map((p) => new ProjectionRunner(platform, codec, p)),
      new SearchProjectionRunner(platform, codec, embeddings!),
    ];
    await Promise.all(runners.map((r) => r.start()));
    logger.info('projections started');
    stops.splice(-1, 0, () => Promise.all(runners.map((r) => r.stop())).then(() => undefined));
  }
  let server: Server | undefined;
  const background = new AbortController();
  if (config.ROLES.includes('api')) {
    const client = await createCommandClient(platform, codec, name);
    logger.info('command client started');
    stops.unshift(client.stop);
    // Rebuilds started through the admin API run here; stopping leaves them resumable.
    const projections = projectionOperations(platform, codec);
    stops.unshift(projections.stop);
    const deps = {
      config,
      logger,
      pool: platform.pool,
      bus: client.bus,
      replies: client.replies,
      readiness: () => checkReadiness(platform),
      replay: kafkaAssessmentReplay(platform, codec),
      projections,
    };
    server = createApp(deps).listen(config.PORT, config.HOST);
    await new Promise<void>((resolve, reject) => server!.once('listening', resolve).once('error', reject));
    void ensureBootstrapAdmin(deps, background.signal);
  }
  const address = server?.address() as AddressInfo | undefined;
  return {
    platform,
    deciders,
    ...(address ? { url: `http://${config.HOST}:${address.port}` } : {}),
    stop: async () => {
      background.abort();
      if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
      for (const s of stops) await s().catch((err: unknown) => logger.warn({ err }, 'error while stopping'));
      await platform.close();
    },
  };
}
