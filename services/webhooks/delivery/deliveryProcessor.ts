import { performance } from 'node:perf_hooks';
import type { Pool } from 'pg';
import { idFromKey, isUuid } from '../../../domain/shared/ids';
import type { RawRecord } from '../../../projections/runtime/projection';
import { webhookSubscriptionById, webhookSubscriptionsFor } from '../../../projections/webhooks/queries';
import type { CommandBus } from '../../messaging/commandBus';
import type { EventEnvelope, Position } from '../../messaging/envelopes';
import type { MessageCodec } from '../../messaging/messageCodec';
import type { AvroCodec } from '../../platform/avro';
import type { Topics } from '../../platform/config';
import type { Logger } from '../../platform/logger';
import { readPublicRecord, webhookPayload, type PublicEvent } from '../../publisher/publicEvents';
import type { JobIntake } from '../../processors/runtime/jobs';
import {
  CancelJobError,
  DeferJobError,
  describeError,
  PauseLaneError,
  type ProcessorDefinition,
} from '../../processors/runtime/processor';
import {
  DELIVERY_JOB_TYPE,
  deliveryKey,
  endAttempt,
  startAttempt,
  WEBHOOKS_ACTOR,
  type DeliveryPayload,
} from './deliveries';
import { DeliveryError, postWebhook, type SenderOptions } from './httpSender';
import { parseRetryAfter, retryDelayMs, type RetryPolicy } from './retryPolicy';
import { signedHeaders } from './signature';

/**
 * The webhook deliverer, written as a processor (services/processors/runtime):
 *
 * - intake: each public event becomes one delivery per subscription that asked for its type
 *   (in the same transaction as the consumed offset: exactly once), in the subscription's lane,
 *   ordered per assessment when the subscription asked for order. The identity events pause a
 *   subscription's lane when it is disabled, resume it when it is enabled again, and cancel its
 *   deliveries when it is deleted: parked deliveries use no attempts and resume where they were.
 * - run: one signed POST (Standard Webhooks), every attempt recorded; 2xx is delivered; 410 Gone
 *   disables the subscription (a command, so the decider has the last word) and parks its lane;
 *   anything else is retried on the schedule, not before a 429/503's Retry-After.
 * - giveUp: the delivery is dead-lettered (its record on the dead-letter topic), redeliverable.
 */

/** How long a delivery waits when its subscription turns out to be disabled (its lane is being paused). */
const DISABLED_RECHECK_MS = 1000;

/** A response that is not a success: retried on the schedule (or, for 429/503, after Retry-After). */
export class DeliveryFailedError extends Error {
  override name = 'DeliveryFailedError';
  constructor(
    readonly status: number,
    readonly retryAfterMs: number | undefined,
  ) {
    super(`the endpoint answered ${status}`);
  }
}

/** What the dead-letter topic gets for a delivery out of attempts. */
export interface DeadLetteredDelivery {
  delivery_id: string;
  subscription_id: string;
  webhook_id: string;
  event_type: string;
  attempts: number;
  error: { name: string; message: string };
  /** The JSON body that was being delivered (the public event: no personal data). */
  body: string;
}

export interface DeliveryDeps {
  pool: Pool;
  /** The topic prefix: subscriptions and jobs are this system's. */
  scope: string;
  topics: Topics;
  /** Decodes the public topic's values (and the identity events, through `codec`). */
  avro: AvroCodec;
  codec: MessageCodec;
  secrets: { signingSecrets(subscriptionId: string, now?: Date): Promise<string[]> };
  bus: CommandBus;
  deadLetter: (record: DeadLetteredDelivery) => Promise<void>;
  sender: SenderOptions;
  retry: RetryPolicy;
  logger: Logger;
}

/** What the intake consumes: public events (the public topic) and identity events. */
export type DeliveryInput = PublicEvent | EventEnvelope;

export function webhookDeliveryProcessor(deps: DeliveryDeps): ProcessorDefinition<DeliveryPayload, DeliveryInput> {
  const { pool, scope, topics } = deps;
  const isPublic = (event: DeliveryInput & Position): event is PublicEvent & Position =>
    event.topic === topics.publicAssessment;

  return {
    name: DELIVERY_JOB_TYPE,
    topics: (t) => [t.publicAssessment, t.identity.events],

    async decode(record: RawRecord) {
      if (record.topic !== topics.publicAssessment) return deps.codec.decode<EventEnvelope>(record.value);
      const event = await readPublicRecord(deps.avro, record);
      // Confluent wire format: magic byte 0, then the schema id (big-endian).
      return { schemaId: record.value.length >= 5 ? record.value.readInt32BE(1) : 0, value: event };
    },

    async intake(event, jobs) {
      if (isPublic(event)) return takeInPublicEvent(event, jobs);
      await takeInIdentityEvent(event, jobs);
    },

    async run(job, signal) {
      const p = job.payload;
      const subscription = await webhookSubscriptionById(pool, p.subscription_id, scope);
      if (!subscription) throw new CancelJobError('the subscription was deleted');
      if (!subscription.enabled) {
        throw new DeferJobError('the subscription is disabled; its deliveries wait', DISABLED_RECHECK_MS);
      }
      const secrets = await deps.secrets.signingSecrets(subscription.id);
      if (secrets.length === 0) throw new Error('the subscription has no signing secret');

      const startedAt = new Date();
      const attempt = await startAttempt(pool, {
        delivery_id: job.id,
        subscription_id: subscription.id,
        webhook_id: p.webhook_id,
        url: subscription.url,
        started_at: startedAt,
      });
      const headers = signedHeaders(secrets, p.webhook_id, p.body, startedAt);
      const t0 = performance.now();
      const elapsed = () => Math.round(performance.now() - t0);
      let status: number;
      let retryAfter: string | undefined;
      try {
        const response = await postWebhook(subscription.url, p.body, { ...headers }, deps.sender, signal);
        status = response.status;
        const header = response.headers['retry-after'];
        retryAfter = Array.isArray(header) ? header[0] : header;
        await endAttempt(pool, job.id, attempt, {
          duration_ms: elapsed(),
          response_code: status,
          response_body: response.body,
          error: null,
        });
      } catch (err) {
        const message = err instanceof DeliveryError ? `${err.kind}: ${err.message}` : describeError(err).message;
        await endAttempt(pool, job.id, attempt, {
          duration_ms: elapsed(),
          response_code: null,
          response_body: null,
          error: message.slice(0, 1000),
        }).catch(() => undefined);
        throw err;
      }
      if (status >= 200 && status < 300) return null;
      if (status === 410) {
        const reason = `The endpoint answered 410 Gone (delivery ${job.id}, ${startedAt.toISOString()})`;
        await disableSubscription(subscription.id, subscription.version, job.id, reason);
        throw new PauseLaneError(reason);
      }
      const honoured = status === 429 || status === 503 ? parseRetryAfter(retryAfter) : undefined;
      throw new DeliveryFailedError(status, honoured);
    },

    async giveUp(job, error) {
      const p = job.payload;
      await deps.deadLetter({
        delivery_id: job.id,
        subscription_id: p.subscription_id,
        webhook_id: p.webhook_id,
        event_type: p.event_type,
        attempts: job.attempts,
        error: describeError(error),
        body: p.body,
      });
      deps.logger.warn(
        { delivery_id: job.id, subscription_id: p.subscription_id, webhook_id: p.webhook_id, attempts: job.attempts },
        'webhook delivery dead-lettered',
      );
      return null;
    },

    retryDelayMs(job, error) {
      const retryAfterMs = error instanceof DeliveryFailedError ? error.retryAfterMs : undefined;
      return retryDelayMs(deps.retry, job.attempts, retryAfterMs) ?? 0;
    },
  };

  async function takeInPublicEvent(event: PublicEvent & Position, jobs: JobIntake<DeliveryPayload>): Promise<void> {
    const subscriptions = await webhookSubscriptionsFor(jobs.db, event.type, scope);
    const eventTime = Date.parse(event.time);
    for (const subscription of subscriptions) {
      // A subscription gets the events that happen once it exists, not the topic's history.
      if (eventTime < Date.parse(subscription.created_at)) continue;
      await jobs.create({
        key: deliveryKey(subscription.id, event.id),
        assessment_id: isUuid(event.subject) ? event.subject : null,
        status: 'queued',
        lane: subscription.id,
        // The public topic is keyed by assessment: its offsets are the assessment's order.
        seq: event.offset,
        ...(subscription.ordered ? { orderKey: `${subscription.id}/${event.subject}` } : {}),
        payload: {
          subscription_id: subscription.id,
          webhook_id: event.id,
          event_type: event.type,
          event_time: event.time,
          body: JSON.stringify(webhookPayload(event)),
        },
      });
    }
  }

  async function takeInIdentityEvent(event: EventEnvelope, jobs: JobIntake<DeliveryPayload>): Promise<void> {
    switch (event.type) {
      case 'WebhookSubscriptionDisabled': {
        const reason = (event.data as { reason?: string | null }).reason ?? null;
        await jobs.pauseLane(event.aggregate_id, reason ?? 'disabled');
        return;
      }
      case 'WebhookSubscriptionEnabled':
        await jobs.resumeLane(event.aggregate_id);
        return;
      case 'WebhookSubscriptionDeleted':
        await jobs.cancelLane(event.aggregate_id, 'the subscription was deleted');
        return;
      default:
        return;
    }
  }

  /**
   * Disables a subscription whose endpoint is gone. The command id derives from the subscription's
   * version, so the deliveries in flight that all see the 410 send one command (the decider drops
   * the repeats). Sent before the lane is paused: a pause without the disable would leave an
   * "enabled" subscription that nothing delivers to.
   */
  async function disableSubscription(subscriptionId: string, version: number, jobId: string, reason: string) {
    const sent = await deps.bus.send('identity', {
      command_id: idFromKey('webhook-gone', `${subscriptionId}/${version}`),
      type: 'DisableWebhookSubscription',
      aggregate_id: subscriptionId,
      issued_at: new Date().toISOString(),
      actor: { ...WEBHOOKS_ACTOR },
      correlation_id: jobId,
      data: { subscription_id: subscriptionId, reason },
    });
    if (sent.status === 'replied' && sent.reply.outcome === 'rejected') {
      // Already disabled (or deleted): nothing to undo, the lane is paused all the same.
      deps.logger.info({ subscription_id: subscriptionId, error: sent.reply.error }, 'disable after 410 rejected');
    }
  }
}
