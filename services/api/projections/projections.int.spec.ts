import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { RebuildInterrupted, startRebuild } from '../../../projections/runtime/rebuild/rebuild';
import { HistoryGenerator } from '../../../projections/runtime/rebuild/testing/history';
import { MessageCodec } from '../../messaging/messageCodec';
import { loadConfig } from '../../platform/config';
import { eventually } from '../../../test/support/platform';
import { expectMatchesContract, startTestSystem, type TestSystem } from '../../../test/support/system';

jest.setTimeout(180_000);

/**
 * The admin API's projection operations on a system of its own — with a database of its own too,
 * since a rebuild replaces whole tables (and refuses a database another system writes to).
 */
let sys: TestSystem;
let admin: string;
const database = `microcred_api_rebuild_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
const server = new Client({ connectionString: loadConfig().DATABASE_URL });

beforeAll(async () => {
  await server.connect();
  await server.query(`CREATE DATABASE ${database}`);
  const url = new URL(loadConfig().DATABASE_URL);
  url.pathname = `/${database}`;
  sys = await startTestSystem({ ROLES: 'api,deciders,projections', DATABASE_URL: url.toString() });
  admin = await sys.adminToken();
  await sys.registerAndLogin('student');
  // Some history, so that a rebuild has something to read (written as the deciders would).
  const { platform } = sys.running;
  const codec = new MessageCodec(platform.codec, platform.topics);
  const history = new HistoryGenerator({ students: 10, namespace: 'api-rebuild' });
  const producer = platform.kafka.producer('spec-history');
  await producer.connect();
  const events = [...history.setup()];
  for (let i = 0; i < 40; i++) events.push(...history.assessment(i));
  for (const { context, envelope } of events) {
    const value = await codec.encodeEvent(context, envelope);
    await producer.send({ topic: platform.topics[context].events, messages: [{ key: envelope.aggregate_id, value }] });
  }
  await producer.disconnect();
});

afterAll(async () => {
  await sys?.stop();
  await server.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await server.end();
});

const get = (path: string, token = admin) => sys.request('GET', `/api/v1${path}`, { token });
const post = (path: string, token = admin) => sys.request('POST', `/api/v1${path}`, { token });

async function swapped(id: string) {
  return eventually(async () => {
    const res = await get(`/admin/projections/rebuilds/${id}`);
    expectMatchesContract('GET', '/admin/projections/rebuilds/{id}', res);
    return res.body.status === 'swapped' ? res.body : undefined;
  }, 60_000);
}

test('GET /admin/projections: every projection, per partition, with its lag (admins only)', async () => {
  const res = await get('/admin/projections');
  expect(res.status).toBe(200);
  expectMatchesContract('GET', '/admin/projections', res);
  const users = res.body.projections.filter((p: { projection: string }) => p.projection === 'users');
  expect(users.length).toBe(sys.config.KAFKA_PARTITIONS);
  expect(users.every((p: { topic: string }) => p.topic === `${sys.config.KAFKA_TOPIC_PREFIX}.identity.events`)).toBe(
    true,
  );
  const student = await sys.registerAndLogin('student');
  const refused = await get('/admin/projections', student.token);
  expect(refused.status).toBe(403);
  expectMatchesContract('GET', '/admin/projections', refused);
});

test('POST /admin/projections/{name}/rebuild: 202 with the rebuild, followed to the swap; a second one meanwhile is 409', async () => {
  const res = await post('/admin/projections/users/rebuild');
  expect(res.status).toBe(202);
  expectMatchesContract('POST', '/admin/projections/{name}/rebuild', res);
  expect(res.body).toMatchObject({ projections: ['users'], status: 'running' });
  expect(res.headers.get('location')).toBe(`/api/v1/admin/projections/rebuilds/${res.body.id}`);
  expect(res.body.status_url).toBe(res.headers.get('location'));

  const again = await post('/admin/projections/users/rebuild');
  expect(again.status).toBe(409);
  expectMatchesContract('POST', '/admin/projections/{name}/rebuild', again);
  expect(again.body).toMatchObject({ error_code: 'REBUILD_RUNNING', details: { rebuild_id: res.body.id } });

  const done = await swapped(res.body.id);
  expect(done).toMatchObject({ phase: 'done', requested_by: expect.stringMatching(/^api:/), error: null });
  // The rebuilt users still sign in, and the status lists the rebuild.
  expect((await sys.registerAndLogin('student')).token).toBeTruthy();
  expect((await get('/admin/projections')).body.rebuilds[0]).toMatchObject({ id: res.body.id, status: 'swapped' });
  const cancel = await sys.request('DELETE', `/api/v1/admin/projections/rebuilds/${res.body.id}`, { token: admin });
  expect(cancel.status).toBe(409);
  expectMatchesContract('DELETE', '/admin/projections/rebuilds/{id}', cancel);
  expect(cancel.body.error_code).toBe('REBUILD_FINISHED');
});

test('an interrupted rebuild: resumed through the API, or cancelled', async () => {
  const { platform } = sys.running;
  const deps = { ...platform, codec: new MessageCodec(platform.codec, platform.topics) };
  const interrupt = async () => {
    const controller = new AbortController();
    const { record, done } = await startRebuild(deps, ['audit'], {
      batchSize: 5,
      concurrency: 1,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.records >= 5) controller.abort();
      },
    });
    await expect(done).rejects.toBeInstanceOf(RebuildInterrupted);
    return record.id;
  };
  const first = await interrupt();
  expect((await get(`/admin/projections/rebuilds/${first}`)).body.status).toBe('interrupted');
  const blocked = await post('/admin/projections/audit/rebuild');
  expect(blocked.status).toBe(409);
  expect(blocked.body).toMatchObject({ error_code: 'REBUILD_INTERRUPTED', details: { rebuild_id: first } });
  const resumed = await post(`/admin/projections/rebuilds/${first}/resume`);
  expect(resumed.status).toBe(202);
  expectMatchesContract('POST', '/admin/projections/rebuilds/{id}/resume', resumed);
  await swapped(first);

  const second = await interrupt();
  const cancelled = await sys.request('DELETE', `/api/v1/admin/projections/rebuilds/${second}`, { token: admin });
  expect(cancelled.status).toBe(200);
  expectMatchesContract('DELETE', '/admin/projections/rebuilds/{id}', cancelled);
  expect(cancelled.body).toMatchObject({ id: second, status: 'cancelled' });
});

test('unknown projections and rebuilds are 404, projections the log cannot rebuild 409, in the error shape', async () => {
  for (const [path, code] of [
    ['/admin/projections/nope/rebuild', 'PROJECTION_NOT_FOUND'],
    ['/admin/projections/processor.essay-scoring/rebuild', 'PROJECTION_NOT_FOUND'],
    [`/admin/projections/rebuilds/${randomUUID()}/resume`, 'REBUILD_NOT_FOUND'],
  ] as const) {
    const res = await post(path);
    expect({ path, status: res.status, code: res.body.error_code }).toEqual({ path, status: 404, code });
  }
  for (const id of [randomUUID(), 'not-an-id']) {
    const res = await get(`/admin/projections/rebuilds/${id}`);
    expect(res.status).toBe(404);
    expectMatchesContract('GET', '/admin/projections/rebuilds/{id}', res);
  }
  const replies = await post('/admin/projections/command_outcomes/rebuild');
  expect(replies.status).toBe(409);
  expectMatchesContract('POST', '/admin/projections/{name}/rebuild', replies);
  expect(replies.body.error_code).toBe('PROJECTION_NOT_REBUILDABLE');
});
