import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DeliveryError, postWebhook, RESPONSE_BODY_KEPT_BYTES, type SenderOptions } from './httpSender';

// A real HTTP server on 127.0.0.1 plays the partner.

let server: Server;
let port: number;
let handler: (req: IncomingMessage, res: ServerResponse, body: string) => void;
const seen: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterEach(() => {
  seen.length = 0;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const allowAll: SenderOptions = { timeoutMs: 2000, refuse: () => undefined };

describe('postWebhook', () => {
  test('POSTs the JSON body with the given headers, and reads the answer', async () => {
    handler = (_req, res) => res.writeHead(204).end();
    const res = await postWebhook(`http://127.0.0.1:${port}/hooks?x=1`, '{"a":1}', { 'webhook-id': 'w1' }, allowAll);
    expect(res.status).toBe(204);
    expect(seen[0]).toMatchObject({
      method: 'POST',
      url: '/hooks?x=1',
      body: '{"a":1}',
      headers: { 'content-type': 'application/json', 'webhook-id': 'w1', 'content-length': '7' },
    });
  });

  test('does not follow redirects: a 3xx is the answer', async () => {
    handler = (_req, res) => res.writeHead(302, { location: `http://127.0.0.1:${port}/elsewhere` }).end();
    const res = await postWebhook(`http://127.0.0.1:${port}/`, '{}', {}, allowAll);
    expect(res.status).toBe(302);
    expect(seen).toHaveLength(1);
  });

  test('keeps the first kilobyte of the body, and the headers (Retry-After)', async () => {
    handler = (_req, res) => res.writeHead(503, { 'retry-after': '7' }).end('é'.repeat(4000));
    const res = await postWebhook(`http://127.0.0.1:${port}/`, '{}', {}, allowAll);
    expect(res.status).toBe(503);
    expect(Buffer.byteLength(res.body)).toBeLessThanOrEqual(RESPONSE_BODY_KEPT_BYTES + 2);
    expect(res.body.startsWith('éé')).toBe(true);
    expect(res.headers['retry-after']).toBe('7');
  });

  test('gives up after the timeout', async () => {
    handler = (_req, res) => void setTimeout(() => res.writeHead(200).end(), 1500).unref();
    const started = Date.now();
    const err = await postWebhook(`http://127.0.0.1:${port}/`, '{}', {}, { ...allowAll, timeoutMs: 300 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DeliveryError);
    expect(err).toMatchObject({ kind: 'timeout' });
    expect(Date.now() - started).toBeLessThan(1200);
  });

  test('a refused connection is a network failure', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await expect(postWebhook(`http://127.0.0.1:${closedPort}/`, '{}', {}, allowAll)).rejects.toMatchObject({
      kind: 'network',
      message: expect.stringMatching(/ECONNREFUSED/),
    });
  });

  test('connects to the address it checked, sending the host name', async () => {
    handler = (_req, res) => res.writeHead(200).end('ok');
    const asked: string[] = [];
    const res = await postWebhook(
      `http://partner.example:${port}/in`,
      '{}',
      {},
      {
        ...allowAll,
        resolve: (host) => {
          asked.push(host);
          return Promise.resolve([{ address: '127.0.0.1', family: 4 }]);
        },
      },
    );
    expect(res).toMatchObject({ status: 200, body: 'ok' });
    expect(asked).toEqual(['partner.example']);
    expect(seen[0]!.headers.host).toBe(`partner.example:${port}`);
  });

  test('refuses before connecting when any resolved address is forbidden (DNS rebinding)', async () => {
    handler = (_req, res) => res.writeHead(200).end();
    const err = await postWebhook(
      `http://rebound.example:${port}/`,
      '{}',
      {},
      {
        ...allowAll,
        resolve: () =>
          Promise.resolve([
            { address: '127.0.0.1', family: 4 },
            { address: '10.0.0.7', family: 4 },
          ]),
        refuse: (address) => (address.startsWith('10.') ? 'a private network address' : undefined),
      },
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'refused', message: expect.stringMatching(/10\.0\.0\.7.*private/) });
    expect(seen).toHaveLength(0);
  });

  test('refuses other schemes', async () => {
    await expect(postWebhook('ftp://127.0.0.1/', '{}', {}, allowAll)).rejects.toMatchObject({ kind: 'refused' });
  });
});
