import { SingleBar } from 'cli-progress';
import type { Writable } from 'node:stream';
import type { CommandBus } from '../messaging/commandBus';
import { createCommandClient } from '../messaging/commandClient';
import { MessageCodec } from '../messaging/messageCodec';
import { ConfigError, loadConfig } from '../platform/config';
import { createPlatform, type Platform } from '../platform/platform';
import { CliError } from './importExamples';

export { CliError };

/** Where a CLI run reads its settings and writes its output (process streams, or a spec's). */
export interface CliIo {
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

export const processIo = (): CliIo => ({ stdout: process.stdout, stderr: process.stderr, env: process.env });

/** A platform for one CLI command, closed after it. Logs stay quiet (stdout carries the result). */
export async function withPlatform<T>(io: CliIo, run: (platform: Platform) => Promise<T>): Promise<T> {
  const platform = await createPlatform(loadConfig({ ...io.env, LOG_LEVEL: io.env.LOG_LEVEL ?? 'warn' }), 'cli');
  try {
    return await run(platform);
  } finally {
    await platform.close();
  }
}

/** A platform and a command bus for one command, both closed after it. */
export function withBus<T>(io: CliIo, run: (platform: Platform, bus: CommandBus) => Promise<T>): Promise<T> {
  return withPlatform(io, async (platform) => {
    const client = await createCommandClient(platform, new MessageCodec(platform.codec, platform.topics), 'cli');
    try {
      return await run(platform, client.bus);
    } finally {
      await client.stop();
    }
  });
}

/** One line for any failure: what the user can act on, never a stack trace. */
export function failureLine(err: unknown): string {
  if (err instanceof ConfigError) return `invalid configuration: ${err.problems.join('; ')}`;
  const message = err instanceof Error ? err.message : String(err);
  const line = message.replace(/\s*\n\s*/g, ' ').trim();
  return err instanceof CliError ? line : `failed: ${line}`;
}

export interface Progress {
  update(done: number, total: number, extra?: string): void;
  stop(): void;
}

/**
 * A progress bar with rate and ETA on stderr, only when stderr is a terminal (never in a pipe
 * or a log file, and never on stdout, which carries the data).
 */
export function progressBar(io: CliIo, label: string, unit: string): Progress {
  if (!io.stderr.isTTY) return { update: () => undefined, stop: () => undefined };
  const bar = new SingleBar({
    stream: io.stderr as unknown as NodeJS.WritableStream,
    format: `${label} [{bar}] {percentage}% | {value}/{total} ${unit} | {rate}/s | ETA {eta_formatted}{extra}`,
    hideCursor: true,
    clearOnComplete: false,
    etaBuffer: 50,
    fps: 5,
  });
  const started = Date.now();
  let running = false;
  return {
    update(done, total, extra = '') {
      const seconds = Math.max(0.001, (Date.now() - started) / 1000);
      const payload = { rate: Math.round(done / seconds), extra: extra ? ` | ${extra}` : '' };
      if (!running) {
        bar.start(total, done, payload);
        running = true;
      } else {
        bar.setTotal(total);
        bar.update(done, payload);
      }
    },
    stop() {
      if (running) bar.stop();
      running = false;
    },
  };
}

/** Writes text to a stream, waiting for it to drain when full. */
export async function writeOut(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await new Promise<void>((resolve) => out.once('drain', resolve));
}

/** Rows as aligned text columns (two spaces apart, no trailing blanks), the header first; no final newline. */
export function textTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows]
    .map((cells) =>
      cells
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
