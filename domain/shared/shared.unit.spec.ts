import type { Decider } from './decider';
import { DeciderSpecification } from './deciderSpecification';
import type { DomainErrorCode } from './errors';
import {
  ConflictError,
  DomainError,
  domainError,
  domainErrorCodes,
  ForbiddenError,
  isDomainError,
  NotFoundError,
  ValidationError,
} from './errors';
import { aggregateIdForCreate, idFromKey, isUuid, MICROCRED_NAMESPACE, normaliseEmail, userIdForEmail } from './ids';
import { canonicalInstant, formatInstant, parseInstant } from './time';
import { describe as describeValue, optionalJsonObject, requireInstant, requireText, requireUuid } from './validation';

describe('ids', () => {
  test('the namespace and the derivation are fixed forever (changing them changes every id)', () => {
    expect(MICROCRED_NAMESPACE).toBe('3d1190fe-a421-5eea-bc55-dade280d0a8b');
    expect(userIdForEmail('ada@example.com')).toBe(idFromKey('user', 'ada@example.com'));
    expect(idFromKey('user', 'ada@example.com')).toBe('8363f16e-407c-5508-9b67-80810a4080b7');
  });

  test('emails are normalised by trimming and lowercasing', () => {
    expect(normaliseEmail('  Ada@Example.COM\n')).toBe('ada@example.com');
    expect(userIdForEmail(' ADA@example.com ')).toBe(userIdForEmail('ada@example.com'));
  });

  test('ids are deterministic UUIDv5s, distinct per kind and key', () => {
    const id = idFromKey('assessment', 'key-1');
    expect(isUuid(id)).toBe(true);
    expect(id[14]).toBe('5');
    expect(idFromKey('assessment', 'key-1')).toBe(id);
    expect(idFromKey('assessment', 'key-2')).not.toBe(id);
    expect(idFromKey('question', 'key-1')).not.toBe(id);
    expect(aggregateIdForCreate('assessment', 'key-1')).toBe(id);
    expect(() => idFromKey('', 'x')).toThrow();
  });

  test('isUuid', () => {
    expect(isUuid('3d1190fe-a421-5eea-bc55-dade280d0a8b')).toBe(true);
    expect(isUuid('not-a-uuid')).toBe(false);
    expect(isUuid(42)).toBe(false);
  });
});

describe('errors', () => {
  test('every code is SCREAMING_SNAKE', () => {
    for (const code of Object.keys(domainErrorCodes)) expect(code).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
  });

  test('domainError picks the class of the code’s kind', () => {
    const cases: [DomainErrorCode, unknown, string][] = [
      ['INVALID_ANSWER', ValidationError, 'validation'],
      ['ASSESSMENT_NOT_FOUND', NotFoundError, 'not_found'],
      ['ASSESSMENT_EXPIRED', ConflictError, 'conflict'],
      ['NOT_ASSESSMENT_OWNER', ForbiddenError, 'forbidden'],
    ];
    for (const [code, ErrorClass, kind] of cases) {
      const error = domainError(code, 'message', { a: 1 });
      expect(error).toBeInstanceOf(ErrorClass);
      expect(error).toBeInstanceOf(DomainError);
      expect(error).toBeInstanceOf(Error);
      expect(error).toMatchObject({ code, kind, message: 'message', details: { a: 1 } });
      expect(error.name).toBe((ErrorClass as { name: string }).name);
      expect(isDomainError(error)).toBe(true);
    }
    expect(isDomainError(new Error('x'))).toBe(false);
  });
});

describe('time', () => {
  test('parses ISO instants with a zone only', () => {
    expect(parseInstant('2025-03-01T09:00:00Z')).toBe(Date.UTC(2025, 2, 1, 9));
    expect(parseInstant('2025-03-01T10:00:00.5+01:00')).toBe(Date.UTC(2025, 2, 1, 9, 0, 0, 500));
    expect(parseInstant('2025-03-01T09:00:00')).toBeUndefined();
    expect(parseInstant('2025-03-01')).toBeUndefined();
    expect(parseInstant('2025-13-45T09:00:00Z')).toBeUndefined();
    expect(parseInstant(1740819600000)).toBeUndefined();
  });

  test('formats to canonical UTC with milliseconds', () => {
    expect(formatInstant(Date.UTC(2025, 2, 1, 9))).toBe('2025-03-01T09:00:00.000Z');
    expect(canonicalInstant('2025-03-01T10:00:00+01:00')).toBe('2025-03-01T09:00:00.000Z');
    expect(canonicalInstant('soon')).toBeUndefined();
  });
});

describe('validation helpers', () => {
  test('requireText trims and names the field', () => {
    expect(requireText('  x ', 'name')).toBe('x');
    expect(() => requireText(' ', 'name')).toThrow('name must not be empty.');
    expect(() => requireText(3, 'name')).toThrow('name must be a string, got 3.');
    expect(requireText('', 'name', { allowEmpty: true })).toBe('');
  });

  test('requireUuid, requireInstant and optionalJsonObject', () => {
    expect(() => requireUuid('x', 'role_id')).toThrow(expect.objectContaining({ code: 'INVALID_COMMAND' }));
    expect(requireInstant('2025-03-01T10:00:00+01:00', 'at')).toBe('2025-03-01T09:00:00.000Z');
    expect(optionalJsonObject(undefined, 'm')).toBeNull();
    expect(optionalJsonObject({ a: [1] }, 'm')).toEqual({ a: [1] });
    expect(() => optionalJsonObject({ a: undefined }, 'm')).toThrow(/m must be a JSON object/);
  });

  test('describe keeps error messages short', () => {
    expect(describeValue('x'.repeat(100))).toHaveLength(62);
    expect(describeValue([1, 2])).toBe('an array of 2');
    expect(describeValue(undefined)).toBe('nothing');
  });
});

describe('DeciderSpecification', () => {
  type Counter = { count: number; log: string[] };
  const mutating: Decider<{ type: 'Inc' }, { type: 'Incremented' }, Counter> = {
    initialState: () => ({ count: 0, log: [] }),
    evolve: (state) => ({ ...state, count: state.count + 1 }),
    decide: (_command, state) => {
      state.log.push('oops');
      return [{ type: 'Incremented' }];
    },
  };

  test('a decider that mutates its state fails the spec', () => {
    expect(() =>
      DeciderSpecification.for(mutating)([])
        .when({ type: 'Inc' })
        .then([{ type: 'Incremented' }]),
    ).toThrow(TypeError);
  });

  test('thenThrows fails when decide returns events', () => {
    const fine: typeof mutating = { ...mutating, decide: () => [{ type: 'Incremented' }] };
    expect(() => DeciderSpecification.for(fine)([]).when({ type: 'Inc' }).thenThrows('INVALID_COMMAND')).toThrow(
      /Expected INVALID_COMMAND but decide returned/,
    );
  });
});
