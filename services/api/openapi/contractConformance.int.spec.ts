import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { expectMatchesContract, startTestSystem, type TestSystem } from '../../../test/support/system';
import { schemaValidator } from './contract';
import { openApiDocument } from './document';

jest.setTimeout(120_000);

/**
 * The served contract against the routes, both ways: every documented (path, method) reaches a
 * route at its documented URL (path-level `servers` over the document's), answering a status the
 * contract declares for it, in its shape; every method the document does not declare for a path
 * is 405 METHOD_NOT_ALLOWED with an `Allow` listing exactly the declared ones (HEAD with GET).
 */

type Item = Record<string, unknown> & { servers?: { url: string }[] };
const doc = openApiDocument as unknown as { servers: { url: string }[]; paths: Record<string, Item> };
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'trace'] as const;

let sys: TestSystem;
let adminToken: string;
beforeAll(async () => {
  sys = await startTestSystem();
  adminToken = await sys.adminToken();
});
afterAll(async () => {
  await sys?.stop();
});

/** node:http, since fetch refuses TRACE. */
function send(
  method: string,
  path: string,
  options: { token?: string; body?: unknown } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: unknown }> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${sys.url}${path}`,
      {
        method,
        headers: {
          ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        },
        timeout: 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text === '' ? undefined : text;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            // not JSON: keep the text
          }
          resolve({ status: res.statusCode!, headers: res.headers, body });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** The documented URL of a path: its own `servers` first, else the document's; ids filled in. */
function urlOf(template: string): string {
  const base = (doc.paths[template]!.servers ?? doc.servers)[0]!.url.replace(/\/$/, '');
  return `${base}${template}`.replace(/\{[^}]+\}/g, () => randomUUID());
}

const declared = (template: string) => METHODS.filter((m) => m in doc.paths[template]!);
const allowOf = (res: { headers: Record<string, string | string[] | undefined> }) =>
  String(res.headers.allow ?? '')
    .split(',')
    .map((m) => m.trim())
    .filter(Boolean)
    .sort();

test('the served /openapi.json is the document these cases are built from', async () => {
  const res = await send('GET', '/openapi.json');
  expect(res.status).toBe(200);
  expect(res.body).toEqual(JSON.parse(JSON.stringify(openApiDocument)));
  expect(doc.servers[0]!.url).toBe('/api/v1');
});

// Every documented path is served (the result and feedback were the last to get their routes).
describe.each(Object.keys(doc.paths))('%s', (template) => {
  test.each(declared(template))('%s reaches its route and answers as the contract says', async (method) => {
    const op = doc.paths[template]![method] as { requestBody?: unknown };
    // An empty body: a write is refused by validation, never carried out; ids are unknown.
    const res = await send(method.toUpperCase(), urlOf(template), {
      token: adminToken,
      ...(op.requestBody ? { body: {} } : {}),
    });
    expect({ status: res.status, body: res.body }).not.toEqual({
      status: 404,
      body: expect.objectContaining({ error_code: 'ROUTE_NOT_FOUND' }),
    });
    expect(res.status).not.toBe(405);
    expectMatchesContract(method, template, { status: res.status, body: res.body, headers: new Headers() });
  });

  test('methods it does not declare are 405 with Allow, before authentication', async () => {
    const methods = declared(template).map((m) => m.toUpperCase());
    const allow = [...methods, ...(methods.includes('GET') && !methods.includes('HEAD') ? ['HEAD'] : [])].sort();
    const undeclared = METHODS.map((m) => m.toUpperCase()).filter((m) => !allow.includes(m));
    expect(undeclared.length).toBeGreaterThan(0);
    const isError = schemaValidator('ErrorResponse');
    for (const method of undeclared) {
      const res = await send(method, urlOf(template));
      expect({ method, status: res.status, allow: allowOf(res) }).toEqual({ method, status: 405, allow });
      if (method === 'HEAD') continue; // no body
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect({ method, body: res.body, valid: isError(res.body) }).toEqual({
        method,
        body: expect.objectContaining({ error_code: 'METHOD_NOT_ALLOWED' }),
        valid: true,
      });
    }
    const options = await send('OPTIONS', urlOf(template));
    expect({ status: options.status, allow: allowOf(options) }).toEqual({
      status: 204,
      allow: [...allow, 'OPTIONS'].sort(),
    });
  });
});

test('the examples of the issue: TRACE and PATCH on /catalog/roles are 405 with Allow, in the error shape', async () => {
  for (const method of ['TRACE', 'PATCH']) {
    const res = await send(method, '/api/v1/catalog/roles', { token: adminToken });
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('HEAD, GET, POST');
    expect(res.body).toEqual({
      error_code: 'METHOD_NOT_ALLOWED',
      message: `${method} is not allowed on /api/v1/catalog/roles; allowed: HEAD, GET, POST`,
    });
  }
});

test('a path no route serves stays 404 ROUTE_NOT_FOUND, whatever the method', async () => {
  for (const [method, path] of [
    ['GET', '/api/v1/nope'],
    ['TRACE', '/api/v1/nope'],
    ['PATCH', '/nope'],
    ['GET', '/api/v1/catalog/roles/a/b/c'],
  ] as const) {
    const res = await send(method, path);
    expect({ method, path, status: res.status, body: res.body }).toEqual({
      method,
      path,
      status: 404,
      body: { error_code: 'ROUTE_NOT_FOUND', message: `No route for ${method} ${path}` },
    });
  }
});
