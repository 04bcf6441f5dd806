import { createCommandClient } from '../../messaging/commandClient';
import type { MessageCodec } from '../../messaging/messageCodec';
import type { Config } from '../../platform/config';
import type { Platform } from '../../platform/platform';
import { ProcessorRuntime, type ProcessorOptions } from '../../processors/runtime/processor';
import { webhookSecretsFrom } from '../secrets';
import { classifyAddress, isForbiddenAddress, webhookUrlPolicy } from '../urlPolicy';
import { webhookDeliveryProcessor, type DeadLetteredDelivery } from './deliveryProcessor';
import type { SenderOptions } from './httpSender';
import { parseRetrySchedule, type RetryPolicy } from './retryPolicy';

/** Time an attempt may take beyond the HTTP timeout (recording it, resolving the host). */
const ATTEMPT_MARGIN_MS = 2000;

export function webhookRetryPolicy(
  config: Pick<Config, 'WEBHOOK_RETRY_SCHEDULE' | 'WEBHOOK_RETRY_AFTER_MAX_MS'>,
): RetryPolicy {
  return {
    schedule: parseRetrySchedule(config.WEBHOOK_RETRY_SCHEDULE),
    retryAfterMaxMs: config.WEBHOOK_RETRY_AFTER_MAX_MS,
  };
}

/** The processor runtime's settings for deliveries, from the WEBHOOK_* variables. */
export function webhookProcessorOptions(config: Config): ProcessorOptions {
  const attemptTimeoutMs = config.WEBHOOK_TIMEOUT_MS + ATTEMPT_MARGIN_MS;
  return {
    concurrency: config.WEBHOOK_CONCURRENCY,
    laneConcurrency: config.WEBHOOK_CONCURRENCY_PER_SUBSCRIPTION,
    maxAttempts: webhookRetryPolicy(config).schedule.length + 1,
    attemptTimeoutMs,
    // A worker that died mid-attempt: its delivery is tried again soon after the attempt would have ended.
    leaseMs: attemptTimeoutMs + 5000,
    // Only for retrying what follows an attempt (recording a dead letter); attempts follow the schedule.
    retryBaseMs: config.PROCESSOR_RETRY_BASE_MS,
    retryMaxMs: config.PROCESSOR_RETRY_MAX_MS,
    pollMs: config.PROCESSOR_POLL_MS,
  };
}

/** Where deliveries may connect: the URL policy, again, for every address at every attempt. */
export function webhookSenderOptions(config: Config): SenderOptions {
  const policy = webhookUrlPolicy(config);
  return {
    timeoutMs: config.WEBHOOK_TIMEOUT_MS,
    userAgent: `microcred-webhooks/1 (${config.SERVICE_NAME})`,
    refuse: (address, url) => {
      const kind = classifyAddress(address);
      if (isForbiddenAddress(address, policy)) return `${kind.replace('_', '-')} addresses are not allowed`;
      if (url.protocol === 'http:' && kind !== 'loopback') return 'plain http is allowed only to loopback';
      return undefined;
    },
  };
}

/**
 * The webhook deliverer of this process (the `processors` role): a processor runtime over the
 * public topic and the identity events, with a command client of its own (for the 410 Gone
 * disable) and a producer for the dead-letter topic.
 */
export async function startWebhookDeliveries(
  platform: Platform,
  codec: MessageCodec,
): Promise<{ stop: () => Promise<void> }> {
  const { config, logger } = platform;
  if (!config.WEBHOOK_SECRETS_KEY) {
    logger.warn('WEBHOOK_SECRETS_KEY is not set: webhook deliveries are off (no subscription can be signed for)');
    return { stop: () => Promise.resolve() };
  }
  const client = await createCommandClient(platform, codec, 'webhooks');
  const producer = platform.kafka.producer('webhook-deadletters');
  await producer.connect();
  const deadLetter = async (record: DeadLetteredDelivery) => {
    await producer.send({
      topic: platform.topics.deadLetter,
      messages: [
        {
          key: record.delivery_id,
          value: JSON.stringify(record),
          headers: {
            reason: 'webhook_delivery_failed',
            'content-type': 'application/json',
            delivery_id: record.delivery_id,
            subscription_id: record.subscription_id,
            webhook_id: record.webhook_id,
            error: `${record.error.name}: ${record.error.message}`.slice(0, 500),
          },
        },
      ],
    });
  };
  const runtime = new ProcessorRuntime(
    webhookDeliveryProcessor({
      pool: platform.pool,
      scope: config.KAFKA_TOPIC_PREFIX,
      topics: platform.topics,
      avro: platform.codec,
      codec,
      secrets: webhookSecretsFrom(platform.pool, config),
      bus: client.bus,
      deadLetter,
      sender: webhookSenderOptions(config),
      retry: webhookRetryPolicy(config),
      logger: logger.child({ component: 'webhooks' }),
    }),
    { platform, codec, bus: client.bus, options: webhookProcessorOptions(config) },
  );
  await runtime.start();
  logger.info(
    { concurrency: config.WEBHOOK_CONCURRENCY, per_subscription: config.WEBHOOK_CONCURRENCY_PER_SUBSCRIPTION },
    'webhook deliveries started',
  );
  return {
    stop: async () => {
      await runtime.stop();
      await producer.disconnect().catch(() => undefined);
      await client.stop();
    },
  };
}
