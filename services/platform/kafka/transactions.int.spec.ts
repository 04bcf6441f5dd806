import { randomUUID } from 'node:crypto';
import { testPlatform } from '../../../test/support/platform';
import { readTopic } from '../../../test/support/kafka';
import type { Platform } from '../platform';
import { ensureTopics } from './admin';
import type { Consumer } from './kafka';
import { inTransaction } from './transactions';

jest.setTimeout(90_000);

let platform: Platform;
const prefix = () => `${platform.config.KAFKA_TOPIC_PREFIX}.${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  platform = await testPlatform({ isolated: true });
});
afterAll(async () => {
  await platform.close();
});

async function topicsFor(...names: string[]): Promise<string[]> {
  const p = prefix();
  const topics = names.map((n) => `${p}.${n}`);
  await ensureTopics(
    platform.kafkaAdmin,
    topics.map((name) => ({ name, partitions: 1, config: {} })),
  );
  return topics;
}

async function produce(topic: string, values: string[]): Promise<void> {
  const producer = platform.kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages: values.map((v) => ({ key: 'k', value: v })) });
  await producer.disconnect();
}

/** Runs a consume-transform-produce loop: every input message becomes one output message, in one transaction per batch. */
async function startPipe(input: string, output: string, groupId: string, txId: string) {
  const consumer = platform.kafka.consumer(groupId);
  const producer = platform.kafka.transactionalProducer(txId);
  await Promise.all([consumer.connect(), producer.connect()]);
  await consumer.subscribe({ topics: [input] });
  let processed = 0;
  await consumer.run({
    eachBatch: async ({ batch }) => {
      const last = batch.messages[batch.messages.length - 1]!;
      await inTransaction(
        producer,
        async (tx) => {
          await tx.send({
            topic: output,
            messages: batch.messages.map((m) => ({ key: m.key, value: `out:${m.value}` })),
          });
        },
        {
          consumer,
          consumed: [{ topic: batch.topic, partition: batch.partition, nextOffset: Number(last.offset) + 1 }],
        },
      );
      processed += batch.messages.length;
    },
  });
  return {
    processed: () => processed,
    stop: async () => {
      await consumer.disconnect();
      await producer.disconnect();
    },
  };
}

async function waitFor(check: () => boolean | Promise<boolean>, ms = 30_000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('a transactional produce with its offset commit is seen exactly once by a read_committed consumer', async () => {
  const [input, output] = await topicsFor('in', 'out');
  const group = `g-${randomUUID()}`;
  await produce(input!, ['a', 'b', 'c', 'd', 'e']);

  const pipe = await startPipe(input!, output!, group, `tx-${randomUUID()}`);
  await waitFor(() => pipe.processed() === 5);
  await pipe.stop();

  // A restart of the group resumes after the offsets committed in the transactions: nothing is redone.
  const again = await startPipe(input!, output!, group, `tx-${randomUUID()}`);
  await produce(input!, ['f']);
  await waitFor(() => again.processed() === 1);
  await again.stop();

  const out = await readTopic(platform, output!);
  expect(out.map((r) => r.value.toString())).toEqual(['out:a', 'out:b', 'out:c', 'out:d', 'out:e', 'out:f']);
  const [committed] = await platform.kafkaAdmin.fetchOffsets({ groupId: group, topics: [input!] });
  expect(committed!.partitions[0]!.offset).toBe('6');
});

test('an aborted transaction is never seen by a read_committed consumer', async () => {
  const [output] = await topicsFor('out');
  const producer = platform.kafka.transactionalProducer(`tx-${randomUUID()}`);
  await producer.connect();
  await expect(
    inTransaction(producer, async (tx) => {
      await tx.send({ topic: output!, messages: [{ value: 'doomed-1' }, { value: 'doomed-2' }] });
      await tx.flush();
      throw new Error('crash mid-batch');
    }),
  ).rejects.toThrow('crash mid-batch');
  await inTransaction(producer, (tx) => tx.send({ topic: output!, messages: [{ value: 'kept' }] }));
  await producer.disconnect();

  // The aborted records did reach the log (an uncommitted reader sees them) …
  const raw = await readTopic(platform, output!, 'read_uncommitted');
  expect(raw.map((r) => r.value.toString())).toEqual(['doomed-1', 'doomed-2', 'kept']);
  // … yet a read_committed consumer never does.
  const committed = await readTopic(platform, output!, 'read_committed');
  expect(committed.map((r) => r.value.toString())).toEqual(['kept']);
});

test('a zombie that lost its partition to a new group member is fenced: its writes never appear', async () => {
  const [input, output] = await topicsFor('in', 'out');
  const group = `g-${randomUUID()}`;
  await produce(input!, ['job']);

  // The zombie: takes the message, writes its output, then stalls past max.poll.interval.ms,
  // so the group evicts it and hands the partition to a successor.
  const zombieConsumer: Consumer = platform.kafka.consumer(group, { sessionTimeoutMs: 6000, maxPollIntervalMs: 7000 });
  const zombieProducer = platform.kafka.transactionalProducer(`zombie-${randomUUID()}`);
  await Promise.all([zombieConsumer.connect(), zombieProducer.connect()]);
  await zombieConsumer.subscribe({ topics: [input!] });
  let zombieOutcome: string | undefined;
  let releaseZombie!: () => void;
  const released = new Promise<void>((r) => (releaseZombie = r));
  await zombieConsumer.run({
    eachBatch: async ({ batch }) => {
      if (zombieOutcome) return;
      const last = batch.messages[batch.messages.length - 1]!;
      try {
        await inTransaction(
          zombieProducer,
          async (tx) => {
            await tx.send({ topic: output!, messages: [{ value: 'from-zombie' }] });
            await tx.flush();
            await released;
          },
          {
            consumer: zombieConsumer,
            consumed: [{ topic: batch.topic, partition: batch.partition, nextOffset: Number(last.offset) + 1 }],
          },
        );
        zombieOutcome = 'committed';
      } catch (err) {
        zombieOutcome = `fenced: ${(err as Error).message}`;
      }
    },
  });

  // The successor joins, gets the partition once the zombie is evicted, and does the job.
  const successor = await startPipe(input!, output!, group, `successor-${randomUUID()}`);
  await waitFor(() => successor.processed() === 1, 60_000);
  releaseZombie();
  await waitFor(() => zombieOutcome !== undefined);
  await successor.stop();
  await zombieConsumer.disconnect().catch(() => undefined);
  await zombieProducer.disconnect().catch(() => undefined);

  expect(zombieOutcome).toMatch(/^fenced/);
  const out = await readTopic(platform, output!);
  expect(out.map((r) => r.value.toString())).toEqual(['out:job']);
  const raw = await readTopic(platform, output!, 'read_uncommitted');
  expect(raw.map((r) => r.value.toString())).toContain('from-zombie');
});
