import { randomUUID } from 'node:crypto';
import type { EventEnvelope } from '../messaging/envelopes';
import { MessageCodec } from '../messaging/messageCodec';
import { createRoleWithQuestions, type RoleFixture } from '../../test/support/catalogFixture';
import { readTopic } from '../../test/support/kafka';
import { eventually } from '../../test/support/platform';
import { spawnMicrocred, type MicrocredProcess } from '../../test/support/processes';
import { expectMatchesContract, startTestSystem, systemEnv, type TestSystem } from '../../test/support/system';

jest.setTimeout(240_000);

/**
 * The write path's guarantees, end to end: concurrent writers, a decider killed mid-stream and
 * a rebalance between deciders under load never lose a command nor duplicate an event.
 */
let sys: TestSystem;
let role: RoleFixture;
let env: Record<string, string>;
const processes: MicrocredProcess[] = [];

function startDecider(instance: string): MicrocredProcess {
  const p = spawnMicrocred({ ...env, ROLES: 'deciders', INSTANCE_ID: instance });
  processes.push(p);
  return p;
}

beforeAll(async () => {
  // The API and projections run here; deciders run as separate OS processes we can kill.
  env = systemEnv({
    COMMAND_REPLY_TIMEOUT_MS: '3000',
    KAFKA_TRANSACTION_TIMEOUT_MS: '5000',
    DECIDER_SNAPSHOT_EVERY: '25',
  });
  sys = await startTestSystem({ ...env, ROLES: 'api,projections' });
  const first = startDecider('decider-a');
  await first.waitFor('microcred started');
  role = await createRoleWithQuestions(sys);
});
afterAll(async () => {
  for (const p of processes) await p.kill('SIGKILL');
  await sys?.stop();
});

async function eventsOf(context: 'assessment'): Promise<(EventEnvelope & { offset: number; partition: number })[]> {
  const codec = new MessageCodec(sys.running.platform.codec, sys.running.platform.topics);
  const records = await readTopic(sys.running.platform, sys.running.platform.topics[context].events);
  return Promise.all(
    records.map(async (r) => ({
      ...(await codec.decode<EventEnvelope>(r.value)).value,
      offset: r.offset,
      partition: r.partition,
    })),
  );
}

/** Every aggregate's versions run 1..n without gaps or repeats; no event id twice. */
function expectCleanLog(events: EventEnvelope[]) {
  expect(new Set(events.map((e) => e.event_id)).size).toBe(events.length);
  const versions = new Map<string, number[]>();
  for (const e of events) versions.set(e.aggregate_id, [...(versions.get(e.aggregate_id) ?? []), e.version]);
  for (const [, v] of versions) expect(v).toEqual(v.map((_, i) => i + 1));
}

async function startAssessments(n: number): Promise<{ id: string; token: string }[]> {
  return Promise.all(
    Array.from({ length: n }, async () => {
      const s = await sys.registerAndLogin();
      const res = await sys.request('POST', '/api/v1/assessments/start', {
        token: s.token,
        body: { role_id: role.roleId },
      });
      expect(res.status).toBe(201);
      return { id: res.body.assessment_id as string, token: s.token };
    }),
  );
}

const choices = ['kubernetes', 'docker', 'helm', 'ftp'];

/** Sends `count` single-answer commands spread over the assessments; returns the command ids. */
async function answerLoad(
  targets: { id: string; token: string }[],
  count: number,
  concurrency = 10,
): Promise<string[]> {
  const commandIds: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        const t = targets[i % targets.length]!;
        const res = await sys.request('POST', `/api/v1/assessments/${t.id}/responses`, {
          token: t.token,
          body: { responses: [{ question_id: role.mcSingle, answer: choices[i % choices.length] }] },
          headers: { 'Idempotency-Key': `load-${i}-${randomUUID()}` },
        });
        expect([202]).toContain(res.status); // decided, or pending while no decider is up
        if (res.body.command_id) commandIds.push(res.body.command_id as string);
      }
    }),
  );
  return commandIds;
}

async function recordedCount(ids: string[]): Promise<number> {
  const events = await eventsOf('assessment');
  return events.filter((e) => ids.includes(e.aggregate_id) && e.type === 'ResponseRecorded').length;
}

/** Waits until `count` answers are decided, then checks each command caused exactly its two events, once. */
async function expectEveryCommandOnce(targets: { id: string }[], count: number) {
  const ids = targets.map((t) => t.id);
  await eventually(
    async () => ((await recordedCount(ids)) >= count ? true : undefined),
    120_000,
    'every command decided',
  );
  const events = (await eventsOf('assessment')).filter((e) => ids.includes(e.aggregate_id));
  expectCleanLog(events);
  expect(events.filter((e) => e.type === 'ResponseRecorded')).toHaveLength(count);
  const byCause = new Map<string, number>();
  for (const e of events.filter((x) => x.type !== 'AssessmentStarted'))
    byCause.set(e.causation_id!, (byCause.get(e.causation_id!) ?? 0) + 1);
  expect(byCause.size).toBe(count);
  expect([...byCause.values()].every((n) => n === 2)).toBe(true); // one recorded response and one score
}

test('20 concurrent requests on one assessment leave a history equal to some sequential order', async () => {
  const [target] = await startAssessments(1);
  const answers = Array.from({ length: 20 }, (_, i) => choices[i % choices.length]!);
  const results = await Promise.all(
    answers.map((answer) =>
      sys.request('POST', `/api/v1/assessments/${target!.id}/responses`, {
        token: target!.token,
        body: { responses: [{ question_id: role.mcSingle, answer }] },
      }),
    ),
  );
  expect(results.map((r) => r.status)).toEqual(answers.map(() => 202));
  const events = (await eventsOf('assessment')).filter((e) => e.aggregate_id === target!.id);
  expectCleanLog(events);
  const recorded = events.filter((e) => e.type === 'ResponseRecorded');
  expect(recorded).toHaveLength(20);
  // Revisions 1..20 in log order: each write saw exactly the writes before it.
  expect(recorded.map((e) => (e.data as { revision: number }).revision)).toEqual(answers.map((_, i) => i + 1));
  // Every answer sent is there exactly once (as a multiset), each followed by its score.
  expect(recorded.map((e) => (e.data as { answer: string }).answer).sort()).toEqual([...answers].sort());
  expect(events.filter((e) => e.type === 'ResponseRuleScored')).toHaveLength(20);
});

test('a decider killed with SIGKILL mid-stream and restarted: no duplicate event, no lost command', async () => {
  const targets = await startAssessments(5);
  const count = 150;
  const load = answerLoad(targets, count);
  await eventually(
    async () => ((await recordedCount(targets.map((t) => t.id))) >= 20 ? true : undefined),
    60_000,
    'some progress',
  );
  const victim = processes.find((p) => p.child.exitCode === null)!;
  await victim.kill('SIGKILL');
  const restarted = startDecider('decider-a'); // same instance id: fences the dead one's transactions at once
  await load;
  await restarted.waitFor('microcred started');
  await expectEveryCommandOnce(targets, count);
});

test('a rebalance between two decider processes under load: same guarantees', async () => {
  const targets = await startAssessments(6);
  const count = 200;
  const load = answerLoad(targets, count);
  await eventually(
    async () => ((await recordedCount(targets.map((t) => t.id))) >= 20 ? true : undefined),
    60_000,
    'some progress',
  );
  const second = startDecider('decider-b'); // joins: partitions move between the two
  await second.waitFor('partition caught up', 90_000);
  const first = processes.filter((p) => p !== second && p.child.exitCode === null)[0]!;
  await first.kill('SIGTERM'); // leaves gracefully: everything moves to the second
  await load;
  await expectEveryCommandOnce(targets, count);
});

test('with no decider up, a command is answered 202 with a status URL, kept, and decided when one returns', async () => {
  const [target] = await startAssessments(1);
  for (const p of processes) await p.kill('SIGTERM');
  const res = await sys.request('POST', `/api/v1/assessments/${target!.id}/responses`, {
    token: target!.token,
    body: { responses: [{ question_id: role.mcSingle, answer: 'helm' }] },
  });
  expect(res.status).toBe(202);
  expectMatchesContract('POST', '/assessments/{assessment_id}/responses', res);
  expect(res.body).toMatchObject({ status: 'pending', status_url: `/api/v1/commands/${res.body.command_id}` });
  const pending = await sys.request('GET', res.body.status_url, { token: target!.token });
  expect(pending.body).toEqual({ command_id: res.body.command_id, status: 'pending' });

  const back = startDecider('decider-b');
  const decided = await eventually(
    async () => {
      const status = await sys.request('GET', res.body.status_url, { token: target!.token });
      return status.body.status === 'accepted' ? status : undefined;
    },
    90_000,
    'the command to be decided',
  );
  expectMatchesContract('GET', '/commands/{command_id}', decided);
  expect(decided.body).toMatchObject({ aggregate_id: target!.id, events: 2, error: null });
  const history = await sys.request('GET', `/api/v1/assessments/${target!.id}/history`, { token: target!.token });
  expect(history.body.events.map((e: { type: string }) => e.type)).toEqual([
    'AssessmentStarted',
    'ResponseRecorded',
    'ResponseRuleScored',
  ]);

  // Rebuilds start from snapshots (taken every 25 events here), not from offset zero.
  await back.waitFor('partition caught up');
  const snapshots = await sys.running.platform.pool.query(
    'SELECT partition, events_offset FROM decider_snapshots WHERE topic = $1 AND events_offset > 0',
    [sys.running.platform.topics.assessment.events],
  );
  expect(snapshots.rowCount).toBeGreaterThan(0);
  const caughtUp = back
    .output()
    .split('\n')
    .filter((l) => l.includes('partition caught up') && l.includes('"context":"assessment"'))
    .map((l) => JSON.parse(l) as { fromOffset: number });
  expect(caughtUp.some((l) => l.fromOffset > 0)).toBe(true);
});
