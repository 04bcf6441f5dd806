import { z } from 'zod';

/**
 * The one configuration loader. Every process reads its settings here, from environment
 * variables, with defaults that work on the local stack (`npm run stack -- up`).
 * Secrets (JWT_SECRET, OPENAI_API_KEY, BOOTSTRAP_ADMIN_PASSWORD) have no defaults.
 */
const port = z.coerce.number().int().min(0).max(65535); // 0: any free port (tests)
const url = z.string().url();

/** An http(s) origin exactly as a browser sends it in `Origin` (no path, no trailing slash). */
function isOrigin(value: string): boolean {
  try {
    const parsed = new URL(value);
    return ['http:', 'https:'].includes(parsed.protocol) && parsed.origin === value;
  } catch {
    return false;
  }
}

const schema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SERVICE_NAME: z.string().min(1).default('microcred'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: port.default(3000),

  KAFKA_BROKERS: z
    .string()
    .min(1)
    .default('127.0.0.1:9092')
    .refine((v) => v.split(',').every((b) => /^[^:\s]+:\d+$/.test(b.trim())), 'must be host:port[,host:port…]'),
  KAFKA_CLIENT_ID: z.string().min(1).default('microcred'),
  /** Prefix of every topic name; lets tests and tenants run side by side on one cluster. */
  KAFKA_TOPIC_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9._-]+$/, 'letters, digits, dot, underscore, dash')
    .default('microcred'),
  /** Short, so a zombie's open transaction cannot stall a new partition owner for long. */
  KAFKA_TRANSACTION_TIMEOUT_MS: z.coerce.number().int().min(1000).max(900_000).default(10_000),
  KAFKA_PARTITIONS: z.coerce.number().int().min(1).max(1024).default(6),

  SCHEMA_REGISTRY_URL: url.default('http://127.0.0.1:8081/apis/ccompat/v7'),
  DATABASE_URL: url.default('postgres://microcred@127.0.0.1:5432/microcred'),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(500).default(10),
  ELASTICSEARCH_URL: url.default('http://127.0.0.1:9200'),

  /** Which parts this process runs; one process runs them all by default. */
  ROLES: z
    .string()
    .default('api,deciders,projections,processors')
    .transform((v) =>
      v
        .split(',')
        .map((r) => r.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(['api', 'deciders', 'projections', 'processors'])).min(1)),
  /** Names this process's transactional producers; keep it stable across restarts of one replica. */
  INSTANCE_ID: z
    .string()
    .regex(/^[a-zA-Z0-9._-]+$/)
    .default(`${process.pid}`),

  /** HMAC key for access tokens. No default: generated into .stack/secrets.env for the local stack. */
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  JWT_TTL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(3600),
  BOOTSTRAP_ADMIN_EMAIL: z.string().email().optional(),
  BOOTSTRAP_ADMIN_PASSWORD: z.string().min(12, 'must be at least 12 characters').optional(),
  BCRYPT_COST: z.coerce.number().int().min(4).max(15).default(12),
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(60),
  /** How long a request waits for the decider's reply before answering 202 with a status URL. */
  COMMAND_REPLY_TIMEOUT_MS: z.coerce.number().int().min(50).max(60_000).default(5000),
  /** How long a query waits for the read model to reflect the caller's last write. */
  READ_YOUR_WRITES_TIMEOUT_MS: z.coerce.number().int().min(0).max(30_000).default(3000),
  /**
   * How long a decided command id (an Idempotency-Key) is remembered: a retry within it returns
   * the first outcome; later, the command is decided afresh. Bounds the deciders' memory.
   */
  IDEMPOTENCY_WINDOW_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(60 * 60 * 24 * 365)
    .default(60 * 60 * 24),
  /** A decider snapshots a partition's state after this many new events (bounds rebuild time). */
  DECIDER_SNAPSHOT_EVERY: z.coerce.number().int().min(1).max(10_000_000).default(5000),
  ASSESSMENT_DURATION_SECONDS: z.coerce
    .number()
    .int()
    .min(5)
    .max(60 * 60 * 24 * 30)
    .default(7200),

  // --- Sign-in and browser access ----------------------------------------------------------
  /** Failed sign-ins for one email (registered or not) within the window that lock it. */
  SIGN_IN_MAX_FAILURES: z.coerce.number().int().min(1).max(1000).default(10),
  SIGN_IN_FAILURE_WINDOW_SECONDS: z.coerce.number().int().min(1).max(86_400).default(900),
  /** How long a locked email is refused (429 ACCOUNT_LOCKED), even with the right password. */
  SIGN_IN_LOCK_SECONDS: z.coerce.number().int().min(1).max(86_400).default(900),
  /**
   * Origins (scheme://host[:port], comma-separated) whose browser pages may call the API;
   * empty: no cross-origin access. No wildcard: each origin is named.
   */
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    )
    .refine(
      (origins) => origins.every(isOrigin),
      'must be origins like https://dashboard.example.com (scheme://host[:port], no path, no "*"), comma-separated',
    ),

  // --- Partners: webhook subscriptions ---------------------------------------------------------
  /**
   * AES-256-GCM key that encrypts webhook signing secrets at rest: base64 of exactly 32 random
   * bytes (`head -c 32 /dev/urandom | base64 -w0`). No default (generated into .stack/secrets.env
   * for the local stack); optional here, required by what issues or reads secrets (the webhook
   * admin API answers 503 without it).
   */
  WEBHOOK_SECRETS_KEY: z
    .string()
    .refine(
      (v) => /^[A-Za-z0-9+/]{43}=$/.test(v) && Buffer.from(v, 'base64').length === 32,
      'must be base64 of exactly 32 bytes (44 characters ending in "="): head -c 32 /dev/urandom | base64 -w0',
    )
    .optional(),
  /** How long a rotated-out secret keeps signing beside the new one, unless the rotation says otherwise. */
  WEBHOOK_SECRET_OVERLAP_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .max(30 * 24 * 60 * 60)
    .default(86_400),
  /** Webhook URLs on loopback (plain http allowed there): default true, except with NODE_ENV=production. */
  WEBHOOK_ALLOW_LOOPBACK: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional(),
  /** Webhook URLs on private, link-local or unique-local addresses (an internal partner). */
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),

  // --- Partners: webhook deliveries ------------------------------------------------------------
  /** One delivery attempt's time limit (connect, request, answer); then it counts as failed. */
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(15_000),
  /**
   * Waits before each retry of a failed delivery (250ms, 5s, 5m, 2h, 1d…), jittered by ±20%;
   * after the last, the delivery is dead-lettered. One first attempt plus one per step.
   */
  WEBHOOK_RETRY_SCHEDULE: z
    .string()
    .default('5s,5m,30m,2h,5h,10h,10h')
    .refine(
      (v) => /^\s*\d+(ms|s|m|h|d)\s*(,\s*\d+(ms|s|m|h|d)\s*){0,49}$/.test(v),
      'must be 1 to 50 comma-separated durations like 5s,5m,30m,2h (units ms, s, m, h, d)',
    ),
  /** The longest wait a partner's Retry-After (on 429 or 503) may impose before the next attempt. */
  WEBHOOK_RETRY_AFTER_MAX_MS: z.coerce.number().int().min(0).max(604_800_000).default(36_000_000),
  /** Deliveries in flight at once in this process, all subscriptions together. */
  WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(512).default(16),
  /** Deliveries in flight at once to one subscription (a slow partner holds no more than this). */
  WEBHOOK_CONCURRENCY_PER_SUBSCRIPTION: z.coerce.number().int().min(1).max(128).default(4),

  // --- Partners: public topic publisher --------------------------------------------------------
  /**
   * Fault injection for the publisher's crash test, never for production (refused there):
   * `before-kafka-commit` SIGKILLs the process once a batch's public records are kept in
   * PostgreSQL and sent in the open Kafka transaction, before it commits.
   */
  PUBLISHER_CRASH_POINT: z.enum(['none', 'before-kafka-commit']).default('none'),

  // --- Processors (essay scoring; later retrieval, recommendations, webhooks) ---------------
  /** Jobs one processor runs at once in this process. */
  PROCESSOR_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  /** Attempts of a job before its failure is reported. */
  PROCESSOR_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(5),
  /** One attempt's time limit; then it is aborted and retried. */
  PROCESSOR_ATTEMPT_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(120_000),
  /** A claimed job whose worker has not finished within this is claimed again (the worker died). */
  PROCESSOR_LEASE_MS: z.coerce.number().int().min(500).max(7_200_000).default(180_000),
  PROCESSOR_RETRY_BASE_MS: z.coerce.number().int().min(1).max(3_600_000).default(1000),
  PROCESSOR_RETRY_MAX_MS: z.coerce.number().int().min(1).max(86_400_000).default(300_000),
  PROCESSOR_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(500),
  /**
   * A submitted assessment still awaiting async work this long after submission is failed with
   * a reason (the backstop behind the jobs' own attempts and timeouts: nothing waits forever).
   */
  ASYNC_DEADLINE_MS: z.coerce.number().int().min(1000).max(604_800_000).default(1_800_000),
  /** How often the deadline is checked. */
  ASYNC_DEADLINE_CHECK_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),

  // --- Recommendations ---------------------------------------------------------------------------
  /** Credentials in a result. */
  RECOMMENDATIONS_PER_RESULT: z.coerce.number().int().min(1).max(50).default(5),
  /** Evidence passages recorded per assessment (the traces rationales may cite). */
  EVIDENCE_TRACES_PER_RESULT: z.coerce.number().int().min(1).max(100).default(16),

  // --- AI providers ----------------------------------------------------------------------------
  /** Without a key (and base URL) essays are scored by the offline scorer, marked degraded. */
  OPENAI_API_KEY: z.string().min(1).optional(),
  /** Any OpenAI-compatible server (e.g. a local one); default: the SDK's (api.openai.com). */
  OPENAI_BASE_URL: url.optional(),
  LLM_MODEL: z.string().min(1).max(64).default('gpt-4o-mini'),
  LLM_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  LLM_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
  LLM_RETRY_BASE_MS: z.coerce.number().int().min(1).max(60_000).default(100),
  /** Longest wait between attempts, Retry-After included. */
  LLM_RETRY_MAX_WAIT_MS: z.coerce.number().int().min(1).max(600_000).default(20_000),
  /** Consecutive failed calls that open the circuit breaker (then the offline scorer answers). */
  LLM_BREAKER_FAILURES: z.coerce.number().int().min(1).max(1000).default(5),
  LLM_BREAKER_RESET_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
  /** Cents per million tokens, per model, as JSON. */
  LLM_PRICES: z
    .string()
    .default('{"gpt-4o-mini":{"input_per_million":15,"output_per_million":60}}')
    .refine((v) => {
      try {
        const parsed = JSON.parse(v) as unknown;
        return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
      } catch {
        return false;
      }
    }, 'must be a JSON object {"<model>": {"input_per_million": cents, "output_per_million": cents}}'),
  /** `minilm`: the local all-MiniLM-L6-v2 model; `openai`: OpenAI embeddings (needs OPENAI_API_KEY). */
  EMBEDDINGS_PROVIDER: z.enum(['minilm', 'openai']).default('minilm'),
  OPENAI_EMBEDDING_MODEL: z.string().min(1).max(64).default('text-embedding-3-small'),
  /** Where the install put the MiniLM ONNX model and tokenizer; default under the download cache. */
  MINILM_MODEL_DIR: z.string().min(1).optional(),
  /** Threads the embedding model may use (the API keeps the other core). */
  EMBEDDING_THREADS: z.coerce.number().int().min(1).max(64).default(1),
  /** Human-scored examples a question needs before the offline scorer calibrates on them. */
  ESSAY_CALIBRATION_MIN_EXAMPLES: z.coerce.number().int().min(2).max(100_000).default(20),
});

export type Config = Readonly<z.infer<typeof schema>>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * The local stack's port variables (KAFKA_PORT, SCHEMA_REGISTRY_PORT, PGPORT, ES_PORT) also
 * move the app's default URLs, so one variable per port moves both sides.
 */
function stackDefaults(env: Record<string, string>): Record<string, string> {
  const defaults: Record<string, string> = {};
  if (env.KAFKA_PORT) defaults.KAFKA_BROKERS = `127.0.0.1:${env.KAFKA_PORT}`;
  if (env.SCHEMA_REGISTRY_PORT)
    defaults.SCHEMA_REGISTRY_URL = `http://127.0.0.1:${env.SCHEMA_REGISTRY_PORT}/apis/ccompat/v7`;
  if (env.PGPORT) defaults.DATABASE_URL = `postgres://microcred@127.0.0.1:${env.PGPORT}/microcred`;
  if (env.ES_PORT) defaults.ELASTICSEARCH_URL = `http://127.0.0.1:${env.ES_PORT}`;
  return defaults;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings mean "unset" so that `FOO= npm start` falls back to the default.
  const set = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== '')) as Record<
    string,
    string
  >;
  const cleaned = { ...stackDefaults(set), ...set };
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => {
        const name = i.path.join('.');
        const value = cleaned[name];
        return value === undefined ? `${name}: ${i.message}` : `${name}=${JSON.stringify(value)}: ${i.message}`;
      }),
    );
  }
  return Object.freeze(parsed.data);
}

/** Topic names derive from the prefix; co-partitioned pairs share KAFKA_PARTITIONS. */
export function topicsFor(config: Pick<Config, 'KAFKA_TOPIC_PREFIX'>) {
  const p = config.KAFKA_TOPIC_PREFIX;
  const context = (name: string) => ({ commands: `${p}.${name}.commands`, events: `${p}.${name}.events` });
  return {
    identity: context('identity'),
    catalog: context('catalog'),
    assessment: context('assessment'),
    replies: `${p}.replies`,
    publicAssessment: `${p}.public.assessment`,
    deadLetter: `${p}.deadletter`,
  } as const;
}
export type Topics = ReturnType<typeof topicsFor>;
