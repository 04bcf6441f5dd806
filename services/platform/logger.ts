import { AsyncLocalStorage } from 'node:async_hooks';
import pino from 'pino';

/** Request- or message-scoped fields that every log line inside the scope carries. */
export interface LogContext {
  correlation_id?: string;
  causation_id?: string;
  [key: string]: unknown;
}

const context = new AsyncLocalStorage<LogContext>();

export function withLogContext<T>(fields: LogContext, fn: () => T): T {
  return context.run({ ...context.getStore(), ...fields }, fn);
}

export function currentLogContext(): LogContext {
  return context.getStore() ?? {};
}

export type Logger = pino.Logger;

/** The one logger. Secrets are redacted by path as a second line of defence. */
export function createLogger(options: { level: string; service: string }): Logger {
  return pino({
    level: options.level,
    base: { service: options.service },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin: () => currentLogContext(),
    redact: {
      paths: [
        'password',
        '*.password',
        'password_hash',
        '*.password_hash',
        'authorization',
        '*.authorization',
        'headers.authorization',
        'access_token',
        '*.access_token',
        'secret',
        '*.secret',
        'apiKey',
        '*.apiKey',
      ],
      censor: '[redacted]',
    },
  });
}
