import { Option, type Command } from 'commander';
import { AppError } from '../platform/errors';
import { decodeCursor, DELIVERY_STATUSES, encodeCursor, type DeliveryStatus } from '../webhooks/delivery/deliveries';
import { DeliveryAdmin, type DeliveryDetails } from '../webhooks/delivery/deliveryAdmin';
import { CliError, withPlatform, writeOut, type CliIo, textTable } from './io';

/** Runs an operation on a subscription's deliveries; the API's errors (not found, conflict) become one line. */
async function withAdmin<T>(io: CliIo, run: (admin: DeliveryAdmin) => Promise<T>): Promise<T> {
  return withPlatform(io, async (platform) => {
    try {
      return await run(new DeliveryAdmin(platform.pool, platform.config.KAFKA_TOPIC_PREFIX));
    } catch (err) {
      if (err instanceof AppError) throw new CliError(`${err.message} (${err.code})`);
      throw err;
    }
  });
}

function table(rows: DeliveryDetails[]): string {
  const header = [
    'delivery_id',
    'event_type',
    'webhook_id',
    'status',
    'attempts',
    'code',
    'last_attempt',
    'next_attempt',
  ];
  const lines = rows.map((d) => [
    d.id,
    d.event_type,
    d.webhook_id,
    d.status,
    String(d.attempt_count),
    d.response_code === null ? '-' : String(d.response_code),
    d.last_attempt ?? '-',
    d.next_attempt_at ?? '-',
  ]);
  return textTable(header, lines) + '\n';
}

const describe = (d: DeliveryDetails) =>
  `delivery ${d.id} (${d.event_type}, webhook-id ${d.webhook_id}) is ${d.status}`;

/**
 * `microcred webhooks …` for deliveries: list a subscription's deliveries (with `--json`, each
 * with its attempts), redeliver one or every dead letter, send a test event. Added to the
 * `webhooks` command (whose other subcommands manage the subscriptions).
 */
export function addWebhookDeliveryCommands(webhooks: Command, io: CliIo): Command {
  webhooks
    .command('deliveries')
    .description("A subscription's deliveries, newest first (--json: with every attempt)")
    .argument('<id>', 'the subscription')
    .addOption(new Option('--status <status>', 'only this status').choices([...DELIVERY_STATUSES]))
    .option('--limit <n>', 'deliveries at most (1 to 100)', '25')
    .option('--cursor <cursor>', 'the next page (printed after a full page)')
    .option('--json', 'one JSON document: {items: [...], next_cursor}')
    .action(
      async (id: string, options: { status?: DeliveryStatus; limit: string; cursor?: string; json?: boolean }) => {
        const limit = /^\d{1,3}$/.test(options.limit) ? Number(options.limit) : NaN;
        if (!(limit >= 1 && limit <= 100)) throw new CliError('--limit must be a whole number from 1 to 100');
        const cursor = options.cursor === undefined ? undefined : decodeCursor(options.cursor);
        if (options.cursor !== undefined && !cursor)
          throw new CliError('--cursor is not a cursor this command printed');
        const page = await withAdmin(io, (admin) =>
          admin.list(id, {
            limit,
            ...(options.status ? { status: options.status } : {}),
            ...(cursor ? { cursor } : {}),
          }),
        );
        const next = page.next_cursor ? encodeCursor(page.next_cursor) : null;
        await writeOut(
          io.stdout,
          options.json
            ? `${JSON.stringify({ items: page.items, next_cursor: next })}\n`
            : `${table(page.items)}${next ? `more: --cursor ${next}\n` : ''}`,
        );
      },
    );

  webhooks
    .command('redeliver')
    .description('Deliver a finished delivery (dead-lettered, delivered) again, with the same webhook-id')
    .argument('<id>', 'the subscription')
    .argument('<delivery_id>', 'the delivery')
    .option('--json', 'print the delivery as JSON')
    .action(async (id: string, deliveryId: string, options: { json?: boolean }) => {
      const delivery = await withAdmin(io, (admin) => admin.redeliver(id, deliveryId));
      await writeOut(
        io.stdout,
        options.json ? `${JSON.stringify(delivery)}\n` : `queued again: ${describe(delivery)}\n`,
      );
    });

  webhooks
    .command('redeliver-dead-letters')
    .description('Deliver every dead-lettered delivery of a subscription again')
    .argument('<id>', 'the subscription')
    .option('--json', 'print {redelivered, delivery_ids}')
    .action(async (id: string, options: { json?: boolean }) => {
      const result = await withAdmin(io, (admin) => admin.redeliverDeadLetters(id));
      await writeOut(
        io.stdout,
        options.json ? `${JSON.stringify(result)}\n` : `${result.redelivered} dead-lettered deliveries queued again\n`,
      );
    });

  webhooks
    .command('test')
    .description('Send a webhook.test event to this subscription only')
    .argument('<id>', 'the subscription')
    .option('--json', 'print the test delivery as JSON')
    .action(async (id: string, options: { json?: boolean }) => {
      const delivery = await withAdmin(io, (admin) => admin.sendTest(id));
      await writeOut(io.stdout, options.json ? `${JSON.stringify(delivery)}\n` : `queued: ${describe(delivery)}\n`);
    });
  return webhooks;
}
