import type { Context } from 'koa';
import { randomUUID } from 'node:crypto';
import type { Actor } from '../../../domain/shared/decider';
import type { CommandBus } from '../../messaging/commandBus';
import type { CommandReply, ContextName } from '../../messaging/envelopes';
import { AppError } from '../../platform/errors';
import { DOMAIN_KIND_STATUS } from '../errorMiddleware';

export class CommandRejectedError extends AppError {
  constructor(readonly reply: CommandReply) {
    const error = reply.error!;
    super(
      error.code,
      error.message,
      DOMAIN_KIND_STATUS[error.kind as keyof typeof DOMAIN_KIND_STATUS] ?? 500,
      error.details ?? undefined,
    );
  }
}

export type Dispatched = { status: 'done'; reply: CommandReply } | { status: 'pending'; command_id: string };

/**
 * Builds a command envelope from the request (actor, correlation id, `now`), sends it and waits
 * for the decider. A rejection becomes the matching HTTP error; a late reply becomes "pending".
 */
export async function dispatch(
  bus: CommandBus,
  ctx: Context,
  actor: Actor,
  context: ContextName,
  command: { type: string; aggregate_id: string; data: Record<string, unknown>; command_id?: string },
): Promise<Dispatched> {
  const result = await bus.send(context, {
    command_id: command.command_id ?? randomUUID(),
    type: command.type,
    aggregate_id: command.aggregate_id,
    issued_at: new Date().toISOString(),
    actor,
    correlation_id: String(ctx.state.correlationId ?? randomUUID()),
    data: command.data,
  });
  if (result.status === 'pending') return result;
  if (result.reply.outcome === 'rejected') throw new CommandRejectedError(result.reply);
  return { status: 'done', reply: result.reply };
}

/** 202: the command is in the log and will be decided; the client polls the status URL. */
export function respondPending(ctx: Context, commandId: string): void {
  ctx.status = 202;
  ctx.set('Location', `/api/v1/commands/${commandId}`);
  ctx.body = {
    command_id: commandId,
    status: 'pending',
    status_url: `/api/v1/commands/${commandId}`,
    message: 'Accepted into the log; it will be processed shortly. Poll status_url for the outcome.',
  };
}
