import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';

let path: string | undefined;

/** Prometheus's own `promtool` (ops/promtool.sh finds or fetches it once). */
export function promtool(): string {
  path ??= execFileSync('bash', [join(__dirname, '..', '..', 'ops', 'promtool.sh')], { encoding: 'utf8' }).trim();
  return path;
}

export interface PromtoolRun {
  status: number | null;
  output: string;
}

/** Runs promtool with `args` (and `input` on stdin), in `cwd`; stdout and stderr together. */
export function runPromtool(args: string[], options: { input?: string; cwd?: string } = {}): PromtoolRun {
  const run = spawnSync(promtool(), args, { input: options.input, cwd: options.cwd, encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}
