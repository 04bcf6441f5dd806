import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { isUuid } from '../../../domain/shared/ids';
import { webhookSubscriptionById, type WebhookSubscriptionView } from '../../../projections/webhooks/queries';
import { ConflictError, NotFoundError } from '../../platform/errors';
import { inTransaction } from '../../platform/postgres/pool';
import { JobIntake, JobStore } from '../../processors/runtime/jobs';
import {
  attemptsOf,
  deadLetteredIds,
  DELIVERY_JOB_TYPE,
  deliveryIdOf,
  deliveryKey,
  findDelivery,
  listDeliveries,
  TEST_EVENT_TYPE,
  type Delivery,
  type DeliveryAttempt,
  type DeliveryCursor,
  type DeliveryPayload,
  type DeliveryStatus,
} from './deliveries';

/** A delivery as the admin API and the CLI show it: the record and every attempt. */
export interface DeliveryDetails extends Omit<Delivery, 'attempts'> {
  attempt_count: number;
  attempts: DeliveryAttempt[];
}

const UNFINISHED: readonly DeliveryStatus[] = ['pending', 'delivering', 'retrying', 'parked'];

/**
 * What an operator does with a subscription's deliveries (the admin API and the CLI share it):
 * list them with their attempts, redeliver one or every dead letter, send a test event. A
 * redelivery is the same delivery run again from its first scheduled attempt, with the same
 * `webhook-id` (the partner may have processed it: the id lets it tell).
 */
export class DeliveryAdmin {
  private readonly store: JobStore;

  constructor(
    private readonly pool: Pool,
    private readonly scope: string,
  ) {
    this.store = new JobStore(pool, scope, DELIVERY_JOB_TYPE);
  }

  async subscription(id: string): Promise<WebhookSubscriptionView> {
    const found = await webhookSubscriptionById(this.pool, id, this.scope);
    if (!found) throw new NotFoundError(`Webhook subscription ${id} not found`, 'WEBHOOK_SUBSCRIPTION_NOT_FOUND');
    return found;
  }

  /** New work for a disabled subscription would only be parked: the operator is told to enable it first. */
  private async enabledSubscription(id: string): Promise<WebhookSubscriptionView> {
    const found = await this.subscription(id);
    if (!found.enabled) {
      throw new ConflictError(
        `Webhook ${id} is disabled${found.disabled_reason ? ` (${found.disabled_reason})` : ''}: enable it first; its deliveries are parked meanwhile`,
        'WEBHOOK_DISABLED',
      );
    }
    return found;
  }

  async list(
    subscriptionId: string,
    filter: { status?: DeliveryStatus; cursor?: DeliveryCursor; limit: number },
  ): Promise<{ items: DeliveryDetails[]; next_cursor: DeliveryCursor | null }> {
    await this.subscription(subscriptionId);
    const page = await listDeliveries(this.pool, this.scope, subscriptionId, filter);
    return { items: await this.withAttempts(page.items), next_cursor: page.next_cursor };
  }

  async get(subscriptionId: string, deliveryId: string): Promise<DeliveryDetails> {
    await this.subscription(subscriptionId);
    const found = isUuid(deliveryId)
      ? await findDelivery(this.pool, this.scope, subscriptionId, deliveryId.toLowerCase())
      : undefined;
    if (!found) throw new NotFoundError(`No delivery ${deliveryId} of webhook ${subscriptionId}`, 'DELIVERY_NOT_FOUND');
    return (await this.withAttempts([found]))[0]!;
  }

  /** Runs a finished delivery (dead-lettered, delivered or cancelled) again; 409 while it is still under way. */
  async redeliver(subscriptionId: string, deliveryId: string): Promise<DeliveryDetails> {
    await this.enabledSubscription(subscriptionId);
    const delivery = await this.get(subscriptionId, deliveryId);
    if (UNFINISHED.includes(delivery.status)) {
      throw new ConflictError(
        `Delivery ${deliveryId} is ${delivery.status}: it will be attempted anyway; redeliver it once it has finished`,
        'DELIVERY_NOT_FINISHED',
      );
    }
    await this.store.requeue([deliveryId]);
    return this.get(subscriptionId, deliveryId);
  }

  /** Runs every dead-lettered delivery of the subscription again. */
  async redeliverDeadLetters(subscriptionId: string): Promise<{ redelivered: number; delivery_ids: string[] }> {
    await this.enabledSubscription(subscriptionId);
    const ids = await this.store.requeue(await deadLetteredIds(this.pool, this.scope, subscriptionId));
    return { redelivered: ids.length, delivery_ids: ids };
  }

  /** Queues a `webhook.test` event for this subscription only. */
  async sendTest(subscriptionId: string, now: Date = new Date()): Promise<DeliveryDetails> {
    const subscription = await this.enabledSubscription(subscriptionId);
    const webhookId = randomUUID();
    const body = {
      type: TEST_EVENT_TYPE,
      timestamp: now.toISOString(),
      data: { subscription_id: subscription.id, message: 'A test event from microcred: your endpoint is reachable.' },
    };
    await inTransaction(this.pool, async (client) => {
      await new JobIntake<DeliveryPayload>(client, this.scope, DELIVERY_JOB_TYPE).create({
        key: deliveryKey(subscription.id, webhookId),
        assessment_id: null,
        status: 'queued',
        lane: subscription.id,
        payload: {
          subscription_id: subscription.id,
          webhook_id: webhookId,
          event_type: TEST_EVENT_TYPE,
          event_time: body.timestamp,
          body: JSON.stringify(body),
        },
      });
    });
    return this.get(subscription.id, deliveryIdOf(this.scope, subscription.id, webhookId));
  }

  private async withAttempts(deliveries: Delivery[]): Promise<DeliveryDetails[]> {
    const attempts = await attemptsOf(
      this.pool,
      deliveries.map((d) => d.id),
    );
    return deliveries.map(({ attempts: count, ...d }) => ({
      ...d,
      attempt_count: count,
      attempts: attempts.get(d.id) ?? [],
    }));
  }
}
