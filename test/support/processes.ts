import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { repoPath } from '../../services/platform/paths';

export interface MicrocredProcess {
  child: ChildProcess;
  output: () => string;
  /** Resolves when the process logged `text` (or rejects after `timeoutMs`). */
  waitFor: (text: string, timeoutMs?: number) => Promise<void>;
  kill: (signal: NodeJS.Signals) => Promise<number | null>;
}

/** Runs the compiled service (`npm run build` first; `npm test` does) as a separate OS process. */
export function spawnMicrocred(env: Record<string, string>): MicrocredProcess {
  const entry = repoPath('dist', 'services', 'main.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` (npm test does it for you)`);
  const child = spawn(process.execPath, [entry], {
    env: { ...process.env, ...env, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    for (const l of listeners) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => output,
    waitFor: (text, timeoutMs = 60_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (output.includes(text)) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`process did not log "${text}" within ${timeoutMs} ms; output:\n${output.slice(-3000)}`));
        }, timeoutMs);
        listeners.add(check);
        void exited.then(() => {
          if (!output.includes(text)) {
            clearTimeout(timer);
            reject(new Error(`process exited before logging "${text}"; output:\n${output.slice(-3000)}`));
          }
        });
        check();
      }),
    kill: async (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
