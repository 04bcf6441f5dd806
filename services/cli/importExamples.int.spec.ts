import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRoleWithQuestions, type RoleFixture } from '../../test/support/catalogFixture';
import { startTestSystem, type TestSystem } from '../../test/support/system';
import { createCommandClient } from '../messaging/commandClient';
import { MessageCodec } from '../messaging/messageCodec';
import { CliError, importExamples } from './importExamples';

jest.setTimeout(120_000);

/** `microcred import-examples`: the same command as the API's TSV import, through the command bus. */
let sys: TestSystem;
let role: RoleFixture;
let client: Awaited<ReturnType<typeof createCommandClient>>;
const dir = mkdtempSync(join(tmpdir(), 'import-examples-'));

beforeAll(async () => {
  sys = await startTestSystem();
  role = await createRoleWithQuestions(sys);
  const { platform } = sys.running;
  client = await createCommandClient(platform, new MessageCodec(platform.codec, platform.topics), 'cli-spec');
});
afterAll(async () => {
  await client?.stop();
  await sys?.stop();
});

const file = (name: string, ...rows: string[]) => {
  const path = join(dir, name);
  writeFileSync(path, ['text\tscore', ...rows].join('\n') + '\n');
  return path;
};
/** The question's example count, as the admin API shows it (read-your-writes: no waiting). */
async function count(): Promise<number> {
  const res = await sys.request('GET', `/api/v1/catalog/questions/${role.essay}/scored-examples`, {
    token: await sys.adminToken(),
  });
  return res.body.total as number;
}

test('imports a file once; a bad row on line 3 imports nothing and names the line', async () => {
  const deps = { bus: client.bus, pool: sys.running.platform.pool };
  const good = file('good.tsv', 'Canary first, then stages.\t4', 'Just ship it.\t0');
  await expect(importExamples(deps, role.essay, good)).resolves.toMatchObject({ imported: 2, already: false });
  await expect(importExamples(deps, role.essay, good)).resolves.toMatchObject({ imported: 2, already: true });
  const afterGood = await count();
  expect(afterGood).toBeGreaterThanOrEqual(2);

  const bad = file('bad.tsv', 'Fine.\t1', 'Not fine.\tfive', 'Fine too.\t2');
  const refused = importExamples(deps, role.essay, bad);
  await expect(refused).rejects.toBeInstanceOf(CliError);
  await expect(refused).rejects.toThrow(/line 3: score "five" is not a number/);
  await expect(importExamples(deps, role.mcSingle, good)).rejects.toThrow(/multiple_choice question/);
  await expect(importExamples(deps, role.essay, join(dir, 'missing.tsv'))).rejects.toThrow(/cannot read .*ENOENT/);
  expect(await count()).toBe(afterGood);
});
