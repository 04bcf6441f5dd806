import type { Topics } from '../platform/config';
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
  ) {}

  async send(context: ContextName, command: CommandEnvelope, timeoutMs = this.replyTimeoutMs): Promise<SendResult> {
    const value = await this.codec.encodeCommand(context, command);
    const reply = this.replies.waitFor(command.command_id, timeoutMs);
    try {
      await this.producer.send({
        topic: this.topics[context].commands,
        messages: [
          { key: command.aggregate_id, value, headers: { type: command.type, correlation_id: command.correlation_id } },
        ],
      });
    } catch (err) {
      this.replies.cancel(command.command_id);
      throw err;
    }
    const answer = await reply;
    return answer ? { status: 'replied', reply: answer } : { status: 'pending', command_id: command.command_id };
  }
}
