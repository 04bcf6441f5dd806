import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runStack } from '../support/stack';

jest.setTimeout(120_000);

function listen(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port }));
  });
}

test('a server that cannot start fails `up` fast, naming it, its log and the fix, and leaves nothing running', async () => {
  const stackDir = mkdtempSync(join(tmpdir(), 'microcred-stack-'));
  const occupied = await listen();
  // Free ports for the others, so only Elasticsearch's is taken (by someone else).
  const free = await Promise.all(Array.from({ length: 6 }, listen));
  const [kafka, controller, registry, management, transport, pg] = free.map((f) => String(f.port));
  await Promise.all(free.map((f) => new Promise((r) => f.server.close(r))));
  try {
    const env = {
      STACK_DIR: stackDir,
      ES_PORT: String(occupied.port),
      ES_TRANSPORT_PORT: transport!,
      KAFKA_PORT: kafka!,
      KAFKA_CONTROLLER_PORT: controller!,
      SCHEMA_REGISTRY_PORT: registry!,
      SCHEMA_REGISTRY_MANAGEMENT_PORT: management!,
      PGPORT: pg!,
    };
    const result = await runStack(['up'], env);
    expect(result.code).not.toBe(0);
    expect(result.ms).toBeLessThan(120_000);
    expect(result.output).toMatch(/elasticsearch/i);
    expect(result.output).toContain(String(occupied.port));
    expect(result.output).toContain('ES_PORT');
    expect(result.output).toContain(join(stackDir, 'logs'));
    // No half-started stack: no pid file points at a live process.
    const runDir = join(stackDir, 'run');
    const pids = existsSync(runDir) ? readdirSync(runDir).filter((f) => f.endsWith('.pid')) : [];
    for (const f of pids) {
      const pid = Number(readFileSync(join(runDir, f), 'utf8'));
      expect(() => process.kill(pid, 0)).toThrow();
    }
    const status = await runStack(['status'], env);
    expect(status.code).not.toBe(0);
  } finally {
    occupied.server.close();
    await runStack(['down'], { STACK_DIR: stackDir });
    rmSync(stackDir, { recursive: true, force: true });
  }
});
