import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { testPlatform } from '../../test/support/platform';
import { checkReadiness } from '../platform/health';
import { createPool } from '../platform/postgres/pool';
import type { Platform } from '../platform/platform';
import { createApp } from './app';

let platform: Platform;
beforeAll(async () => {
  platform = await testPlatform();
});
afterAll(async () => {
  await platform.close();
});

async function serve(readiness: () => ReturnType<typeof checkReadiness>): Promise<{ url: string; server: Server }> {
  const server = createApp({ logger: platform.logger, readiness }).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

test('GET /readyz answers 200 with every dependency "ok" when the stack is up', async () => {
  const { url, server } = await serve(() => checkReadiness(platform));
  try {
    const res = await fetch(`${url}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      status: 'ready',
      dependencies: { kafka: 'ok', registry: 'ok', postgres: 'ok', elasticsearch: 'ok' },
    });
  } finally {
    server.close();
  }
});

test('GET /readyz answers 503 naming the dependency that is down, without hanging', async () => {
  // A pool aimed at a port where nothing listens stands in for a stopped PostgreSQL.
  const deadPool = createPool({
    connectionString: 'postgres://microcred@127.0.0.1:1/microcred',
    max: 1,
    applicationName: 't',
  });
  const { url, server } = await serve(() => checkReadiness({ ...platform, pool: deadPool }, 1000));
  try {
    const started = Date.now();
    const res = await fetch(`${url}/readyz`);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(res.status).toBe(503);
    const body = (await res.json()) as { dependencies: Record<string, string> };
    expect(body.dependencies.postgres).toMatch(/^unavailable/);
    expect(body.dependencies.kafka).toBe('ok');
  } finally {
    server.close();
    await deadPool.end();
  }
});

test('unknown routes answer in the contract error shape', async () => {
  const { url, server } = await serve(() => checkReadiness(platform));
  try {
    const res = await fetch(`${url}/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error_code: 'ROUTE_NOT_FOUND', message: 'No route for GET /nope' });
  } finally {
    server.close();
  }
});
