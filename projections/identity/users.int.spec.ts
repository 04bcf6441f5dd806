import { identityContext } from '../../domain';
import type { UserCommand } from '../../domain/identity/decide';
import type { Actor } from '../../domain/shared/decider';
import { userIdForEmail } from '../../domain/shared/ids';
import type { EventEnvelope } from '../../services/messaging/envelopes';
import { at, commandOf, createTestbed, Streams, type Testbed } from '../audit/testing/testbed';
import { usersProjection } from './projection';
import { findUserByEmail, findUserById } from './queries';

jest.setTimeout(120_000);

let bed: Testbed;
const users = new Streams(identityContext);
const system: Actor = { id: 'system:bootstrap', role: 'system' };
const rootId = userIdForEmail('root@example.com');
const root: Actor = { id: rootId, role: 'admin' };
const adaId = userIdForEmail('ada@example.com');
const graceId = userIdForEmail('grace@example.com');
const bobId = userIdForEmail('bob@example.com');

const command = (type: UserCommand['type'], data: UserCommand['data'], actor: Actor, seconds: number) =>
  commandOf<UserCommand>(type, data, actor, at(seconds));

/** Everything the queries show about the users of this spec, plus the raw rows. */
async function snapshot() {
  const { rows } = await bed.platform.pool.query('SELECT * FROM users ORDER BY id');
  return {
    rows,
    byId: await Promise.all([rootId, adaId, graceId, bobId].map((id) => findUserById(bed.platform.pool, id))),
  };
}

const first: EventEnvelope[] = [];

beforeAll(async () => {
  bed = await createTestbed();
  first.push(
    ...users.decide(command('RegisterUser', { user_id: rootId, email: 'root@example.com', role: 'admin' }, system, 0)),
    ...users.decide(
      command(
        'RegisterUser',
        { user_id: adaId, email: ' Ada@Example.com ', role: 'student', profile: { headline: 'Data analyst' } },
        { id: adaId, role: 'student' },
        10,
      ),
    ),
    ...users.decide(
      command('RegisterUser', { user_id: graceId, email: 'grace@example.com', role: 'advisor' }, root, 20),
    ),
    ...users.decide(command('DisableUser', { user_id: graceId, reason: 'Left the team' }, root, 30)),
  );
  await bed.publish('identity', first);
  await bed.startRunner(usersProjection);
  await bed.caughtUp(usersProjection);
});

afterAll(async () => {
  await bed?.close();
});

test('registrations and disablements become users, without secrets', async () => {
  const ada = await findUserById(bed.platform.pool, adaId);
  expect(ada).toEqual({
    user_id: adaId,
    email: 'ada@example.com',
    role: 'student',
    profile: { headline: 'Data analyst' },
    status: 'active',
    created_at: at(10),
    updated_at: at(10),
  });
  expect(await findUserById(bed.platform.pool, graceId)).toMatchObject({
    role: 'advisor',
    status: 'disabled',
    created_at: at(20),
    updated_at: at(30),
  });
  expect(await findUserById(bed.platform.pool, rootId)).toMatchObject({ role: 'admin', profile: null });
  expect(await findUserById(bed.platform.pool, bobId)).toBeUndefined();
  expect(await findUserById(bed.platform.pool, 'not-a-uuid')).toBeUndefined();

  const { rows } = await bed.platform.pool.query(
    "SELECT column_name FROM information_schema.columns WHERE table_name = 'users'",
  );
  expect(rows.map((r) => r.column_name).filter((c: string) => /password|hash|secret|token/.test(c))).toEqual([]);
});

test('findUserByEmail ignores case and surrounding spaces', async () => {
  expect((await findUserByEmail(bed.platform.pool, '  ADA@example.COM'))?.user_id).toBe(adaId);
  expect(await findUserByEmail(bed.platform.pool, 'nobody@example.com')).toBeUndefined();
});

test('a new runner resumes where the last one stopped: nothing applied twice, nothing lost', async () => {
  await bed.stopRunners();
  const before = await snapshot();
  const more = [
    ...users.decide(command('RegisterUser', { user_id: bobId, email: 'bob@example.com', role: 'student' }, root, 40)),
    ...users.decide(command('DisableUser', { user_id: adaId, reason: null }, root, 50)),
  ];
  await bed.publish('identity', more);
  await bed.startRunner(usersProjection);
  await bed.caughtUp(usersProjection);

  const after = await snapshot();
  expect(after.rows).toHaveLength(4);
  expect(after.byId[2]).toEqual(before.byId[2]);
  expect(after.byId[1]).toMatchObject({ status: 'disabled', updated_at: at(50), created_at: at(10) });
  expect(after.byId[3]).toMatchObject({ email: 'bob@example.com', status: 'active' });
});

test('re-applying older events changes nothing', async () => {
  const before = await snapshot();
  // Ada's registration again (she is disabled since): she must stay disabled.
  for (const event of first) await bed.applyDirectly(usersProjection, event);
  expect(await snapshot()).toEqual(before);
});

test('events this build does not know are ignored', async () => {
  const before = await snapshot();
  await bed.applyDirectly(usersProjection, { ...first[0]!, event_id: adaId, type: 'UserRenamed', version: 99 });
  expect(await snapshot()).toEqual(before);
});

test('replaying from offset 0 over the rows, then into empty tables, gives the same read model', async () => {
  const before = await snapshot();
  await bed.stopRunners();
  await bed.reset(usersProjection);
  await bed.startRunner(usersProjection);
  await bed.caughtUp(usersProjection);
  expect(await snapshot()).toEqual(before);

  await bed.stopRunners();
  await bed.reset(usersProjection, ['users']);
  expect((await snapshot()).rows).toEqual([]);
  await bed.startRunner(usersProjection);
  await bed.caughtUp(usersProjection);
  expect(await snapshot()).toEqual(before);
});
