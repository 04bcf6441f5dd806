import { PassThrough } from 'node:stream';
import { runCli } from '../../cli/main';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the microcred CLI in this process with the given environment, capturing its output. */
export async function cli(env: Record<string, string | undefined>, ...argv: string[]): Promise<CliRun> {
  const capture = () => {
    const stream = new PassThrough();
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
  };
  const stdout = capture();
  const stderr = capture();
  const code = await runCli(argv, { stdout: stdout.stream, stderr: stderr.stream, env: { ...process.env, ...env } });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}
