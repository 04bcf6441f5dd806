import type { Topics } from '../platform/config';
import { DeadlineExceededError, withDeadline } from '../platform/deadline';
import { DependencyUnavailableError } from '../platform/errors';
import type { Logger } from '../platform/logger';
import type { Producer } from '../platform/kafka/kafka';
import type { CommandEnvelope, CommandReply, ContextName } from './envelopes';
import type { MessageCodec } from './messageCodec';
import type { ReplyListener } from './replyListener';

export type SendResult = { status: 'replied'; reply: CommandReply } | { status: 'pending'; command_id: string };

/**
 * Sends commands to a context's commands topic, keyed by aggregate id (so one aggregate's
 * commands are ordered and reach one decider), and waits a bounded time for the reply. A
 * command whose reply is late is not lost: it stays in the topic and is decided when a decider
 * is back; the caller reports it as pending.
 */
export class CommandBus {
  constructor(
    private readonly producer: Producer,
    private readonly codec: MessageCodec,
    private readonly replies: ReplyListener,
    private readonly topics: Topics,
    private readonly replyTimeoutMs: number,
    private readonly logger: Logger,
  ) {}

  /**
   * Appends the command and waits, `timeoutMs` in all, for its reply. Fails with 503
   * (DependencyUnavailableError) when the registry or the log cannot take the command: never
   * a hang, never a 500 for an outage.
   */
  async send(context: ContextName, command: CommandEnvelope, timeoutMs = this.replyTimeoutMs): Promise<SendResult> {
    const value = await this.codec.encodeCommand(context, command).catch((err: unknown) => {
      this.logger.warn({ err, command_id: command.command_id }, 'command not encoded: schema registry unavailable');
      throw new DependencyUnavailableError('schema registry', 'unavailable; the command was not accepted');
    });
    const reply = this.replies.waitFor(command.command_id, timeoutMs);
    try {
      const appended = this.producer.send({
        topic: this.topics[context].commands,
        messages: [
          { key: command.aggregate_id, value, headers: { type: command.type, correlation_id: command.correlation_id } },
        ],
      });
      await withDeadline(appended, timeoutMs, 'kafka (append command)');
    } catch (err) {
      this.replies.cancel(command.command_id);
      if (err instanceof DeadlineExceededError) {
        // The client still holds it and may deliver it later: say so, and how to find out.
        throw new DependencyUnavailableError(
          'kafka',
          `the command log did not confirm the command within ${timeoutMs} ms; it may still be processed. Retry with the same Idempotency-Key, or see status_url`,
          { command_id: command.command_id, status_url: `/api/v1/commands/${command.command_id}` },
          'COMMAND_NOT_CONFIRMED',
        );
      }
      this.logger.warn({ err, command_id: command.command_id }, 'command not appended: Kafka unavailable');
      throw new DependencyUnavailableError('kafka', 'the command log is unavailable; the command was not accepted');
    }
    const answer = await reply;
    return answer ? { status: 'replied', reply: answer } : { status: 'pending', command_id: command.command_id };
  }
}
