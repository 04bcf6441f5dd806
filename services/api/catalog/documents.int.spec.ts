import { randomUUID } from 'node:crypto';
import { MAX_DOCUMENT_TEXT } from '../../../domain/catalog/knowledgeDocument';
import { expectMatchesContract, startTestSystem, type HttpResult, type TestSystem } from '../../../test/support/system';

jest.setTimeout(120_000);

/** /catalog/documents on a whole system: admins write, every signed-in user reads; bad text is 422. */
let sys: TestSystem;
let admin: string;
let student: string;
let advisor: string;

beforeAll(async () => {
  sys = await startTestSystem();
  admin = await sys.adminToken();
  const [s, a] = await Promise.all([sys.registerAndLogin('student'), sys.registerAndLogin('advisor')]);
  student = s.token;
  advisor = a.token;
});
afterAll(async () => {
  await sys?.stop();
});

const LIST = '/catalog/documents';
const ONE = '/catalog/documents/{document_id}';
const url = (id?: string) => `/api/v1/catalog/documents${id ? `/${id}` : ''}`;

/** Sends a request and checks the answer against the served contract. */
async function call(
  method: string,
  template: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<HttpResult> {
  const res = await sys.request(method, path, options);
  expectMatchesContract(method, template, res);
  return res;
}

const input = (overrides: Record<string, unknown> = {}) => ({
  title: `SQL in practice ${randomUUID().slice(0, 6)}`,
  source_uri: `https://docs.microcred.example/guides/sql-${randomUUID().slice(0, 6)}`,
  text: '  # SQL in practice\r\n\r\nAnalysts join, filter\tand aggregate every day. 東京 👩🏽‍💻\n',
  ...overrides,
});
const add = (body: unknown = input(), token = admin) => call('POST', LIST, url(), { token, body });

test('an admin adds a document; any signed-in user reads it, text exactly as added', async () => {
  const body = input();
  const created = await add(body);
  expect(created.status).toBe(201);
  expect(created.body).toMatchObject({
    title: body.title,
    source_uri: body.source_uri,
    text: body.text,
    text_length: body.text.length,
    version: '1',
    status: 'active',
    active: true,
    retired_at: null,
  });
  const id = created.body.document_id as string;
  for (const token of [student, advisor, admin]) {
    const read = await call('GET', ONE, url(id), { token });
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created.body);
  }
  const list = await call('GET', LIST, `${url()}?page_size=100`, { token: student });
  expect(list.status).toBe(200);
  const item = (list.body.items as { document_id: string }[]).find((d) => d.document_id === id);
  expect(item).toMatchObject({ title: body.title, text_length: body.text.length });
  expect(item).not.toHaveProperty('text');
  expect(list.body).toMatchObject({ page: 1, page_size: 100, total: expect.any(Number) });
  const withText = await call('GET', LIST, `${url()}?page_size=100&include_text=true`, { token: student });
  expect((withText.body.items as { document_id: string; text: string }[]).find((d) => d.document_id === id)?.text).toBe(
    body.text,
  );
});

test('an Idempotency-Key makes a retried add the same document, added once', async () => {
  const key = randomUUID();
  const body = input();
  const first = await call('POST', LIST, url(), { token: admin, body, headers: { 'Idempotency-Key': key } });
  const again = await call('POST', LIST, url(), { token: admin, body, headers: { 'Idempotency-Key': key } });
  expect(first.status).toBe(201);
  expect(again.status).toBe(201);
  expect(again.body.document_id).toBe(first.body.document_id);
  expect(again.body.version).toBe('1');
});

describe('refused with 422 INVALID_DOCUMENT and a clear message', () => {
  test.each<[string, Record<string, unknown>, RegExp, string]>([
    ['an empty text', { text: '' }, /text must not be empty/, 'text'],
    ['a text of only whitespace', { text: ' \n\t ' }, /text must not be empty/, 'text'],
    [
      'a text over 200,000 characters',
      { text: 'x'.repeat(MAX_DOCUMENT_TEXT + 1) },
      /at most 200,000 characters \(got 200,001\)/,
      'text',
    ],
    ['a NUL character', { text: 'PK\u0003\u0004\u0000 zip?' }, /control character U\+0003 at character 2/, 'text'],
    ['U+FFFD from a bad decode', { text: 'caf\uFFFD' }, /replacement characters.*not UTF-8/, 'text'],
    ['a relative source URI', { source_uri: 'guides/sql.md' }, /source_uri must be an absolute URI/, 'source_uri'],
    ['a blank title', { title: '   ' }, /title must not be empty/, 'title'],
    ['a title over 200 characters', { title: 't'.repeat(201) }, /at most 200 characters/, 'title'],
  ])('%s', async (_name, overrides, message, field) => {
    const res = await add(input(overrides));
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ error_code: 'INVALID_DOCUMENT', details: { field } });
    expect(res.body.message).toMatch(message);
  });

  test('a body whose bytes are not UTF-8', async () => {
    const json = Buffer.from(JSON.stringify(input({ text: 'caf__' })));
    const at = json.indexOf('caf__') + 3;
    json[at] = 0xe9; // Latin-1 "é": not UTF-8
    json[at + 1] = 0x20;
    const res = await fetch(`${sys.url}${url()}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
      body: json,
    });
    const body = await res.json();
    expectMatchesContract('POST', LIST, { status: res.status, body, headers: res.headers });
    expect(res.status).toBe(422);
    expect(body).toMatchObject({ error_code: 'INVALID_DOCUMENT', message: expect.stringMatching(/not UTF-8/) });
  });

  test('missing and unknown fields are 400, and a body over 4 MB is 413', async () => {
    const { text: _text, ...noText } = input();
    expect((await add(noText)).status).toBe(400);
    expect((await add({ ...input(), author: 'me' })).status).toBe(400);
    expect((await add({ ...input(), text: 42 })).status).toBe(400);
    const huge = await add(input({ text: 'x'.repeat(5 * 1024 * 1024) }));
    expect(huge.status).toBe(413);
  });
});

test('the longest text, in a script of three UTF-8 bytes a character, is accepted whole', async () => {
  // 600 kB of UTF-8 through the API and the log. One word without spaces: a single word piece for
  // the embedding model, so the search projection of this system embeds one passage, not 800.
  const text = '가'.repeat(MAX_DOCUMENT_TEXT);
  const res = await add(input({ text }));
  expect(res.status).toBe(201);
  expect(res.body.text_length).toBe(MAX_DOCUMENT_TEXT);
  const read = await call('GET', ONE, url(res.body.document_id), { token: student });
  expect(read.body.text === text).toBe(true);
});

test('revise makes the next version; retire hides it from the list but not from GET; then both refuse', async () => {
  const id = (await add()).body.document_id as string;
  const revised = await call('PUT', ONE, url(id), { token: admin, body: { text: 'New text.', title: null } });
  expect(revised.status).toBe(200);
  expect(revised.body).toMatchObject({ version: '2', text: 'New text.', text_length: 9 });
  const again = await call('PUT', ONE, url(id), { token: admin, body: { source_uri: 'urn:microcred:guide:sql' } });
  expect(again.body).toMatchObject({ version: '3', text: 'New text.', source_uri: 'urn:microcred:guide:sql' });

  const nothing = await call('PUT', ONE, url(id), { token: admin, body: {} });
  expect(nothing).toMatchObject({ status: 422, body: { error_code: 'NOTHING_TO_REVISE' } });
  const bad = await call('PUT', ONE, url(id), { token: admin, body: { text: 'bin\u0000ary' } });
  expect(bad).toMatchObject({ status: 422, body: { error_code: 'INVALID_DOCUMENT' } });

  const retired = await call('DELETE', ONE, url(id), { token: admin });
  expect(retired.status).toBe(204);
  const read = await call('GET', ONE, url(id), { token: student });
  expect(read.body).toMatchObject({ status: 'retired', active: false, version: '3', retired_at: expect.any(String) });

  const listed = async (query: string, token: string) =>
    (
      (await call('GET', LIST, `${url()}?page_size=100${query}`, { token })).body.items as { document_id: string }[]
    ).map((d) => d.document_id);
  expect(await listed('', admin)).not.toContain(id);
  expect(await listed('&include_retired=true', admin)).toContain(id);
  const forbidden = await call('GET', LIST, `${url()}?include_retired=true`, { token: student });
  expect(forbidden).toMatchObject({ status: 403, body: { error_code: 'ROLE_REQUIRED' } });

  expect(await call('PUT', ONE, url(id), { token: admin, body: { title: 'x' } })).toMatchObject({
    status: 409,
    body: { error_code: 'DOCUMENT_RETIRED' },
  });
  expect(await call('DELETE', ONE, url(id), { token: admin })).toMatchObject({
    status: 409,
    body: { error_code: 'DOCUMENT_RETIRED' },
  });
});

test('only admins write; unknown documents are 404; bad query parameters 400', async () => {
  const id = (await add()).body.document_id as string;
  for (const token of [student, advisor]) {
    expect((await add(input(), token)).status).toBe(403);
    expect((await call('PUT', ONE, url(id), { token, body: { title: 'x' } })).status).toBe(403);
    expect((await call('DELETE', ONE, url(id), { token })).status).toBe(403);
  }
  expect((await call('GET', LIST, url())).status).toBe(401);
  const unknown = randomUUID();
  expect(await call('GET', ONE, url(unknown), { token: student })).toMatchObject({
    status: 404,
    body: { error_code: 'DOCUMENT_NOT_FOUND' },
  });
  expect((await call('GET', ONE, url('not-a-uuid'), { token: student })).status).toBe(404);
  expect(await call('PUT', ONE, url(unknown), { token: admin, body: { title: 'x' } })).toMatchObject({
    status: 404,
    body: { error_code: 'DOCUMENT_NOT_FOUND' },
  });
  expect((await call('DELETE', ONE, url(unknown), { token: admin })).status).toBe(404);
  expect((await call('GET', LIST, `${url()}?page=0`, { token: student })).status).toBe(400);
  expect((await call('GET', LIST, `${url()}?include_text=yes`, { token: student })).status).toBe(400);
});
