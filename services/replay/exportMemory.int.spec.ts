import { randomUUID } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Writable } from 'node:stream';
import { bootstrap } from '../bootstrap/bootstrap';
import type { EventEnvelope } from '../messaging/envelopes';
import { MessageCodec } from '../messaging/messageCodec';
import type { Platform } from '../platform/platform';
import { testPlatform } from '../../test/support/platform';
import { EventLog } from './eventLog';
import { exportEvents } from './exportEvents';
import { deleteTestTopics } from './testing/topics';

jest.setTimeout(180_000);

/**
 * A large-ish export (5,000 events, ~6 KB each, ~30 MB of NDJSON) into a slow sink: the export
 * waits for the sink to drain, and the heap kept alive stays far below the output's size.
 */
const EVENTS = 5000;
const prefix = `test-${randomUUID().slice(0, 8)}`;
let platform: Platform;
let codec: MessageCodec;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

beforeAll(async () => {
  platform = await testPlatform({ env: { KAFKA_TOPIC_PREFIX: prefix, LOG_LEVEL: 'warn' } });
  await bootstrap(platform);
  codec = new MessageCodec(platform.codec, platform.topics);
  const producer = platform.kafka.producer('export-memory-spec');
  await producer.connect();
  try {
    const answer = 'x'.repeat(6000);
    for (let start = 0; start < EVENTS; start += 500) {
      const messages = await Promise.all(
        Array.from({ length: Math.min(500, EVENTS - start) }, async (_, i) => {
          const aggregate_id = randomUUID();
          const event: EventEnvelope = {
            event_id: randomUUID(),
            aggregate_id,
            aggregate_type: 'assessment',
            version: 2,
            type: 'ResponseRecorded',
            occurred_at: new Date(Date.UTC(2026, 0, 1) + start + i).toISOString(),
            actor: { id: 'system:spec', role: 'system' },
            correlation_id: `spec-${start + i}`,
            causation_id: null,
            data: {
              assessment_id: aggregate_id,
              question_id: randomUUID(),
              question_version: '1',
              answer,
              revision: 1,
              submitted_at: '2026-01-01T00:00:00.000Z',
            },
          };
          return { key: aggregate_id, value: await codec.encodeEvent('assessment', event) };
        }),
      );
      await producer.send({ topic: platform.topics.assessment.events, messages });
    }
  } finally {
    await producer.disconnect();
  }
});
afterAll(async () => {
  await platform?.close();
  await deleteTestTopics(prefix);
});

test('5,000 events stream through a slow sink with bounded memory', async () => {
  const highWaterMark = 64 * 1024;
  let bytes = 0;
  let lines = 0;
  let maxQueued = 0;
  let maxRetained = 0;
  gc();
  const baseline = process.memoryUsage().heapUsed;
  const sink = new Writable({
    highWaterMark,
    write(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      lines++;
      maxQueued = Math.max(maxQueued, sink.writableLength);
      if (lines % 500 === 0) {
        gc();
        maxRetained = Math.max(maxRetained, process.memoryUsage().heapUsed - baseline);
      }
      setImmediate(callback); // a slow consumer: one event per turn of the event loop
    },
  });
  const log = await EventLog.open({ ...platform, codec, name: `export-memory-${prefix}` });
  try {
    const result = await exportEvents({ log, contexts: ['assessment'], filter: {}, format: 'ndjson', out: sink });
    expect(result).toEqual({ scanned: EVENTS, exported: EVENTS });
    await new Promise<void>((resolve) => sink.end(resolve)); // the last lines are still in the sink's buffer
  } finally {
    await log.close();
  }
  expect(lines).toBe(EVENTS);
  expect(bytes).toBeGreaterThan(EVENTS * 6000);
  // Backpressure: the export never queued more than the sink's buffer plus one line.
  expect(maxQueued).toBeLessThan(highWaterMark + 8 * 1024);
  // What stays alive is a batch or so, not the export: under 10 MB for ~30 MB written.
  expect(maxRetained).toBeLessThan(10 * 1024 * 1024);
  console.log(
    `export: ${bytes} bytes, heap retained at most ${(maxRetained / 1048576).toFixed(1)} MB, queue at most ${maxQueued} bytes`,
  );
});
