import type { Admin, PartitionReader } from '../platform/kafka/kafka';
import { endOffsets } from '../platform/kafka/admin';
import type { Logger } from '../platform/logger';
import type { CommandReply } from './envelopes';
import type { MessageCodec } from './messageCodec';

/** Where an aggregate's newest event sits: a read model that reached it reflects that write. */
export interface WritePosition {
  topic: string;
  partition: number;
  offset: number;
}

/**
 * Follows the whole replies topic from the moment it starts (read_committed, so a reply is
 * seen only once its events are committed). Resolves waiting requests by command id and
 * remembers each aggregate's newest write, for read-your-writes — every API instance sees
 * every reply, so this holds whichever instance took the write.
 */
export class ReplyListener {
  private readonly waiters = new Map<string, (reply: CommandReply) => void>();
  private readonly lastWrites = new Map<string, WritePosition>();
  private running = false;
  private loop?: Promise<void>;

  constructor(
    private readonly reader: PartitionReader,
    private readonly admin: Admin,
    private readonly codec: MessageCodec,
    private readonly topic: string,
    private readonly logger: Logger,
    private readonly maxRemembered = 100_000,
  ) {}

  async start(): Promise<void> {
    await this.reader.connect();
    const ends = await endOffsets(this.admin, this.topic, 'written');
    this.reader.assign([...ends].map(([partition, offset]) => ({ topic: this.topic, partition, offset })));
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await this.reader.disconnect();
  }

  /** Resolves with the reply to `commandId`, or undefined after `timeoutMs`. Register before sending. */
  waitFor(commandId: string, timeoutMs: number): Promise<CommandReply | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(commandId);
        resolve(undefined);
      }, timeoutMs);
      this.waiters.set(commandId, (reply) => {
        clearTimeout(timer);
        this.waiters.delete(commandId);
        resolve(reply);
      });
    });
  }

  cancel(commandId: string): void {
    this.waiters.delete(commandId);
  }

  lastWriteOf(aggregateId: string): WritePosition | undefined {
    return this.lastWrites.get(aggregateId);
  }

  /** Records a write this process learned of directly (e.g. from its own reply). */
  noteWrite(reply: CommandReply): void {
    const last = reply.events[reply.events.length - 1];
    if (!last) return;
    const known = this.lastWrites.get(reply.aggregate_id);
    if (known && known.partition === last.partition && known.offset >= last.offset) return;
    this.lastWrites.delete(reply.aggregate_id); // re-insert: Map order doubles as recency
    this.lastWrites.set(reply.aggregate_id, { topic: last.topic, partition: last.partition, offset: last.offset });
    if (this.lastWrites.size > this.maxRemembered) {
      const oldest = this.lastWrites.keys().next().value;
      if (oldest !== undefined) this.lastWrites.delete(oldest);
    }
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        const messages = await this.reader.consume(500);
        for (const m of messages) {
          if (!m.value) continue;
          const { value: reply } = await this.codec.decode<CommandReply>(m.value);
          this.noteWrite(reply);
          this.waiters.get(reply.command_id)?.(reply);
        }
      } catch (err) {
        this.logger.warn({ err }, 'reply listener error; continuing');
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }
}
