import { gzipSync } from 'node:zlib';
import { identityContext } from '../../domain';
import type { StoredEvent } from '../messaging/envelopes';
import { PartitionState } from './partitionState';

/** A stored event caused by `commandId`, as catch-up reads it back. */
function eventOf(commandId: string, offset: number, occurredAt: string): StoredEvent {
  return {
    event_id: `event-${offset}`,
    aggregate_id: `user-${offset}`,
    aggregate_type: 'user',
    version: 1,
    type: 'UserRegistered',
    occurred_at: occurredAt,
    actor: { id: 'system', role: 'system' },
    correlation_id: commandId,
    causation_id: commandId,
    data: { user_id: `user-${offset}`, email: `u${offset}@example.com`, role: 'student', password_hash: 'x' },
    topic: 'identity.events',
    partition: 0,
    offset,
    schema_id: 1,
  } as unknown as StoredEvent;
}

describe('processed commands (the idempotency memory)', () => {
  test('a replayed command is remembered from its record timestamp, else from when it occurred', () => {
    const state = new PartitionState(identityContext);
    state.replay(eventOf('c1', 0, '2026-01-01T00:00:00.000Z'), 5_000);
    state.replay(eventOf('c2', 1, '2026-01-01T00:00:00.000Z'));
    expect(state.processed.get('c1')?.at).toBe(5_000);
    expect(state.processed.get('c2')?.at).toBe(Date.parse('2026-01-01T00:00:00.000Z'));
  });

  test('commands decided before the cutoff are forgotten, newer ones kept', () => {
    const state = new PartitionState(identityContext);
    state.replay(eventOf('old-1', 0, '2026-01-01T00:00:00.000Z'), 1_000);
    state.replay(eventOf('old-2', 1, '2026-01-01T00:00:00.000Z'), 2_000);
    state.replay(eventOf('new-1', 2, '2026-01-01T00:00:00.000Z'), 3_000);
    expect(state.forgetProcessedBefore(2_500)).toBe(2);
    expect([...state.processed.keys()]).toEqual(['new-1']);
    expect(state.forgetProcessedBefore(2_500)).toBe(0);
  });

  test('the decided state itself is never forgotten', () => {
    const state = new PartitionState(identityContext);
    state.replay(eventOf('c1', 0, '2026-01-01T00:00:00.000Z'), 1_000);
    state.forgetProcessedBefore(Number.MAX_SAFE_INTEGER);
    expect(state.processed.size).toBe(0);
    expect(state.aggregate('user-0').version).toBe(1);
    expect(state.nextEventsOffset).toBe(1);
  });

  test('decision times survive a snapshot', () => {
    const state = new PartitionState(identityContext);
    state.replay(eventOf('c1', 0, '2026-01-01T00:00:00.000Z'), 1_234);
    const restored = PartitionState.deserialize(identityContext, state.serialize());
    expect(restored.processed.get('c1')).toEqual(state.processed.get('c1'));
  });

  test('a snapshot written before decision times were kept remembers its commands one window from loading', () => {
    const legacy = gzipSync(
      JSON.stringify({
        nextEventsOffset: 1,
        aggregates: [],
        processed: [['c1', { aggregate_id: 'user-0', events: [] }]],
      }),
    );
    const before = Date.now();
    const restored = PartitionState.deserialize(identityContext, legacy);
    expect(restored.processed.get('c1')?.at).toBeGreaterThanOrEqual(before);
  });
});
