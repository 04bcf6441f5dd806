import { searchIndexed } from '../../test/support/demoAssessment';
import { startTestSystem, type TestSystem } from '../../test/support/system';
import { cli } from '../replay/testing/cliRun';
import { demoCatalogFile } from './demoCatalog';

jest.setTimeout(240_000);

/** `microcred demo-assessment`: what npm start tells a newcomer to run, on a whole system. */
let sys: TestSystem;
let student: { email: string; password: string };
const run = (...argv: string[]) => cli(sys.env, ...argv);

beforeAll(async () => {
  sys = await startTestSystem({ PROCESSOR_POLL_MS: '100' });
  expect((await run('demo-catalog')).code).toBe(0);
  await searchIndexed(sys, demoCatalogFile().credentials.length);
  student = { email: `demo-${Date.now()}@test.microcred.local`, password: 'Demo-student-passw0rd' };
  const res = await sys.request('POST', '/api/v1/auth/register', { body: student });
  expect(res.status).toBe(201);
});
afterAll(async () => {
  await sys?.stop();
});

const as = () => ['--email', student.email, '--password', student.password, '--api', `${sys.url}/api/v1`];

test('takes a demo role’s assessment through the API and prints the result with its evidence', async () => {
  const out = await run('demo-assessment', '--role', 'UX Designer', '--weak', 'figma,prototyping', ...as());
  expect(out.code).toBe(0);
  expect(out.stdout).toMatch(/^assessment [0-9a-f-]{36}/);
  expect(out.stdout).toMatch(/^1\. .+ \(confidence 0\.\d\d\)$/m);
  expect(out.stdout).toMatch(/^ {3}evidence: ".+" \((microcred|https):\/\//m);
  expect(out.stdout).toMatch(/the whole result: GET .+\/assessments\/[0-9a-f-]{36}\/result/);

  const json = await run('demo-assessment', '--role', 'data-analyst', '--json', ...as());
  expect(json.code).toBe(0);
  const result = JSON.parse(json.stdout) as { recommendation_items: unknown[]; degraded: boolean };
  expect(result.recommendation_items).toHaveLength(5);
  expect(result.degraded).toBe(true); // no LLM in this system
});

test('bad input: a clear message and exit 1, never a stack trace', async () => {
  const role = await run('demo-assessment', '--role', 'Astronaut', ...as());
  expect(role.code).toBe(1);
  expect(role.stderr).toMatch(/no demo role "Astronaut"; the demo roles are: Data Analyst, /);
  const password = await run(
    'demo-assessment',
    '--email',
    student.email,
    '--password',
    'wrong-password-1',
    '--api',
    `${sys.url}/api/v1`,
  );
  expect(password.code).toBe(1);
  expect(password.stderr).toMatch(/signing in as .+ answered 401/);
  const down = await run('demo-assessment', ...as().slice(0, 4), '--api', 'http://127.0.0.1:9/api/v1');
  expect(down.code).toBe(1);
  expect(down.stderr).toMatch(/cannot reach the API at http:\/\/127\.0\.0\.1:9\/api\/v1/);
  for (const r of [role, password, down]) expect(r.stderr).not.toMatch(/\n\s+at /);
});
