import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoPath } from '../../services/platform/paths';

/** Runs `ops/stack.sh` with `args` (the README's `npm run stack -- …`), collecting its output. */
export function runStack(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; output: string; ms: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn('bash', [repoPath('ops', 'stack.sh'), ...args], { env: { ...process.env, ...env } });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('exit', (code) => resolve({ code, output, ms: Date.now() - started }));
  });
}

/** The pid of a server of the shared stack, from the pid file the stack keeps. */
export function stackServerPid(server: 'kafka' | 'postgres' | 'elasticsearch' | 'registry'): number {
  return Number(readFileSync(join(process.env.STACK_DIR ?? repoPath('.stack'), 'run', `${server}.pid`), 'utf8'));
}
