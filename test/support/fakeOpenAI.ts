/**
 * A fake OpenAI: a local HTTP server speaking the OpenAI REST protocol for
 * `POST /v1/chat/completions` (incl. strict `json_schema` response formats) and
 * `POST /v1/embeddings`, so that specs drive the real `openai` SDK over real HTTP. Only the far
 * side of the paid API is fake.
 *
 * In-process:
 *   const fake = await startFakeOpenAI({ latencyMs: 0 });
 *   new OpenAI({ apiKey: 'test', baseURL: fake.url });
 *   fake.enqueueChat({ kind: 'error', status: 429, retryAfterSeconds: 1 }, { kind: 'malformed_json' });
 *   fake.stats().calls.chat; fake.requests[0].body; await fake.close();
 *
 * As its own process (for crash tests, or to keep the load generator apart):
 *   node dist/test/support/fakeOpenAI.js --port 0 [--latency-ms 200] [--api-key KEY]
 * prints one line `{"url":"http://127.0.0.1:PORT/v1"}` and serves until SIGTERM/SIGINT.
 * It is then driven over HTTP (`fakeOpenAIControl(url)`, or `spawnFakeOpenAI()` which does both):
 *   GET  /_fake/stats                 counters (+ `?bodies=1`: every request's body)
 *   POST /_fake/enqueue   {endpoint: 'chat'|'embeddings', behaviours: [...]}
 *   POST /_fake/default   {endpoint, behaviour}
 *   POST /_fake/latency   {ms}
 *   POST /_fake/reset     queues, counters and recorded requests cleared
 *
 * Default chat behaviour: a valid scoring reply built from the request itself — the criteria and
 * their band enums from the request's `response_format` schema, each criterion's evidence a
 * sentence quoted verbatim from the essay found between the `<essay-TAG>` … `</essay-TAG>` lines
 * of the user message. Usage is ~4 characters per token, deterministic.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

// ---------------------------------------------------------------------------------------------
// Behaviours

/** How the generated reply picks each criterion's band: highest, lowest, middle, or per criterion id. */
export type BandChoice = 'max' | 'min' | 'mid' | Record<string, number>;

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
}

/** An HTTP error in OpenAI's shape (`{error: {message, type, param, code}}`). */
export interface ErrorBehaviour {
  kind: 'error';
  status: number;
  /** Sent as `Retry-After` (seconds). */
  retryAfterSeconds?: number;
  /** Sent as `retry-after-ms`. */
  retryAfterMs?: number;
  message?: string;
  type?: string;
  code?: string | null;
}

export type FakeChatBehaviour =
  | { kind: 'reply'; choose?: BandChoice; perturbQuotes?: boolean; usage?: Usage }
  | ErrorBehaviour
  /** Waits `ms` (on top of the base latency), then behaves as `then` (default: a reply). */
  | { kind: 'delay'; ms: number; then?: FakeChatBehaviour }
  /** 200 whose content is not JSON. */
  | { kind: 'malformed_json' }
  /** 200 whose JSON breaks the schema (a missing and an extra property). */
  | { kind: 'schema_violation' }
  /** 200 whose first criterion's band is not one of its band scores. */
  | { kind: 'invalid_band' }
  /** 200 whose first criterion quotes a span that is not in the essay. */
  | { kind: 'invented_quote' }
  /** 200 with `message.refusal` set. */
  | { kind: 'refusal' }
  /** 200 cut off at the token limit (`finish_reason: "length"`). */
  | { kind: 'truncated' }
  /** 200 with this exact content. */
  | { kind: 'content'; content: string; usage?: Usage }
  /** The socket is destroyed without an answer (a connection error for the client). */
  | { kind: 'drop_connection' }
  /** In-process only: answer as this function says. */
  | { kind: 'custom'; handle: (body: ChatRequestBody) => CustomReply };

export type FakeEmbeddingsBehaviour =
  | { kind: 'reply' }
  | ErrorBehaviour
  | { kind: 'delay'; ms: number; then?: FakeEmbeddingsBehaviour }
  /** 200 whose vectors have this many dimensions, whatever was asked. */
  | { kind: 'wrong_dimensions'; dimensions: number }
  | { kind: 'drop_connection' }
  | { kind: 'custom'; handle: (body: EmbeddingsRequestBody) => CustomReply };

/** The behaviours chat and embeddings share (`B` is the endpoint's own behaviour type). */
type SharedBehaviour<Body, B> =
  | { kind: 'delay'; ms: number; then?: B }
  | ErrorBehaviour
  | { kind: 'drop_connection' }
  | { kind: 'custom'; handle: (body: Body) => CustomReply };
type SharedKind = SharedBehaviour<unknown, unknown>['kind'];
const sharedKinds: readonly string[] = ['delay', 'error', 'drop_connection', 'custom'] satisfies SharedKind[];

function isShared<B extends { kind: string }>(behaviour: B): behaviour is Extract<B, { kind: SharedKind }> {
  return sharedKinds.includes(behaviour.kind);
}

export interface CustomReply {
  status?: number;
  headers?: Record<string, string>;
  body: unknown;
}

export interface ChatMessage {
  role: string;
  content: string | { type: string; text?: string }[] | null;
}

export interface ChatRequestBody {
  model: string;
  messages: ChatMessage[];
  temperature?: number;
  response_format?: {
    type: string;
    json_schema?: { name: string; strict?: boolean | null; schema?: Record<string, unknown> };
  };
  [key: string]: unknown;
}

export interface EmbeddingsRequestBody {
  model: string;
  input: string | string[] | number[] | number[][];
  dimensions?: number;
  encoding_format?: 'float' | 'base64';
  [key: string]: unknown;
}

export interface RecordedRequest {
  endpoint: 'chat' | 'embeddings' | 'other';
  method: string;
  path: string;
  body: unknown;
  /** Which behaviour answered it. */
  behaviour: string;
  /** `performance.now()` of the server process when the request arrived. */
  received_at: number;
  /** 0 when the connection was dropped or the client went away before the answer. */
  status: number;
  /** From the request's arrival to the end of the answer, as measured by the server. */
  latency_ms: number;
  usage?: Usage;
}

export interface FakeStats {
  calls: { chat: number; embeddings: number; total: number };
  /** 200 answers that carried usage: what a real provider would bill. */
  charged: { chat: number; embeddings: number };
  tokens: { prompt: number; completion: number };
  /** Mean server-side latency per endpoint (ms), over answered requests. */
  mean_latency_ms: { chat: number; embeddings: number };
  queued: { chat: number; embeddings: number };
}

export interface FakeOpenAIOptions {
  /** Default 0 (any free port). */
  port?: number;
  host?: string;
  /** Added to every answer. Default 0. */
  latencyMs?: number;
  /** When set, requests must carry `Authorization: Bearer <apiKey>` (else 401 invalid_api_key). */
  apiKey?: string;
  defaultChat?: FakeChatBehaviour;
  defaultEmbeddings?: FakeEmbeddingsBehaviour;
  /** Embedding size when the request gives no `dimensions`. Default 1536 (OpenAI's for -3-small). */
  defaultDimensions?: number;
  /** Appended to the requested model in replies (OpenAI answers with a dated snapshot). Default ''. */
  modelSnapshotSuffix?: string;
}

export interface FakeOpenAI {
  /** Base URL for the SDK: `http://127.0.0.1:PORT/v1`. */
  readonly url: string;
  readonly port: number;
  readonly requests: readonly RecordedRequest[];
  enqueueChat(...behaviours: FakeChatBehaviour[]): void;
  enqueueEmbeddings(...behaviours: FakeEmbeddingsBehaviour[]): void;
  setDefaultChat(behaviour: FakeChatBehaviour): void;
  setDefaultEmbeddings(behaviour: FakeEmbeddingsBehaviour): void;
  setLatency(ms: number): void;
  stats(): FakeStats;
  /** Clears queues, counters and recorded requests (defaults and latency stay). */
  reset(): void;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// The server

export async function startFakeOpenAI(options: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  let latencyMs = options.latencyMs ?? 0;
  let defaultChat: FakeChatBehaviour = options.defaultChat ?? { kind: 'reply' };
  let defaultEmbeddings: FakeEmbeddingsBehaviour = options.defaultEmbeddings ?? { kind: 'reply' };
  const chatQueue: FakeChatBehaviour[] = [];
  const embeddingsQueue: FakeEmbeddingsBehaviour[] = [];
  let requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const wait = (ms: number, res: ServerResponse): Promise<boolean> =>
    new Promise((resolve) => {
      if (ms <= 0) {
        resolve(!res.destroyed);
        return;
      }
      const timer = setTimeout(() => {
        timers.delete(timer);
        res.off('close', onClose);
        resolve(!res.destroyed);
      }, ms);
      const onClose = () => {
        clearTimeout(timer);
        timers.delete(timer);
        resolve(false);
      };
      timers.add(timer);
      res.once('close', onClose);
    });

  const stats = (): FakeStats => {
    const of = (e: RecordedRequest['endpoint']) => requests.filter((r) => r.endpoint === e);
    const mean = (rs: RecordedRequest[]) => {
      const answered = rs.filter((r) => r.status !== 0);
      return answered.length === 0 ? 0 : answered.reduce((s, r) => s + r.latency_ms, 0) / answered.length;
    };
    const charged = (rs: RecordedRequest[]) => rs.filter((r) => r.status === 200 && r.usage).length;
    const chat = of('chat');
    const embeddings = of('embeddings');
    return {
      calls: { chat: chat.length, embeddings: embeddings.length, total: requests.length },
      charged: { chat: charged(chat), embeddings: charged(embeddings) },
      tokens: {
        prompt: requests.reduce((s, r) => s + (r.usage?.prompt_tokens ?? 0), 0),
        completion: requests.reduce((s, r) => s + (r.usage?.completion_tokens ?? 0), 0),
      },
      mean_latency_ms: { chat: mean(chat), embeddings: mean(embeddings) },
      queued: { chat: chatQueue.length, embeddings: embeddingsQueue.length },
    };
  };

  const reset = () => {
    chatQueue.length = 0;
    embeddingsQueue.length = 0;
    requests = [];
  };

  const server = createServer((req, res) => {
    const arrived = performance.now();
    void (async () => {
      const raw = await readBody(req);
      const path = (req.url ?? '/').split('?')[0]!;

      if (path.startsWith('/_fake/')) {
        handleControl(req, res, path, raw);
        return;
      }

      const endpoint =
        req.method === 'POST' && path === '/v1/chat/completions'
          ? 'chat'
          : req.method === 'POST' && path === '/v1/embeddings'
            ? 'embeddings'
            : 'other';
      let body: unknown;
      try {
        body = raw.length > 0 ? JSON.parse(raw) : undefined;
      } catch {
        body = raw;
      }
      const record: RecordedRequest = {
        endpoint,
        method: req.method ?? '',
        path,
        body,
        behaviour: 'none',
        received_at: arrived,
        status: 0,
        latency_ms: 0,
      };
      requests.push(record);
      res.once('close', () => {
        record.latency_ms = performance.now() - arrived;
      });
      const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
        record.status = status;
        sendJson(res, status, payload, headers);
      };

      if (endpoint === 'other') {
        send(404, openAIError(`Invalid URL (${req.method} ${path})`, 'invalid_request_error', null));
        return;
      }
      const auth = req.headers.authorization ?? '';
      if (!auth.startsWith('Bearer ') || auth.length <= 'Bearer '.length) {
        record.behaviour = 'unauthenticated';
        send(
          401,
          openAIError(
            "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            'invalid_request_error',
            null,
          ),
        );
        return;
      }
      if (options.apiKey !== undefined && auth !== `Bearer ${options.apiKey}`) {
        record.behaviour = 'invalid_api_key';
        send(
          401,
          openAIError(
            'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.',
            'invalid_request_error',
            'invalid_api_key',
          ),
        );
        return;
      }
      if (typeof body !== 'object' || body === null) {
        record.behaviour = 'unparseable_body';
        send(
          400,
          openAIError(
            "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly.)",
            'invalid_request_error',
            null,
          ),
        );
        return;
      }

      if (!(await wait(latencyMs, res))) return;
      if (endpoint === 'chat') {
        await answerChat(body as ChatRequestBody, chatQueue.shift() ?? defaultChat, record, res, send);
      } else {
        await answerEmbeddings(
          body as EmbeddingsRequestBody,
          embeddingsQueue.shift() ?? defaultEmbeddings,
          record,
          res,
          send,
        );
      }
    })().catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, openAIError(`fake server bug: ${String(err)}`, 'server_error', null));
    });
  });

  type Send = (status: number, payload: unknown, headers?: Record<string, string>) => void;

  /** The behaviours both endpoints have: a delay (then another), an HTTP error, a drop, a custom answer. */
  const answerShared = async <Body extends { model: string }, B extends { kind: string }>(
    body: Body,
    behaviour: SharedBehaviour<Body, B>,
    record: RecordedRequest,
    res: ServerResponse,
    send: Send,
    answerNext: (next: B | { kind: 'reply' }) => Promise<void>,
  ): Promise<void> => {
    record.behaviour = behaviour.kind;
    switch (behaviour.kind) {
      case 'delay':
        if (!(await wait(behaviour.ms, res))) return;
        await answerNext(behaviour.then ?? { kind: 'reply' });
        record.behaviour = `delay+${record.behaviour}`;
        return;
      case 'error': {
        const { status, payload, headers } = errorReply(behaviour, body.model);
        send(status, payload, headers);
        return;
      }
      case 'drop_connection':
        res.socket?.destroy();
        return;
      case 'custom': {
        const reply = behaviour.handle(body);
        send(reply.status ?? 200, reply.body, reply.headers);
        return;
      }
    }
  };

  const answerChat = async (
    body: ChatRequestBody,
    behaviour: FakeChatBehaviour,
    record: RecordedRequest,
    res: ServerResponse,
    send: Send,
  ): Promise<void> => {
    if (isShared(behaviour)) {
      await answerShared(body, behaviour, record, res, send, (next) => answerChat(body, next, record, res, send));
      return;
    }
    record.behaviour = behaviour.kind;
    const invalid = chatRequestProblem(body);
    if (invalid) {
      send(400, openAIError(invalid.message, 'invalid_request_error', null, invalid.param));
      return;
    }
    const model = `${body.model}${options.modelSnapshotSuffix ?? ''}`;
    let content: string | null;
    let refusal: string | null = null;
    let finish = 'stop';
    let usage: Usage | undefined;
    switch (behaviour.kind) {
      case 'reply':
        content = JSON.stringify(
          body.response_format?.json_schema?.name === RATIONALE_SCHEMA
            ? rationaleReply(body)
            : scoringReply(body, behaviour),
        );
        usage = behaviour.usage;
        break;
      case 'content':
        content = behaviour.content;
        usage = behaviour.usage;
        break;
      case 'malformed_json':
        content = '{"criteria": {"' + 'unterminated';
        break;
      case 'schema_violation': {
        const reply = scoringReply(body, {}) as unknown as Record<string, unknown>;
        delete reply.overall_rationale;
        reply.confidence = 'high';
        content = JSON.stringify(reply);
        break;
      }
      case 'invalid_band': {
        const reply = scoringReply(body, {});
        const first = Object.values(reply.criteria)[0];
        if (first) first.band = 97;
        content = JSON.stringify(reply);
        break;
      }
      case 'invented_quote': {
        const reply = scoringReply(body, {});
        const first = Object.values(reply.criteria)[0];
        if (first) first.evidence = 'A sentence the candidate never wrote, invented by the model as evidence.';
        content = JSON.stringify(reply);
        break;
      }
      case 'refusal':
        content = null;
        refusal = "I'm sorry, I can't help with that.";
        break;
      case 'truncated':
        content = JSON.stringify(scoringReply(body, {})).slice(0, 40);
        finish = 'length';
        break;
      default: {
        const never: never = behaviour;
        throw new Error(`unknown behaviour ${JSON.stringify(never)}`);
      }
    }
    usage ??= {
      prompt_tokens: promptTokens(body.messages),
      completion_tokens: Math.ceil((content ?? refusal ?? '').length / 4),
    };
    record.usage = usage;
    send(
      200,
      {
        id: `chatcmpl-${randomBytes(12).toString('hex')}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content, refusal, annotations: [] },
            logprobs: null,
            finish_reason: finish,
          },
        ],
        usage: {
          prompt_tokens: usage.prompt_tokens,
          completion_tokens: usage.completion_tokens,
          total_tokens: usage.prompt_tokens + usage.completion_tokens,
          prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
          completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0 },
        },
        service_tier: 'default',
        system_fingerprint: 'fp_fake',
      },
      { 'openai-processing-ms': String(Math.round(latencyMs)) },
    );
  };

  const answerEmbeddings = async (
    body: EmbeddingsRequestBody,
    behaviour: FakeEmbeddingsBehaviour,
    record: RecordedRequest,
    res: ServerResponse,
    send: Send,
  ): Promise<void> => {
    if (isShared(behaviour)) {
      await answerShared(body, behaviour, record, res, send, (next) => answerEmbeddings(body, next, record, res, send));
      return;
    }
    record.behaviour = behaviour.kind;
    const inputs = embeddingInputs(body.input);
    const problem = embeddingsRequestProblem(body, inputs);
    if (problem) {
      send(400, openAIError(problem.message, 'invalid_request_error', null, problem.param));
      return;
    }
    const asked = body.dimensions ?? defaultDimensionsOf(body.model, options.defaultDimensions);
    const dims = behaviour.kind === 'wrong_dimensions' ? behaviour.dimensions : asked;
    const base64 = body.encoding_format === 'base64';
    const prompt_tokens = inputs.reduce((s, t) => s + Math.max(1, Math.ceil(t.length / 4)), 0);
    record.usage = { prompt_tokens, completion_tokens: 0 };
    send(200, {
      object: 'list',
      data: inputs.map((text, index) => {
        const v = fakeEmbedding(text, dims);
        return {
          object: 'embedding',
          index,
          embedding: base64 ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') : Array.from(v),
        };
      }),
      model: `${body.model}`,
      usage: { prompt_tokens, total_tokens: prompt_tokens },
    });
  };

  const handleControl = (req: IncomingMessage, res: ServerResponse, path: string, raw: string) => {
    let body: Record<string, unknown>;
    try {
      body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    } catch {
      sendJson(res, 400, { error: 'control body is not JSON' });
      return;
    }
    if (req.method === 'GET' && path === '/_fake/stats') {
      const withBodies = (req.url ?? '').includes('bodies=1');
      sendJson(res, 200, { ...stats(), ...(withBodies ? { requests } : {}) });
    } else if (req.method === 'POST' && path === '/_fake/enqueue') {
      const behaviours = (body.behaviours ?? []) as FakeChatBehaviour[];
      if (body.endpoint === 'embeddings') embeddingsQueue.push(...(behaviours as FakeEmbeddingsBehaviour[]));
      else chatQueue.push(...behaviours);
      sendJson(res, 200, stats());
    } else if (req.method === 'POST' && path === '/_fake/default') {
      if (body.endpoint === 'embeddings') defaultEmbeddings = body.behaviour as FakeEmbeddingsBehaviour;
      else defaultChat = body.behaviour as FakeChatBehaviour;
      sendJson(res, 200, stats());
    } else if (req.method === 'POST' && path === '/_fake/latency') {
      latencyMs = Number(body.ms ?? 0);
      sendJson(res, 200, { latency_ms: latencyMs });
    } else if (req.method === 'POST' && path === '/_fake/reset') {
      reset();
      sendJson(res, 200, stats());
    } else {
      sendJson(res, 404, { error: `unknown control ${req.method} ${path}` });
    }
  };

  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  // Keep-alive sockets from the SDK must not keep close() waiting.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const url = `http://${address.address}:${address.port}/v1`;

  return {
    url,
    port: address.port,
    get requests() {
      return requests;
    },
    enqueueChat: (...b) => void chatQueue.push(...b),
    enqueueEmbeddings: (...b) => void embeddingsQueue.push(...b),
    setDefaultChat: (b) => {
      defaultChat = b;
    },
    setDefaultEmbeddings: (b) => {
      defaultEmbeddings = b;
    },
    setLatency: (ms) => {
      latencyMs = ms;
    },
    stats,
    reset,
    close: async () => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Protocol helpers

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, payload: unknown, headers: Record<string, string> = {}): void {
  if (res.destroyed || res.headersSent) return;
  const text = JSON.stringify(payload);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-request-id': `req_${randomBytes(12).toString('hex')}`,
    'openai-version': '2020-10-01',
    ...headers,
  });
  res.end(text);
}

export function openAIError(message: string, type: string, code: string | null, param: string | null = null) {
  return { error: { message, type, param, code } };
}

function errorReply(
  b: ErrorBehaviour,
  model: string,
): { status: number; payload: unknown; headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  if (b.retryAfterSeconds !== undefined) headers['retry-after'] = String(b.retryAfterSeconds);
  if (b.retryAfterMs !== undefined) headers['retry-after-ms'] = String(b.retryAfterMs);
  const defaults: Record<number, [string, string, string | null]> = {
    400: ['Invalid request.', 'invalid_request_error', null],
    401: [
      'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.',
      'invalid_request_error',
      'invalid_api_key',
    ],
    403: [
      'You are not allowed to sample from this model',
      'invalid_request_error',
      'unsupported_country_region_territory',
    ],
    404: [
      `The model \`${model}\` does not exist or you do not have access to it.`,
      'invalid_request_error',
      'model_not_found',
    ],
    429: [
      `Rate limit reached for ${model} in organization org-fake on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in ${b.retryAfterSeconds ?? 1}s.`,
      'requests',
      'rate_limit_exceeded',
    ],
    500: ['The server had an error while processing your request. Sorry about that!', 'server_error', null],
    502: ['Bad gateway.', 'server_error', null],
    503: ['The server is overloaded or not ready yet.', 'server_error', null],
  };
  const [message, type, code] = defaults[b.status] ?? [`HTTP ${b.status}`, 'server_error', null];
  return {
    status: b.status,
    payload: openAIError(b.message ?? message, b.type ?? type, b.code === undefined ? code : b.code),
    headers,
  };
}

function textOf(content: ChatMessage['content']): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((p) => p.text ?? '').join('');
  return '';
}

function promptTokens(messages: ChatMessage[]): number {
  return messages.reduce((s, m) => s + 4 + Math.ceil(textOf(m.content).length / 4), 3);
}

/** The essay between `<essay-TAG>` and `</essay-TAG>` lines in the last user message, or null. */
export function essayInMessages(messages: ChatMessage[]): string | null {
  for (let i = messages.length - 1; i >= 0; i -= 1) {
    const m = messages[i]!;
    if (m.role !== 'user') continue;
    const match = /<essay-([0-9a-z]+)>\n([\s\S]*?)\n<\/essay-\1>/.exec(textOf(m.content));
    if (match) return match[2]!;
  }
  return null;
}

/** Verbatim sentences of `text` (each an exact substring, at most 200 characters, cut at a word). */
export function sentencesOf(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/[^.!?\n]+[.!?]*/g)) {
    let s = m[0].trim();
    if (s.length < 3) continue;
    if (s.length > 200) {
      const cut = s.lastIndexOf(' ', 200);
      s = s.slice(0, cut > 20 ? cut : 200).trimEnd();
    }
    out.push(s);
  }
  return out;
}

const STRICT_UNSUPPORTED = ['patternProperties', 'if', 'then', 'else', 'dependentSchemas', 'unevaluatedProperties'];

/** What OpenAI's strict mode would refuse in a schema (the common cases), or null. */
export function strictSchemaProblem(schema: unknown, context = ''): string | null {
  if (typeof schema !== 'object' || schema === null) return null;
  const s = schema as Record<string, unknown>;
  for (const k of STRICT_UNSUPPORTED) if (k in s) return `In context=(${context}), '${k}' is not permitted.`;
  if (s.type === 'object' || s.properties !== undefined) {
    if (s.additionalProperties !== false) {
      return `In context=(${context}), 'additionalProperties' is required to be supplied and to be false.`;
    }
    const props = Object.keys((s.properties as Record<string, unknown>) ?? {});
    const required = Array.isArray(s.required) ? (s.required as string[]) : [];
    const missing = props.filter((p) => !required.includes(p));
    if (missing.length > 0) {
      return `In context=(${context}), 'required' is required to be supplied and to be an array including every key in properties. Missing '${missing[0]}'.`;
    }
    for (const [k, v] of Object.entries((s.properties as Record<string, unknown>) ?? {})) {
      const p = strictSchemaProblem(v, context ? `${context}, 'properties', '${k}'` : `'properties', '${k}'`);
      if (p) return p;
    }
  }
  for (const key of ['items', 'anyOf', '$defs', 'definitions'] as const) {
    const sub = s[key];
    if (sub === undefined) continue;
    const subs = Array.isArray(sub) ? sub : key === 'items' ? [sub] : Object.values(sub as object);
    for (const x of subs) {
      const p = strictSchemaProblem(x, `${context}, '${key}'`);
      if (p) return p;
    }
  }
  return null;
}

function chatRequestProblem(body: ChatRequestBody): { message: string; param: string } | null {
  if (typeof body.model !== 'string' || body.model === '') {
    return { message: 'you must provide a model parameter', param: 'model' };
  }
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    return { message: "Invalid 'messages': empty array. Expected an array with minimum length 1.", param: 'messages' };
  }
  const rf = body.response_format;
  if (rf?.type === 'json_schema') {
    const js = rf.json_schema;
    if (!js || typeof js.name !== 'string' || !/^[a-zA-Z0-9_-]{1,64}$/.test(js.name)) {
      return {
        message: "Invalid 'response_format.json_schema.name': must match ^[a-zA-Z0-9_-]{1,64}$.",
        param: 'response_format.json_schema.name',
      };
    }
    if (js.strict === true) {
      const root = js.schema;
      if (!root || root.type !== 'object') {
        return {
          message: `Invalid schema for response_format '${js.name}': schema must be a JSON Schema of 'type: "object"'.`,
          param: 'response_format',
        };
      }
      const p = strictSchemaProblem(root);
      if (p) return { message: `Invalid schema for response_format '${js.name}': ${p}`, param: 'response_format' };
    }
  }
  return null;
}

interface ScoringReply {
  criteria: Record<string, { evidence: string; rationale: string; band: number }>;
  overall_rationale: string;
}

function chooseBand(id: string, bands: number[], choose: BandChoice | undefined): number {
  const sorted = [...bands].sort((a, b) => a - b);
  if (choose === undefined || choose === 'max') return sorted[sorted.length - 1]!;
  if (choose === 'min') return sorted[0]!;
  if (choose === 'mid') return sorted[Math.floor((sorted.length - 1) / 2)]!;
  return choose[id] ?? sorted[sorted.length - 1]!;
}

function perturb(s: string): string {
  return s
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/[\u201C\u201D]/g, '"')
    .replace(/'/g, '\u2019')
    .replace(/\s+/g, '  ');
}

/**
 * A valid scoring reply for `body`: one entry per criterion of the request's strict schema
 * (`properties.criteria.properties`), the band picked from its `band.enum`, evidence quoting a
 * sentence of the essay (criterion i quotes sentence i, cycling).
 */
/** The rationale writer's schema name (services/processors/recommendations/llm/rationaleReply.ts). */
const RATIONALE_SCHEMA = 'recommendation_rationales';

/**
 * A valid rationale reply built from the request's schema: per credential label, a sentence
 * citing one of the passage labels the schema allows (in turn), the summary citing the first.
 */
export function rationaleReply(body: ChatRequestBody): unknown {
  interface Citations {
    items?: { enum?: string[] };
  }
  const schema = body.response_format?.json_schema?.schema as
    | {
        properties?: {
          items?: { properties?: Record<string, { properties?: { citations?: Citations } }> };
          summary?: { properties?: { citations?: Citations } };
        };
      }
    | undefined;
  const labels = Object.keys(schema?.properties?.items?.properties ?? {});
  const passages = schema?.properties?.summary?.properties?.citations?.items?.enum ?? [];
  const cite = (i: number): string[] => (passages.length > 0 ? [passages[i % passages.length]!] : []);
  const marker = (i: number): string =>
    cite(i)
      .map((l) => ` [${l}]`)
      .join('');
  return {
    summary: {
      text: `A fake summary from the fake OpenAI server${marker(0)}.`,
      strengths: ['a fake strength'],
      gaps: ['a fake gap'],
      next_steps: ['a fake next step'],
      citations: cite(0),
    },
    items: Object.fromEntries(
      labels.map((label, i) => [
        label,
        { rationale: `A fake rationale for ${label} from the fake OpenAI server${marker(i)}.`, citations: cite(i) },
      ]),
    ),
  };
}

export function scoringReply(
  body: ChatRequestBody,
  options: { choose?: BandChoice; perturbQuotes?: boolean },
): ScoringReply {
  const schema = body.response_format?.json_schema?.schema as
    | { properties?: { criteria?: { properties?: Record<string, { properties?: { band?: { enum?: number[] } } }> } } }
    | undefined;
  const criteriaSchema = schema?.properties?.criteria?.properties ?? {};
  const essay = essayInMessages(body.messages) ?? '';
  const sentences = sentencesOf(essay);
  const criteria: ScoringReply['criteria'] = {};
  Object.entries(criteriaSchema).forEach(([id, c], i) => {
    const bands = c.properties?.band?.enum ?? [0, 1];
    const band = chooseBand(id, bands, options.choose);
    const quote = sentences.length > 0 ? sentences[i % sentences.length]! : '';
    const lowest = Math.min(...bands);
    const evidence = quote === '' && band !== lowest ? essay.slice(0, 50) : quote;
    criteria[id] = {
      evidence: options.perturbQuotes ? perturb(evidence) : evidence,
      rationale: `The essay meets band ${band} of ${id}.`,
      band,
    };
  });
  return { criteria, overall_rationale: 'A fake overall rationale from the fake OpenAI server.' };
}

function embeddingInputs(input: EmbeddingsRequestBody['input']): string[] {
  if (typeof input === 'string') return [input];
  if (!Array.isArray(input)) return [];
  if (input.every((x) => typeof x === 'number')) return [JSON.stringify(input)];
  return (input as unknown[]).map((x) => (typeof x === 'string' ? x : JSON.stringify(x)));
}

function embeddingsRequestProblem(
  body: EmbeddingsRequestBody,
  inputs: string[],
): { message: string; param: string } | null {
  if (typeof body.model !== 'string' || body.model === '') {
    return { message: 'you must provide a model parameter', param: 'model' };
  }
  if (inputs.length === 0 || inputs.some((t) => t === '')) {
    return {
      message: "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.",
      param: 'input',
    };
  }
  if (inputs.length > 2048) {
    return { message: `'$.input' is too long: ${inputs.length} inputs; the maximum is 2048.`, param: 'input' };
  }
  if (body.dimensions !== undefined) {
    if (body.model === 'text-embedding-ada-002') {
      return { message: 'This model does not support specifying dimensions.', param: 'dimensions' };
    }
    if (!Number.isInteger(body.dimensions) || body.dimensions < 1) {
      return { message: "Invalid 'dimensions': must be a positive integer.", param: 'dimensions' };
    }
  }
  return null;
}

function defaultDimensionsOf(model: string, configured: number | undefined): number {
  if (configured !== undefined) return configured;
  return model === 'text-embedding-3-large' ? 3072 : 1536;
}

function fnv1a(s: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i += 1) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}

/**
 * A deterministic unit vector for `text`: signed feature hashing of its lower-cased words (texts
 * sharing words come out close), plus a small component from the whole text so that no two
 * different texts are identical and no text is all zeros.
 */
export function fakeEmbedding(text: string, dimensions: number): Float32Array {
  const v = new Float32Array(dimensions);
  for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    const h = fnv1a(word, 0x811c9dc5);
    v[h % dimensions]! += (fnv1a(word, 0x9747b28c) & 1) === 1 ? 1 : -1;
  }
  for (let k = 0; k < 4; k += 1) {
    const h = fnv1a(`${k}:${text}`, 0x1b873593);
    v[h % dimensions]! += (h & 1) === 1 ? 0.25 : -0.25;
  }
  let norm = 0;
  for (const x of v) norm += x * x;
  norm = Math.sqrt(norm);
  for (let i = 0; i < v.length; i += 1) v[i] = v[i]! / norm;
  return v;
}

// ---------------------------------------------------------------------------------------------
// Driving a fake that runs in another process

export interface FakeOpenAIControl {
  stats(): Promise<FakeStats>;
  requests(): Promise<RecordedRequest[]>;
  enqueueChat(...behaviours: FakeChatBehaviour[]): Promise<void>;
  enqueueEmbeddings(...behaviours: FakeEmbeddingsBehaviour[]): Promise<void>;
  setDefaultChat(behaviour: FakeChatBehaviour): Promise<void>;
  setLatency(ms: number): Promise<void>;
  reset(): Promise<void>;
}

/** Controls a fake (in this process or another) over its `/_fake/*` endpoints. `url` is its `/v1` URL. */
export function fakeOpenAIControl(url: string): FakeOpenAIControl {
  const root = url.replace(/\/v1\/?$/, '');
  const post = async (path: string, body: unknown): Promise<void> => {
    const res = await fetch(`${root}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`fake OpenAI control ${path}: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
  };
  return {
    stats: async () => (await (await fetch(`${root}/_fake/stats`)).json()) as FakeStats,
    requests: async () =>
      ((await (await fetch(`${root}/_fake/stats?bodies=1`)).json()) as { requests: RecordedRequest[] }).requests,
    enqueueChat: (...behaviours) => post('/_fake/enqueue', { endpoint: 'chat', behaviours }),
    enqueueEmbeddings: (...behaviours) => post('/_fake/enqueue', { endpoint: 'embeddings', behaviours }),
    setDefaultChat: (behaviour) => post('/_fake/default', { endpoint: 'chat', behaviour }),
    setLatency: (ms) => post('/_fake/latency', { ms }),
    reset: () => post('/_fake/reset', {}),
  };
}

export interface SpawnedFakeOpenAI {
  url: string;
  child: ChildProcess;
  control: FakeOpenAIControl;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>;
}

/** Runs the compiled fake (`npm run build` first) as its own OS process. */
export async function spawnFakeOpenAI(
  options: { port?: number; latencyMs?: number; apiKey?: string } = {},
): Promise<SpawnedFakeOpenAI> {
  const entry = join(__dirname, 'fakeOpenAI.js');
  const script = existsSync(entry) ? entry : join(__dirname, '..', '..', 'dist', 'test', 'support', 'fakeOpenAI.js');
  if (!existsSync(script)) throw new Error(`${script} is missing: run \`npm run build\``);
  const args = [script, '--port', String(options.port ?? 0), '--latency-ms', String(options.latencyMs ?? 0)];
  if (options.apiKey) args.push('--api-key', options.apiKey);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) {
        child.stdout!.off('data', onData);
        resolve((JSON.parse(line) as { url: string }).url);
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`fake OpenAI exited (${code}) before listening: ${out}`)));
  });
  return {
    url,
    child,
    control: fakeOpenAIControl(url),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

function argValue(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  const apiKey = argValue(argv, '--api-key');
  void startFakeOpenAI({
    port: Number(argValue(argv, '--port') ?? 0),
    latencyMs: Number(argValue(argv, '--latency-ms') ?? 0),
    ...(apiKey ? { apiKey } : {}),
  }).then((fake) => {
    process.stdout.write(`${JSON.stringify({ url: fake.url })}\n`);
    const stop = () => void fake.close().then(() => process.exit(0));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}
