import { ConfigError, loadConfig, topicsFor } from './config';

describe('loadConfig', () => {
  test('defaults work on the local stack', () => {
    const config = loadConfig({});
    expect(config.PORT).toBe(3000);
    expect(config.KAFKA_BROKERS).toBe('127.0.0.1:9092');
    expect(config.SCHEMA_REGISTRY_URL).toBe('http://127.0.0.1:8081/apis/ccompat/v7');
    expect(config.DATABASE_URL).toBe('postgres://microcred@127.0.0.1:5432/microcred');
  });

  test("the stack's port variables move the app's default URLs too; explicit URLs still win", () => {
    const config = loadConfig({
      KAFKA_PORT: '19092',
      PGPORT: '15432',
      ES_PORT: '19200',
      SCHEMA_REGISTRY_PORT: '18081',
    });
    expect(config.KAFKA_BROKERS).toBe('127.0.0.1:19092');
    expect(config.DATABASE_URL).toBe('postgres://microcred@127.0.0.1:15432/microcred');
    expect(config.ELASTICSEARCH_URL).toBe('http://127.0.0.1:19200');
    expect(config.SCHEMA_REGISTRY_URL).toBe('http://127.0.0.1:18081/apis/ccompat/v7');
    expect(loadConfig({ PGPORT: '15432', DATABASE_URL: 'postgres://x@db:5432/y' }).DATABASE_URL).toBe(
      'postgres://x@db:5432/y',
    );
  });

  test('empty strings fall back to defaults', () => {
    expect(loadConfig({ PORT: '' }).PORT).toBe(3000);
  });

  test('every invalid variable is named in one clear message', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', KAFKA_BROKERS: 'localhost', DATABASE_URL: 'not a url' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toContain('PORT="eighty"');
    expect(message).toContain('KAFKA_BROKERS="localhost"');
    expect(message).toContain('DATABASE_URL="not a url"');
    expect((error as ConfigError).problems).toHaveLength(3);
  });

  test('topic names derive from the prefix', () => {
    const topics = topicsFor({ KAFKA_TOPIC_PREFIX: 'acme' });
    expect(topics.assessment).toEqual({ commands: 'acme.assessment.commands', events: 'acme.assessment.events' });
    expect(topics.replies).toBe('acme.replies');
  });

  test('sign-in throttling and CORS: defaults, an origin list, and what is refused', () => {
    const defaults = loadConfig({});
    expect(defaults).toMatchObject({
      SIGN_IN_MAX_FAILURES: 10,
      SIGN_IN_FAILURE_WINDOW_SECONDS: 900,
      SIGN_IN_LOCK_SECONDS: 900,
      CORS_ORIGINS: [],
    });
    expect(loadConfig({ CORS_ORIGINS: 'https://dash.example.com, http://localhost:5173' }).CORS_ORIGINS).toEqual([
      'https://dash.example.com',
      'http://localhost:5173',
    ]);
    for (const bad of [
      '*',
      'dash.example.com',
      'https://dash.example.com/',
      'https://dash.example.com/app',
      'ftp://x.y',
    ]) {
      expect(() => loadConfig({ CORS_ORIGINS: bad })).toThrow(/CORS_ORIGINS=.*must be origins/);
    }
    expect(() => loadConfig({ SIGN_IN_MAX_FAILURES: '0', SIGN_IN_LOCK_SECONDS: 'soon' })).toThrow(
      /SIGN_IN_MAX_FAILURES="0"[\s\S]*SIGN_IN_LOCK_SECONDS="soon"/,
    );
  });
});
