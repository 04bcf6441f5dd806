import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../../test/support/platform';
import { startTestSystem, type TestSystem } from '../../test/support/system';
import { cli } from '../replay/testing/cliRun';
import { demoDocuments } from './demoCatalog';

jest.setTimeout(180_000);

/** `microcred documents add|list` and the demo catalog's documents, on a whole system. */
let sys: TestSystem;
const dir = mkdtempSync(join(tmpdir(), 'documents-cli-'));
const file = (name: string, content: string | Buffer) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
const run = (...argv: string[]) => cli(sys.env, ...argv);
const get = async (id: string) =>
  sys.request('GET', `/api/v1/catalog/documents/${id}`, { token: await sys.adminToken() });

beforeAll(async () => {
  sys = await startTestSystem();
});
afterAll(async () => {
  await sys?.stop();
});

test('adds a UTF-8 markdown file once, its text exactly as in the file; lists it', async () => {
  const text =
    '\uFEFF# Reading SQL plans\r\n\r\nAn index scan beats a sequential scan when few rows match. Ünïcödé ✓\n';
  const path = file('plans.md', text);
  const uri = `https://docs.microcred.example/guides/sql-plans-${randomUUID().slice(0, 6)}`;
  const args = ['documents', 'add', '--title', 'Reading SQL plans', '--source-uri', uri, '--file', path];
  const first = await run(...args, '--json');
  expect(first).toMatchObject({ code: 0, stderr: '' });
  const added = JSON.parse(first.stdout) as { document_id: string; already: boolean; text_length: number };
  expect(added).toMatchObject({ title: 'Reading SQL plans', source_uri: uri, already: false });
  // The byte order mark is not part of the text.
  expect(added.text_length).toBe(text.length - 1);

  const again = await run(...args);
  expect(again.code).toBe(0);
  expect(again.stdout).toMatch(/was added before from this file; nothing new/);

  const read = await eventually(async () => {
    const res = await get(added.document_id);
    return res.status === 200 ? res : undefined;
  }, 15_000);
  expect(read.body).toMatchObject({ text: text.slice(1), version: '1', source_uri: uri });

  const listed = await run('documents', 'list', '--json');
  expect(listed.code).toBe(0);
  const items = (JSON.parse(listed.stdout) as { items: { document_id: string }[] }).items;
  expect(items.map((d) => d.document_id)).toContain(added.document_id);
  const table = await run('documents', 'list');
  expect(table.stdout).toMatch(/^document_id\s+version\s+status\s+characters\s+title\s+source_uri/);
  expect(table.stdout).toContain(uri);

  // Another text from the same source is refused, saying how to revise it.
  const changed = await run(...args.slice(0, -1), file('plans-2.md', '# Reading SQL plans\n\nRevised.\n'));
  expect(changed.code).toBe(1);
  expect(changed.stderr).toMatch(/was added before \(id .*\) with another title or text; revise it with PUT/);
});

test.each<[string, string | Buffer, RegExp]>([
  [
    'a binary file',
    Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00, 0x14]),
    /is a binary file, not text \(a NUL byte at byte 4\)/,
  ],
  [
    'a Latin-1 file',
    Buffer.from('Caf\u00e9 au lait', 'latin1'),
    /is not UTF-8 text \(byte 0xe9 at byte 3 starts no UTF-8 character\); convert it to UTF-8/,
  ],
  ['an empty file', '', /its text must not be empty/],
  ['a file of blank lines', '\n\n  \n', /its text must not be empty/],
  ['a file over 200,000 characters', 'x'.repeat(200_001), /at most 200,000 characters \(got 200,001\)/],
  ['a control character', 'page one\fpage two', /control character U\+000C at character 8/],
])('refuses %s clearly, exit code 1, nothing added', async (_name, content, message) => {
  const path = file(`bad-${randomUUID()}.md`, content);
  const res = await run('documents', 'add', '--title', 'Bad', '--source-uri', 'urn:test:bad', '--file', path);
  expect(res.code).toBe(1);
  expect(res.stderr).toMatch(message);
  expect(res.stderr.trim().split('\n')).toHaveLength(1);
  expect(res.stdout).toBe('');
});

test('usage and argument errors', async () => {
  const path = file('ok.md', '# Ok\n\nFine.\n');
  const noFile = await run('documents', 'add', '--title', 'T', '--source-uri', 'urn:x:y');
  expect(noFile.code).toBe(2);
  expect(noFile.stderr).toMatch(/--file/);
  const badUri = await run('documents', 'add', '--title', 'T', '--source-uri', 'docs/ok.md', '--file', path);
  expect(badUri).toMatchObject({ code: 1, stderr: expect.stringMatching(/--source-uri: must be an absolute URI/) });
  const missing = await run(
    'documents',
    'add',
    '--title',
    'T',
    '--source-uri',
    'urn:x:y',
    '--file',
    join(dir, 'no.md'),
  );
  expect(missing).toMatchObject({ code: 1, stderr: expect.stringMatching(/cannot read .*ENOENT/) });
  const help = await run('documents', 'add', '--help');
  expect(help.code).toBe(0);
  expect(help.stdout).toMatch(/--source-uri <uri>/);
});

test('the demo catalog loads its knowledge documents, and a second load adds nothing', async () => {
  const documents = demoDocuments();
  expect(documents.length).toBeGreaterThanOrEqual(5);
  const first = await run('demo-catalog');
  expect(first.code).toBe(0);
  const second = await run('demo-catalog');
  expect(second.code).toBe(0);
  expect(JSON.parse(second.stdout.trim().split('\n').pop()!)).toMatchObject({ created: 0 });

  for (const d of documents) {
    expect(d.source_uri).toBe(`https://docs.microcred.example/guides/${d.slug}`);
    const read = await eventually(async () => {
      const res = await get(d.document_id);
      return res.status === 200 ? res : undefined;
    }, 15_000);
    expect(read.body).toMatchObject({ title: d.title, source_uri: d.source_uri, text: d.text, version: '1' });
  }
  const { rows } = await sys.running.platform.pool.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM knowledge_documents WHERE id = ANY($1)',
    [documents.map((d) => d.document_id)],
  );
  expect(rows[0]!.n).toBe(documents.length);
});
