import { Command, InvalidArgumentError } from 'commander';
import { randomUUID } from 'node:crypto';
import { createWebhookSubscription } from '../../domain/identity/decideWebhookSubscription';
import {
  initialWebhookSubscriptionState,
  MAX_WEBHOOK_SECRET_OVERLAP_SECONDS,
} from '../../domain/identity/webhookSubscription';
import type { Actor } from '../../domain/shared/decider';
import { isDomainError } from '../../domain/shared/errors';
import { isUuid } from '../../domain/shared/ids';
import { publicEventTypes } from '../../domain/shared/publicEventTypes';
import { waitForProjection } from '../../projections/runtime/readYourWrites';
import { WEBHOOK_SUBSCRIPTIONS_PROJECTION } from '../../projections/webhooks/projection';
import {
  listWebhookSubscriptions,
  previousSecretValidUntil,
  webhookScope,
  webhookSubscriptionById,
  type WebhookSubscriptionView,
} from '../../projections/webhooks/queries';
import type { CommandBus } from '../messaging/commandBus';
import type { CommandReply } from '../messaging/envelopes';
import { AppError } from '../platform/errors';
import type { Platform } from '../platform/platform';
import { secretIdForCommand, webhookSecretsFrom, type WebhookSecrets } from '../webhooks/secrets';
import { checkWebhookUrl, webhookUrlPolicy } from '../webhooks/urlPolicy';
import { CliError, withBus, withPlatform, writeOut, type CliIo, textTable } from './io';

/**
 * `microcred webhooks …`: partners' webhook subscriptions from the operator's shell. The same
 * commands the admin API sends, as the system actor, with the same checks first (the domain's
 * rules, the URL policy); secrets are issued the same way and printed once.
 */
const SYSTEM: Actor = { id: 'system:cli', role: 'system' };
const REPLY_TIMEOUT_MS = 30_000;
const READ_MODEL_TIMEOUT_MS = 10_000;

const subscriptionIdArg = (value: string): string => {
  if (!isUuid(value)) throw new InvalidArgumentError(`"${value}" is not a webhook subscription id (a UUID)`);
  return value.toLowerCase();
};

const eventTypesArg = (value: string): string[] => {
  const types = value
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  if (types.length === 0) throw new InvalidArgumentError(`expected one or more of ${publicEventTypes.join(', ')}`);
  return types;
};

const overlapArg = (value: string): number => {
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n > MAX_WEBHOOK_SECRET_OVERLAP_SECONDS) {
    throw new InvalidArgumentError(`expected whole seconds from 0 to ${MAX_WEBHOOK_SECRET_OVERLAP_SECONDS} (30 days)`);
  }
  return n;
};

/** The decider refused a command; `kind` says how (a conflict, a validation error…). */
class CommandRefusedError extends CliError {
  constructor(
    readonly kind: string,
    message: string,
  ) {
    super(message);
  }
}

/** A refusal of the domain or the URL policy, as one line for the operator. */
function asCliError(err: unknown): unknown {
  if (isDomainError(err) || (err instanceof AppError && err.status < 500)) {
    return new CliError(`${err.code}: ${err.message}`);
  }
  if (err instanceof AppError) return new CliError(err.message);
  return err;
}

interface Session {
  platform: Platform;
  bus: CommandBus;
  scope: string;
}

/** Sends one identity command as the system and waits for the decider; a refusal is a CliError. */
async function send(
  session: Session,
  type: string,
  subscriptionId: string,
  data: Record<string, unknown>,
  commandId: string = randomUUID(),
): Promise<CommandReply> {
  const result = await session.bus.send(
    'identity',
    {
      command_id: commandId,
      type,
      aggregate_id: subscriptionId,
      issued_at: new Date().toISOString(),
      actor: SYSTEM,
      correlation_id: `cli-webhooks-${commandId}`,
      data: Object.fromEntries(
        Object.entries({ subscription_id: subscriptionId, ...data }).filter(([, v]) => v !== undefined),
      ),
    },
    REPLY_TIMEOUT_MS,
  );
  if (result.status === 'pending') {
    throw new CliError(
      `the identity decider did not answer within ${REPLY_TIMEOUT_MS / 1000} s; the command is in the log (command ${result.command_id})`,
    );
  }
  const { reply } = result;
  if (reply.outcome === 'rejected') {
    throw new CommandRefusedError(
      reply.error?.kind ?? 'validation',
      `${reply.error?.code ?? 'REJECTED'}: ${reply.error?.message ?? 'the command was refused'}`,
    );
  }
  return reply;
}

/** The subscription once the read model shows what `reply` wrote (bounded wait). */
async function settled(
  session: Session,
  id: string,
  reply?: CommandReply,
): Promise<WebhookSubscriptionView | undefined> {
  const last = reply?.events[reply.events.length - 1];
  if (last)
    await waitForProjection(session.platform.pool, WEBHOOK_SUBSCRIPTIONS_PROJECTION, last, READ_MODEL_TIMEOUT_MS);
  return webhookSubscriptionById(session.platform.pool, id, session.scope);
}

async function existing(session: Session, id: string): Promise<WebhookSubscriptionView> {
  const view = await webhookSubscriptionById(session.platform.pool, id, session.scope);
  if (!view) throw new CliError(`no webhook subscription ${id} (unknown, or deleted)`);
  return view;
}

function withSession<T>(io: CliIo, run: (session: Session) => Promise<T>): Promise<T> {
  return withBus(io, (platform, bus) => run({ platform, bus, scope: webhookScope(platform.config) })).catch(
    (err: unknown) => {
      throw asCliError(err);
    },
  );
}

function secretsOf(session: Session): WebhookSecrets {
  return webhookSecretsFrom(session.platform.pool, session.platform.config);
}

/** Issues a secret for a command; forgets it when the command is refused (unless as a conflict). */
async function withSecret<T>(
  session: Session,
  subscriptionId: string,
  commandId: string,
  run: (secret: string, secretId: string) => Promise<T>,
): Promise<T> {
  const secrets = secretsOf(session);
  const secretId = secretIdForCommand(commandId);
  const secret = await secrets.issue(subscriptionId, secretId);
  try {
    return await run(secret, secretId);
  } catch (err) {
    // A conflict may be a late retry of an accepted command, whose secret is live: keep it.
    if (err instanceof CommandRefusedError && err.kind !== 'conflict') {
      await secrets.discardUnused(subscriptionId, secretId);
    }
    throw err;
  }
}

function table(items: WebhookSubscriptionView[]): string {
  const header = ['id', 'enabled', 'ordered', 'event_types', 'url', 'description'];
  const rows = items.map((s) => [
    s.id,
    s.enabled ? 'yes' : `no${s.disabled_reason ? ` (${s.disabled_reason})` : ''}`,
    s.ordered ? 'yes' : 'no',
    s.event_types.join(','),
    s.url,
    s.description ?? '',
  ]);
  return textTable(header, rows);
}

const describeView = (s: WebhookSubscriptionView) =>
  `${s.id} ${s.enabled ? 'enabled' : 'disabled'}${s.ordered ? ', ordered' : ''}: ${s.url} (events: ${s.event_types.join(', ')})`;

export function webhooksCommand(io: CliIo): Command {
  const webhooks = new Command('webhooks').description(
    `Partner webhook subscriptions: where to deliver which public events (${publicEventTypes.join(', ')}), signed with a secret`,
  );

  webhooks
    .command('create')
    .description('Subscribe a partner URL; prints the signing secret, the only time it is shown')
    .requiredOption('--url <url>', 'https URL (plain http only to loopback, for development)')
    .requiredOption('--events <types>', `comma-separated: ${publicEventTypes.join(', ')}`, eventTypesArg)
    .option('--description <text>', 'for people, one line, at most 500 characters')
    .option('--ordered', "deliver one assessment's events one at a time, in order")
    .option('--json', 'one JSON document: the subscription with its secret')
    .action(
      async (options: { url: string; events: string[]; description?: string; ordered?: boolean; json?: boolean }) => {
        const id = randomUUID();
        const commandId = randomUUID();
        const data = {
          url: options.url,
          event_types: options.events,
          description: options.description,
          ordered: options.ordered === true,
          secret_id: secretIdForCommand(commandId),
        };
        const created = await withSession(io, async (session) => {
          // The decider's rules and the URL policy first: a refused subscription writes nothing.
          createWebhookSubscription(
            {
              type: 'CreateWebhookSubscription',
              data: { subscription_id: id, ...data },
              metadata: { command_id: commandId, now: new Date().toISOString(), actor: SYSTEM },
            },
            initialWebhookSubscriptionState(),
          );
          await checkWebhookUrl(options.url, webhookUrlPolicy(session.platform.config));
          return withSecret(session, id, commandId, async (secret) => {
            const reply = await send(session, 'CreateWebhookSubscription', id, data, commandId);
            return { view: await settled(session, id, reply), secret };
          });
        });
        if (!created.view) throw new CliError(`subscription ${id} was created but the read model has not shown it yet`);
        await writeOut(
          io.stdout,
          options.json
            ? `${JSON.stringify({ ...created.view, secret: created.secret })}\n`
            : `created webhook subscription ${describeView(created.view)}\nsigning secret (shown only now; store it): ${created.secret}\n`,
        );
      },
    );

  webhooks
    .command('list')
    .description('The webhook subscriptions (read model), oldest first; never their secrets')
    .option('--json', 'one JSON document: {items: [...]}')
    .action(async (options: { json?: boolean }) => {
      const items = await withPlatform(io, (platform) =>
        listWebhookSubscriptions(platform.pool, webhookScope(platform.config)),
      );
      await writeOut(
        io.stdout,
        options.json
          ? `${JSON.stringify({ items })}\n`
          : items.length === 0
            ? 'no webhook subscriptions\n'
            : `${table(items)}\n`,
      );
    });

  webhooks
    .command('update')
    .description('Enable or disable a subscription, or change its URL, event types, description or ordering')
    .argument('<id>', 'the subscription', subscriptionIdArg)
    .option('--enable', 'deliver to it again (from where deliveries stopped)')
    .option('--disable', 'stop delivering to it')
    .option('--reason <text>', 'why it is disabled (with --disable)')
    .option('--events <types>', `comma-separated: ${publicEventTypes.join(', ')}`, eventTypesArg)
    .option('--url <url>', 'a new https URL')
    .option('--description <text>', 'a new description ("" removes it)')
    .option('--ordered', "deliver one assessment's events one at a time, in order")
    .option('--unordered', 'deliver without ordering')
    .option('--json', 'one JSON document: the subscription after the change')
    .action(
      async (
        id: string,
        options: {
          enable?: boolean;
          disable?: boolean;
          reason?: string;
          events?: string[];
          url?: string;
          description?: string;
          ordered?: boolean;
          unordered?: boolean;
          json?: boolean;
        },
      ) => {
        if (options.enable && options.disable) throw new CliError('give --enable or --disable, not both');
        if (options.ordered && options.unordered) throw new CliError('give --ordered or --unordered, not both');
        const ordered = options.ordered ? true : options.unordered ? false : undefined;
        const fields = { url: options.url, event_types: options.events, description: options.description, ordered };
        const changes = Object.values(fields).some((v) => v !== undefined);
        if (!changes && !options.enable && !options.disable) {
          throw new CliError(
            'nothing to change: give --enable, --disable, --events, --url, --description or --ordered',
          );
        }
        const view = await withSession(io, async (session) => {
          const before = await existing(session, id);
          let reply: CommandReply | undefined;
          if (options.url !== undefined) await checkWebhookUrl(options.url, webhookUrlPolicy(session.platform.config));
          if (changes) reply = await send(session, 'UpdateWebhookSubscription', id, fields);
          if (options.enable && !before.enabled) reply = await send(session, 'EnableWebhookSubscription', id, {});
          if (options.disable && before.enabled) {
            reply = await send(session, 'DisableWebhookSubscription', id, { reason: options.reason });
          }
          return (await settled(session, id, reply)) ?? before;
        });
        await writeOut(io.stdout, options.json ? `${JSON.stringify(view)}\n` : `${describeView(view)}\n`);
      },
    );

  webhooks
    .command('delete')
    .description('Delete a subscription: nothing more is delivered to it, and its secrets are destroyed')
    .argument('<id>', 'the subscription', subscriptionIdArg)
    .option('--json', 'one JSON line: {id, deleted: true}')
    .action(async (id: string, options: { json?: boolean }) => {
      await withSession(io, async (session) => {
        await existing(session, id);
        const reply = await send(session, 'DeleteWebhookSubscription', id, {});
        await settled(session, id, reply);
      });
      await writeOut(
        io.stdout,
        options.json ? `${JSON.stringify({ id, deleted: true })}\n` : `deleted webhook subscription ${id}\n`,
      );
    });

  webhooks
    .command('rotate-secret')
    .description('Replace the signing secret; prints the new one (once). The previous one signs too for an overlap')
    .argument('<id>', 'the subscription', subscriptionIdArg)
    .option(
      '--overlap-seconds <n>',
      'how long the previous secret keeps signing (0: it stops now; default WEBHOOK_SECRET_OVERLAP_SECONDS)',
      overlapArg,
    )
    .option('--json', 'one JSON line: {id, secret, previous_valid_until}')
    .action(async (id: string, options: { overlapSeconds?: number; json?: boolean }) => {
      const rotated = await withSession(io, async (session) => {
        await existing(session, id);
        const overlap = options.overlapSeconds ?? session.platform.config.WEBHOOK_SECRET_OVERLAP_SECONDS;
        const previousValidUntil = new Date(Date.now() + overlap * 1000).toISOString();
        const commandId = randomUUID();
        return withSecret(session, id, commandId, async (secret, secretId) => {
          const reply = await send(
            session,
            'RotateWebhookSecret',
            id,
            { secret_id: secretId, previous_valid_until: previousValidUntil },
            commandId,
          );
          await settled(session, id, reply);
          const recorded = await previousSecretValidUntil(session.platform.pool, id, secretId, session.scope);
          return { id, secret, previous_valid_until: recorded ?? previousValidUntil };
        });
      });
      await writeOut(
        io.stdout,
        options.json
          ? `${JSON.stringify(rotated)}\n`
          : `new signing secret (shown only now; store it): ${rotated.secret}\nthe previous secret signs too until ${rotated.previous_valid_until}\n`,
      );
    });

  return webhooks;
}
