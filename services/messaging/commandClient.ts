import type { Platform } from '../platform/platform';
import { CommandBus } from './commandBus';
import type { MessageCodec } from './messageCodec';
import { ReplyListener } from './replyListener';

/** A command bus with its own producer and reply listener: what the API, the CLI and tests send through. */
export async function createCommandClient(
  platform: Platform,
  codec: MessageCodec,
  name: string,
): Promise<{ bus: CommandBus; replies: ReplyListener; stop: () => Promise<void> }> {
  const producer = platform.kafka.producer(`${name}-commands`);
  await producer.connect();
  const replies = new ReplyListener(
    platform.kafka.partitionReader(`${name}-replies-${platform.config.INSTANCE_ID}`),
    platform.kafkaAdmin,
    codec,
    platform.topics.replies,
    platform.logger,
  );
  await replies.start();
  const bus = new CommandBus(
    producer,
    codec,
    replies,
    platform.topics,
    platform.config.COMMAND_REPLY_TIMEOUT_MS,
    platform.logger,
  );
  return {
    bus,
    replies,
    stop: async () => {
      await replies.stop();
      await producer.disconnect();
    },
  };
}
