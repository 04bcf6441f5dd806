import { Command } from 'commander';
import { loadConfig } from '../platform/config';
import { demoAnswer } from './demoAnswers';
import { demoCatalogFile, demoId } from './demoCatalog';
import { CliError, writeOut, type CliIo } from './io';

/**
 * `microcred demo-assessment`: a demo role's assessment taken end to end through the HTTP API,
 * as a student would: sign in, start, answer every question (services/cli/demoAnswers.ts),
 * submit, wait for the result, and print it (the summary, each recommended credential with its
 * confidence, rationale and the evidence it cites). For trying a fresh `npm start`.
 */
interface Options {
  role?: string;
  weak?: string;
  email?: string;
  password?: string;
  api?: string;
  timeoutSeconds: string;
  json?: boolean;
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function call(api: string, method: string, path: string, body?: unknown, token?: string) {
  let res: Response;
  try {
    res = await fetch(`${api}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    throw new CliError(`cannot reach the API at ${api} (${(err as Error).message}); is microcred running (npm start)?`);
  }
  const text = await res.text();
  let parsed: Json = {};
  try {
    parsed = text ? (JSON.parse(text) as Json) : {};
  } catch {
    // not JSON: reported below with the status
  }
  return { status: res.status, body: parsed, text };
}

function fail(what: string, res: { status: number; body: Json; text: string }): never {
  const reason = typeof res.body.message === 'string' ? `${res.body.error_code}: ${res.body.message}` : res.text;
  throw new CliError(`${what} answered ${res.status} (${reason.slice(0, 300)})`);
}

export async function runDemoAssessment(io: CliIo, options: Options): Promise<Json> {
  const config = loadConfig({ ...io.env, LOG_LEVEL: 'silent' });
  const api = options.api ?? `http://${config.HOST}:${config.PORT}/api/v1`;
  const email = options.email ?? io.env.DEMO_STUDENT_EMAIL;
  const password = options.password ?? io.env.DEMO_STUDENT_PASSWORD;
  if (!email || !password) {
    throw new CliError(
      'no student to sign in as: pass --email and --password, or set DEMO_STUDENT_EMAIL and DEMO_STUDENT_PASSWORD (npm start writes them to .stack/secrets.env)',
    );
  }
  const demo = demoCatalogFile();
  const role = options.role
    ? demo.roles.find((r) => r.name.toLowerCase() === options.role!.toLowerCase() || r.slug === options.role)
    : demo.roles[0];
  if (!role) {
    throw new CliError(
      `no demo role "${options.role}"; the demo roles are: ${demo.roles.map((r) => r.name).join(', ')}`,
    );
  }
  const weak = (options.weak ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const timeoutMs = Number(options.timeoutSeconds) * 1000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new CliError('--timeout-seconds must be a positive number');

  const login = await call(api, 'POST', '/auth/token', { email, password });
  if (login.status !== 200) fail(`signing in as ${email}`, login);
  const token = login.body.access_token as string;
  const start = await call(api, 'POST', '/assessments/start', { role_id: demoId('role', role.slug) }, token);
  if (start.status !== 201) fail(`starting a ${role.name} assessment`, start);
  const id = start.body.assessment_id as string;
  const byId = new Map(role.questions.map((q) => [demoId('question', q.slug), q]));
  const responses = (start.body.questions as Json[]).flatMap((q) => {
    const definition = byId.get(q.question_id as string);
    return definition ? [{ question_id: q.question_id, answer: demoAnswer(definition, { weak }) }] : [];
  });
  const submit = await call(api, 'POST', `/assessments/${id}/responses`, { completed: true, responses }, token);
  if (submit.status !== 202) fail('submitting the answers', submit);
  io.stderr.write(`assessment ${id} submitted; waiting for its result…\n`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await call(api, 'GET', `/assessments/${id}/result`, undefined, token);
    if (res.status === 200) return res.body;
    if (res.status !== 202) fail('GET /assessments/{id}/result', res);
    if (Date.now() > deadline) {
      throw new CliError(
        `no result within ${options.timeoutSeconds} s; it is still processing: GET ${api}/assessments/${id}/result`,
      );
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

function describe(result: Json, api: string): string {
  const traces = new Map((result.traces as Json[]).map((t) => [t.trace_id as string, t]));
  const lines = [
    `assessment ${result.assessment_id}${result.degraded ? ' (degraded: a fallback was used)' : ''}`,
    '',
    result.summary as string,
    '',
    ...(result.recommendation_items as Json[]).flatMap((item) => [
      `${item.position}. ${item.title}  (confidence ${(item.confidence as number).toFixed(2)})`,
      `   ${item.rationale}`,
      ...(item.source_trace_ids as string[]).map((tid) => {
        const t = traces.get(tid);
        return t ? `   evidence: "${String(t.snippet).slice(0, 140).replace(/\s+/g, ' ')}…" (${t.source_uri})` : '';
      }),
    ]),
    '',
    `the whole result: GET ${api}/assessments/${result.assessment_id}/result (as the student)`,
  ];
  return `${lines.join('\n')}\n`;
}

export function demoAssessmentCommand(io: CliIo): Command {
  return new Command('demo-assessment')
    .description("Take a demo role's assessment as a student through the API and print its result")
    .option('--role <name>', 'a demo role, by name or slug (default: the first)')
    .option('--weak <skills>', 'comma-separated skills the answers leave out (e.g. "sql,statistics")')
    .option('--email <email>', 'the student (default: $DEMO_STUDENT_EMAIL)')
    .option('--password <password>', 'their password (default: $DEMO_STUDENT_PASSWORD)')
    .option('--api <url>', 'the API base (default: http://$HOST:$PORT/api/v1)')
    .option('--timeout-seconds <n>', 'how long to wait for the result', '120')
    .option('--json', 'print the result as JSON')
    .action(async (options: Options) => {
      const result = await runDemoAssessment(io, options);
      const config = loadConfig({ ...io.env, LOG_LEVEL: 'silent' });
      const api = options.api ?? `http://${config.HOST}:${config.PORT}/api/v1`;
      await writeOut(io.stdout, options.json ? `${JSON.stringify(result, null, 2)}\n` : describe(result, api));
    });
}
