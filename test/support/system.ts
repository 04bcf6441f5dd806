import { randomBytes, randomUUID } from 'node:crypto';
import { compileAgainstContract } from '../../services/api/openapi/contract';
import { openApiDocument } from '../../services/api/openapi/document';
import { deleteSearchIndexes } from '../../projections/search/indexes';
import { deleteTestTopics } from '../../services/replay/testing/topics';
import { loadConfig, type Config } from '../../services/platform/config';
import { createElasticsearch } from '../../services/platform/elasticsearch';
import { startMicrocred, type RunningMicrocred } from '../../services/startMicrocred';
import { normaliseEmail, userIdForEmail } from '../../domain/shared/ids';
import { eventually } from './platform';

// Response bodies in specs are read field by field; `any` keeps those reads short. Shapes are
// checked against the contract (expectMatchesContract), not by the type system.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface HttpResult<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/**
 * A whole microcred (deciders, projections, API) in this process, on topics and consumer
 * groups of its own (a unique prefix), against the real local stack.
 */
export interface TestSystem {
  config: Config;
  running: RunningMicrocred;
  url: string;
  env: Record<string, string>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  request<T = any>(
    method: string,
    path: string,
    options?: { token?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<HttpResult<T>>;
  adminToken(): Promise<string>;
  registerAndLogin(role?: 'student' | 'advisor' | 'admin'): Promise<{ userId: string; token: string; email: string }>;
  /** Stops it and deletes its topics and search indexes (`keepLog`: keeps them, for a restart on the same prefix). */
  stop(options?: { keepLog?: boolean }): Promise<void>;
}

export function systemEnv(overrides: Record<string, string> = {}): Record<string, string> {
  const id = randomUUID().slice(0, 8);
  return {
    KAFKA_TOPIC_PREFIX: `test-${id}`,
    KAFKA_CLIENT_ID: `test-${id}`,
    INSTANCE_ID: `test-${id}-main`,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
    JWT_SECRET: randomBytes(32).toString('hex'),
    BCRYPT_COST: '4',
    RATE_LIMIT_PER_MINUTE: '100000',
    BOOTSTRAP_ADMIN_EMAIL: `admin-${id}@test.microcred.local`,
    BOOTSTRAP_ADMIN_PASSWORD: `Adm1n-${randomBytes(12).toString('hex')}`,
    ...overrides,
  };
}

export async function startTestSystem(overrides: Record<string, string> = {}): Promise<TestSystem> {
  const env = systemEnv(overrides);
  const config = loadConfig({ ...process.env, ...env });
  const running = await startMicrocred(config, 'test');
  const url = running.url!;
  const request: TestSystem['request'] = async (method, path, options = {}) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: {
        ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...options.headers,
      },
      body:
        options.body === undefined
          ? undefined
          : typeof options.body === 'string'
            ? options.body
            : JSON.stringify(options.body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: body as never, headers: res.headers };
  };
  const login = async (email: string, password: string) => {
    const res = await request<{ access_token: string }>('POST', '/api/v1/auth/token', { body: { email, password } });
    return res.status === 200 ? res.body.access_token : undefined;
  };
  let admin: string | undefined;
  const adminId = userIdForEmail(normaliseEmail(env.BOOTSTRAP_ADMIN_EMAIL!));
  const adminToken = async () => {
    if (admin) return admin;
    // Wait for the account, not by signing in: failed sign-ins count towards the per-account lock
    // (SIGN_IN_MAX_FAILURES), and on a cold broker the bootstrap admin can take longer than that.
    await eventually(
      async () => {
        const { rows } = await running.platform.pool.query(
          `SELECT 1 FROM user_credentials c JOIN users u ON u.id = c.user_id WHERE c.user_id = $1 AND u.status = 'active'`,
          [adminId],
        );
        return rows.length > 0 ? true : undefined;
      },
      60_000,
      'bootstrap admin',
    );
    const token = await login(env.BOOTSTRAP_ADMIN_EMAIL!, env.BOOTSTRAP_ADMIN_PASSWORD!);
    if (!token) throw new Error('the bootstrap admin exists but cannot sign in');
    return (admin = token);
  };
  return {
    config,
    running,
    url,
    env,
    request,
    adminToken,
    async registerAndLogin(role = 'student') {
      const email = `${role}-${randomUUID().slice(0, 8)}@test.microcred.local`;
      const password = `Passw0rd-${randomBytes(6).toString('hex')}`;
      const register = async () =>
        role === 'student'
          ? request('POST', '/api/v1/auth/register', { body: { email, password } })
          : request('POST', '/api/v1/admin/users', { token: await adminToken(), body: { email, password, role } });
      // 202: the identity decider was slow; repeating the registration completes it (the contract's advice).
      let res = await register();
      for (let i = 0; i < 10 && res.status === 202; i++) res = await register();
      if (res.status !== 201) throw new Error(`registering ${email} failed: ${res.status} ${JSON.stringify(res.body)}`);
      const token = await login(email, password);
      if (!token) throw new Error(`logging in ${email} failed`);
      return { userId: (res.body as { user_id: string }).user_id, token, email };
    },
    async stop(options = {}) {
      await running.stop();
      if (options.keepLog) return;
      // No litter: the topics and search indexes of this system's prefix go with it (a broker
      // holding every topic of every past run also takes minutes to restart).
      const es = createElasticsearch(config.ELASTICSEARCH_URL);
      await deleteSearchIndexes(es, config.KAFKA_TOPIC_PREFIX).finally(() => es.close());
      await deleteTestTopics(config.KAFKA_TOPIC_PREFIX);
    },
  };
}

type Json = Record<string, unknown>;

/**
 * Checks a real response against the served OpenAPI document: the operation for (method,
 * path template) must declare the status, and the body must match its schema.
 */
export function expectMatchesContract(method: string, template: string, res: HttpResult): void {
  const paths = (openApiDocument as unknown as { paths: Record<string, Json> }).paths;
  const operation = paths[template]?.[method.toLowerCase()] as { responses: Record<string, Json> } | undefined;
  if (!operation) throw new Error(`The contract has no ${method} ${template}`);
  let declared = operation.responses[String(res.status)];
  if (declared && typeof declared.$ref === 'string') {
    const components = (openApiDocument as unknown as { components: { responses: Record<string, Json> } }).components;
    declared = components.responses[declared.$ref.split('/').pop()!];
  }
  if (!declared) throw new Error(`${method} ${template} answered ${res.status}, which the contract does not declare`);
  const schema = (declared.content as Record<string, { schema: object }> | undefined)?.['application/json']?.schema;
  if (!schema) {
    if (res.body !== undefined && res.body !== '')
      throw new Error(`${method} ${template} ${res.status} has a body the contract does not declare`);
    return;
  }
  const validate = compileAgainstContract(schema);
  if (!validate(res.body)) {
    throw new Error(
      `${method} ${template} ${res.status} body does not match the contract: ${JSON.stringify(validate.errors)}\nbody: ${JSON.stringify(res.body)}`,
    );
  }
}
