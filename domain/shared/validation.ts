import type { Actor, CommandMetadata } from './decider';
import type { DomainErrorCode } from './errors';
import { domainError } from './errors';
import { isUuid } from './ids';
import type { JsonObject } from './json';
import { isJsonValue, isPlainObject } from './json';
import { canonicalInstant, parseInstant } from './time';

/**
 * Small guards used by the deciders to check command data. Each throws a validation
 * `DomainError` (code `INVALID_COMMAND` unless told otherwise) whose message names the field.
 */

export function requireUuid(value: unknown, field: string, code: DomainErrorCode = 'INVALID_COMMAND'): string {
  if (!isUuid(value)) throw domainError(code, `${field} must be a UUID, got ${describe(value)}.`, { field });
  return value;
}

export interface TextOptions {
  code?: DomainErrorCode;
  /** Allow "" (after trimming). Default false. */
  allowEmpty?: boolean;
  /** Counted in Unicode code points (as JSON Schema's `maxLength` counts), after trimming. */
  maxLength?: number;
  /** Refuse control characters (U+0000–U+001F, U+007F) anywhere, even where trimming would drop them. */
  singleLine?: boolean;
}

/** Control characters: C0 (U+0000–U+001F, tab and line breaks included) and DEL (U+007F). */
// eslint-disable-next-line no-control-regex
export const CONTROL_CHARACTER = /[\u0000-\u001F\u007F]/;

/** The length of `text` in Unicode code points (what JSON Schema's `minLength`/`maxLength` count). */
export function codePointLength(text: string): number {
  let n = 0;
  for (const _ of text) n += 1;
  return n;
}

/** Why `text` is not one line of text (names the first control character), or undefined. */
export function controlCharacterProblem(text: string, field: string): string | undefined {
  const at = text.search(CONTROL_CHARACTER);
  if (at < 0) return undefined;
  const code = text.charCodeAt(at).toString(16).toUpperCase().padStart(4, '0');
  return `${field} must be one line of text, without control characters (found U+${code} at character ${at + 1}).`;
}

/** A string, trimmed; non-empty unless `allowEmpty`. */
export function requireText(value: unknown, field: string, options: TextOptions = {}): string {
  const code = options.code ?? 'INVALID_COMMAND';
  if (typeof value !== 'string')
    throw domainError(code, `${field} must be a string, got ${describe(value)}.`, { field });
  const trimmed = value.trim();
  if (!options.allowEmpty && trimmed.length === 0) throw domainError(code, `${field} must not be empty.`, { field });
  const length = codePointLength(trimmed);
  if (options.maxLength !== undefined && length > options.maxLength) {
    throw domainError(code, `${field} must be at most ${options.maxLength} characters (got ${length}).`, {
      field,
    });
  }
  const problem = options.singleLine ? controlCharacterProblem(value, field) : undefined;
  if (problem !== undefined) throw domainError(code, problem, { field, problem: 'control_character' });
  return trimmed;
}

/** `undefined`/`null` → `null`; otherwise as `requireText`. */
export function optionalText(value: unknown, field: string, options: TextOptions = {}): string | null {
  return value === undefined || value === null ? null : requireText(value, field, options);
}

export function requireBoolean(value: unknown, field: string, code: DomainErrorCode = 'INVALID_COMMAND'): boolean {
  if (typeof value !== 'boolean') throw domainError(code, `${field} must be true or false.`, { field });
  return value;
}

/** A JSON object, or `null` when absent. */
export function optionalJsonObject(
  value: unknown,
  field: string,
  code: DomainErrorCode = 'INVALID_COMMAND',
): JsonObject | null {
  if (value === undefined || value === null) return null;
  if (!isPlainObject(value) || !isJsonValue(value)) {
    throw domainError(code, `${field} must be a JSON object, got ${describe(value)}.`, { field });
  }
  return value as JsonObject;
}

/** The canonical ISO instant (`…T…:…:….sssZ`) of `value`. */
export function requireInstant(value: unknown, field: string, code: DomainErrorCode = 'INVALID_COMMAND'): string {
  const canonical = canonicalInstant(value);
  if (canonical === undefined) {
    throw domainError(code, `${field} must be an ISO-8601 instant with a time zone, got ${describe(value)}.`, {
      field,
    });
  }
  return canonical;
}

/** `metadata.now` in milliseconds; a command without a valid `now` is malformed. */
export function nowOf(metadata: CommandMetadata): number {
  const millis = parseInstant(metadata.now);
  if (millis === undefined) {
    throw domainError('INVALID_COMMAND', `metadata.now must be an ISO-8601 instant, got ${describe(metadata.now)}.`, {
      field: 'metadata.now',
    });
  }
  return millis;
}

export function isAdminLike(actor: Actor): boolean {
  return actor.role === 'admin' || actor.role === 'system';
}

/** Rejects every actor but an admin or the system with `ADMIN_ROLE_REQUIRED`. */
export function requireAdmin(actor: Actor, action: string): void {
  if (!isAdminLike(actor)) {
    throw domainError('ADMIN_ROLE_REQUIRED', `Only an admin may ${action}; you are signed in as ${actor.role}.`, {
      actor_role: actor.role,
    });
  }
}

/** A short, safe rendering of a value for error messages. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return value.length > 60 ? `"${value.slice(0, 57)}..."` : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return `a ${typeof value}`;
}
