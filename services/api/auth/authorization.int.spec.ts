import jwt from 'jsonwebtoken';
import { randomUUID } from 'node:crypto';
import { createRoleWithQuestions, type RoleFixture } from '../../../test/support/catalogFixture';
import { eventually } from '../../../test/support/platform';
import { expectMatchesContract, startTestSystem, type TestSystem } from '../../../test/support/system';
import { TOKEN_AUDIENCE, TOKEN_ISSUER, issueToken } from './tokens';

jest.setTimeout(120_000);

type Who = 'anonymous' | 'owner' | 'otherStudent' | 'advisor' | 'admin';
let sys: TestSystem;
let role: RoleFixture;
let tokens: Record<Who, string | undefined>;
let users: Record<'owner' | 'otherStudent' | 'advisor', string>;
let assessmentId: string;
let ownersCommandId: string;

beforeAll(async () => {
  sys = await startTestSystem();
  role = await createRoleWithQuestions(sys);
  const [owner, other, advisor] = await Promise.all([
    sys.registerAndLogin('student'),
    sys.registerAndLogin('student'),
    sys.registerAndLogin('advisor'),
  ]);
  tokens = {
    anonymous: undefined,
    owner: owner.token,
    otherStudent: other.token,
    advisor: advisor.token,
    admin: await sys.adminToken(),
  };
  users = { owner: owner.userId, otherStudent: other.userId, advisor: advisor.userId };
  const start = await sys.request('POST', '/api/v1/assessments/start', {
    token: owner.token,
    body: { role_id: role.roleId },
  });
  assessmentId = start.body.assessment_id;
  ownersCommandId = await eventually(
    async () => {
      const outcome = await sys.running.platform.pool.query(
        'SELECT command_id FROM command_outcomes WHERE aggregate_id = $1',
        [assessmentId],
      );
      return outcome.rows[0]?.command_id as string | undefined;
    },
    15_000,
    'the start command outcome',
  );
});
afterAll(async () => {
  await sys?.stop();
});

const roleInput = () => ({
  name: `Role ${randomUUID().slice(0, 6)}`,
  description: 'x',
  skills_profile: [{ skill: 'sql' }],
});
const credentialInput = () => ({
  title: `Cred ${randomUUID().slice(0, 6)}`,
  description: 'A course',
  skills: ['sql'],
  provider: 'Acme',
});
const questionInput = () => ({
  role_id: role.roleId,
  question_type: 'multiple_choice',
  prompt: 'Pick one',
  choices: ['a', 'b'],
  rubric: { scoring: 'choice', select: 'single', correct: ['a'] },
  weight: 1,
});

interface Case {
  name: string;
  method: string;
  template: string;
  path: () => string | Promise<string>;
  body?: () => unknown;
  expect: Record<Who, number>;
}

const adminOnlyWrite = (status: number) => ({
  anonymous: 401,
  owner: 403,
  otherStudent: 403,
  advisor: 403,
  admin: status,
});
const anySignedIn = (status: number) => ({
  anonymous: 401,
  owner: status,
  otherStudent: status,
  advisor: status,
  admin: status,
});

async function freshRole(): Promise<string> {
  const res = await sys.request('POST', '/api/v1/catalog/roles', { token: tokens.admin, body: roleInput() });
  return res.body.role_id;
}
async function freshQuestion(): Promise<string> {
  const res = await sys.request('POST', '/api/v1/catalog/questions', { token: tokens.admin, body: questionInput() });
  return res.body.question_id;
}
async function freshCredential(): Promise<string> {
  const res = await sys.request('POST', '/api/v1/catalog/credentials', {
    token: tokens.admin,
    body: credentialInput(),
  });
  return res.body.credential_id;
}

const cases: Case[] = [
  {
    name: 'create a user',
    method: 'POST',
    template: '/admin/users',
    path: () => '/api/v1/admin/users',
    body: () => ({ email: `adv-${randomUUID().slice(0, 6)}@t.local`, password: 'Advis0r-password-1', role: 'advisor' }),
    expect: adminOnlyWrite(201),
  },
  {
    name: 'list roles',
    method: 'GET',
    template: '/catalog/roles',
    path: () => '/api/v1/catalog/roles',
    expect: anySignedIn(200),
  },
  {
    name: 'create a role',
    method: 'POST',
    template: '/catalog/roles',
    path: () => '/api/v1/catalog/roles',
    body: roleInput,
    expect: adminOnlyWrite(201),
  },
  {
    name: 'revise a role',
    method: 'PUT',
    template: '/catalog/roles/{role_id}',
    path: async () => `/api/v1/catalog/roles/${await freshRole()}`,
    body: roleInput,
    expect: adminOnlyWrite(200),
  },
  {
    name: 'retire a role',
    method: 'DELETE',
    template: '/catalog/roles/{role_id}',
    path: async () => `/api/v1/catalog/roles/${await freshRole()}`,
    expect: adminOnlyWrite(204),
  },
  {
    name: "list a role's questions",
    method: 'GET',
    template: '/catalog/roles/{role_id}/questions',
    path: () => `/api/v1/catalog/roles/${role.roleId}/questions`,
    expect: { anonymous: 401, owner: 403, otherStudent: 403, advisor: 200, admin: 200 },
  },
  {
    name: 'create a question',
    method: 'POST',
    template: '/catalog/questions',
    path: () => '/api/v1/catalog/questions',
    body: questionInput,
    expect: adminOnlyWrite(201),
  },
  {
    name: 'revise a question',
    method: 'PUT',
    template: '/catalog/questions/{question_id}',
    path: async () => `/api/v1/catalog/questions/${await freshQuestion()}`,
    body: () => {
      const { role_id: _r, ...rest } = questionInput();
      return { ...rest, prompt: 'Pick one, again' };
    },
    expect: adminOnlyWrite(200),
  },
  {
    name: 'retire a question',
    method: 'DELETE',
    template: '/catalog/questions/{question_id}',
    path: async () => `/api/v1/catalog/questions/${await freshQuestion()}`,
    expect: adminOnlyWrite(204),
  },
  {
    name: 'list credentials',
    method: 'GET',
    template: '/catalog/credentials',
    path: () => '/api/v1/catalog/credentials',
    expect: anySignedIn(200),
  },
  {
    name: 'create a credential',
    method: 'POST',
    template: '/catalog/credentials',
    path: () => '/api/v1/catalog/credentials',
    body: credentialInput,
    expect: adminOnlyWrite(201),
  },
  {
    name: 'revise a credential',
    method: 'PUT',
    template: '/catalog/credentials/{credential_id}',
    path: async () => `/api/v1/catalog/credentials/${await freshCredential()}`,
    body: credentialInput,
    expect: adminOnlyWrite(200),
  },
  {
    name: 'retire a credential',
    method: 'DELETE',
    template: '/catalog/credentials/{credential_id}',
    path: async () => `/api/v1/catalog/credentials/${await freshCredential()}`,
    expect: adminOnlyWrite(204),
  },
  {
    name: 'start an assessment',
    method: 'POST',
    template: '/assessments/start',
    path: () => '/api/v1/assessments/start',
    body: () => ({ role_id: role.roleId }),
    expect: { anonymous: 401, owner: 201, otherStudent: 201, advisor: 403, admin: 403 },
  },
  {
    name: "answer someone's assessment",
    method: 'POST',
    template: '/assessments/{assessment_id}/responses',
    path: () => `/api/v1/assessments/${assessmentId}/responses`,
    body: () => ({ responses: [{ question_id: role.mcSingle, answer: 'helm' }] }),
    expect: { anonymous: 401, owner: 202, otherStudent: 403, advisor: 403, admin: 202 },
  },
  {
    name: 'read an assessment',
    method: 'GET',
    template: '/assessments/{assessment_id}',
    path: () => `/api/v1/assessments/${assessmentId}`,
    expect: { anonymous: 401, owner: 200, otherStudent: 403, advisor: 200, admin: 200 },
  },
  {
    name: "read an assessment's history",
    method: 'GET',
    template: '/assessments/{assessment_id}/history',
    path: () => `/api/v1/assessments/${assessmentId}/history`,
    expect: { anonymous: 401, owner: 200, otherStudent: 403, advisor: 200, admin: 200 },
  },
  {
    name: "read a command's status",
    method: 'GET',
    template: '/commands/{command_id}',
    path: () => `/api/v1/commands/${ownersCommandId}`,
    expect: { anonymous: 401, owner: 200, otherStudent: 403, advisor: 200, admin: 200 },
  },
];

const whos: Who[] = ['anonymous', 'owner', 'otherStudent', 'advisor', 'admin'];
describe.each(cases)('$name', (c) => {
  test.each(whos)('as %s', async (who) => {
    const res = await sys.request(c.method, await c.path(), { token: tokens[who], body: c.body?.() });
    expect({ who, status: res.status, body: res.status >= 400 ? res.body : undefined }).toMatchObject({
      who,
      status: c.expect[who],
    });
    if (res.status >= 400)
      expect(res.body).toEqual(
        expect.objectContaining({ error_code: expect.any(String), message: expect.any(String) }),
      );
    expectMatchesContract(c.method, c.template, res);
  });
});

describe('tokens', () => {
  const path = () => `/api/v1/assessments/${assessmentId}`;
  test('an expired token is refused with 401', async () => {
    const expired = jwt.sign({ role: 'student', exp: Math.floor(Date.now() / 1000) - 60 }, sys.env.JWT_SECRET!, {
      subject: users.owner,
      issuer: TOKEN_ISSUER,
      audience: TOKEN_AUDIENCE,
    });
    const res = await sys.request('GET', path(), { token: expired });
    expect(res.status).toBe(401);
    expect(res.body.error_code).toBe('UNAUTHORIZED');
  });
  test('a token signed with another secret is refused with 401', async () => {
    const forged = issueToken({ sub: users.owner, role: 'admin' }, 'x'.repeat(48), 600);
    expect((await sys.request('GET', path(), { token: forged })).status).toBe(401);
  });
  test('an unsigned token (alg none) is refused with 401', async () => {
    const unsigned = jwt.sign({ role: 'admin', sub: users.owner, iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE }, '', {
      algorithm: 'none',
    });
    expect((await sys.request('GET', path(), { token: unsigned })).status).toBe(401);
  });
  test('garbage and missing tokens are refused with 401', async () => {
    expect((await sys.request('GET', path(), { token: 'not.a.token' })).status).toBe(401);
    expect((await sys.request('GET', path())).status).toBe(401);
  });
});

describe('registration and login', () => {
  test('emails are unique case-insensitively: a second registration gets 409', async () => {
    const email = `Dup-${randomUUID().slice(0, 6)}@Test.Local`;
    const first = await sys.request('POST', '/api/v1/auth/register', {
      body: { email, password: 'Corr3ct-horse-battery' },
    });
    expect(first.status).toBe(201);
    expectMatchesContract('POST', '/auth/register', first);
    const second = await sys.request('POST', '/api/v1/auth/register', {
      body: { email: email.toLowerCase(), password: 'An0ther-password-here' },
    });
    expect(second.status).toBe(409);
    expect(second.body.error_code).toBe('EMAIL_ALREADY_REGISTERED');
    // The first password still works, the second never did.
    expect(
      (await sys.request('POST', '/api/v1/auth/token', { body: { email, password: 'Corr3ct-horse-battery' } })).status,
    ).toBe(200);
    expect(
      (await sys.request('POST', '/api/v1/auth/token', { body: { email, password: 'An0ther-password-here' } })).status,
    ).toBe(401);
  });
  test('a weak password is refused with 422 naming what is wrong', async () => {
    const res = await sys.request('POST', '/api/v1/auth/register', {
      body: { email: `w-${randomUUID().slice(0, 6)}@t.local`, password: 'short' },
    });
    expect(res.status).toBe(422);
    expect(res.body.error_code).toBe('WEAK_PASSWORD');
    expect(res.body.message).toMatch(/12 characters/);
  });
  test('a wrong password and an unknown email get the same 401', async () => {
    const a = await sys.request('POST', '/api/v1/auth/token', {
      body: { email: `nobody-${randomUUID()}@t.local`, password: 'Whatever-123456' },
    });
    expect(a.status).toBe(401);
    expect(a.body.error_code).toBe('INVALID_CREDENTIALS');
  });
  test('the token response matches the contract', async () => {
    const s = await sys.registerAndLogin();
    expect(s.token.split('.')).toHaveLength(3);
    const decoded = jwt.decode(s.token) as { sub: string; role: string };
    expect(decoded).toMatchObject({ sub: s.userId, role: 'student' });
  });
});

describe('rate limiting', () => {
  let limited: TestSystem;
  beforeAll(async () => {
    limited = await startTestSystem({ RATE_LIMIT_PER_MINUTE: '5' });
  });
  afterAll(async () => {
    await limited?.stop();
  });
  test('past the per-user budget: 429 with Retry-After, in the contract shape', async () => {
    const token = issueToken({ sub: randomUUID(), role: 'advisor' }, limited.env.JWT_SECRET!, 600);
    const statuses: number[] = [];
    let last;
    for (let i = 0; i < 7; i++) {
      last = await limited.request('GET', '/api/v1/catalog/roles', { token });
      statuses.push(last.status);
    }
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(statuses.slice(5)).toEqual([429, 429]);
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(last!.body).toEqual({ error_code: 'RATE_LIMITED', message: expect.any(String) });
    // Another user has a budget of their own.
    const other = issueToken({ sub: randomUUID(), role: 'advisor' }, limited.env.JWT_SECRET!, 600);
    expect((await limited.request('GET', '/api/v1/catalog/roles', { token: other })).status).toBe(200);
  });
});
