import { isPoison } from './deadLetters';

/** What sets an event aside for good, and what only retries its batch. */
describe('isPoison', () => {
  const pgError = (code: string) => Object.assign(new Error(`postgres ${code}`), { code });

  test.each([
    ['a data exception (invalid input syntax)', pgError('22P02')],
    ['a value too long', pgError('22001')],
    ['a unique violation', pgError('23505')],
    ['a not-null violation', pgError('23502')],
    ["the projection's own TypeError", new TypeError('x is undefined')],
  ])('%s is poison', (_, err) => expect(isPoison(err)).toBe(true));

  test.each([
    ['a lost connection', pgError('08006')],
    ['an administrator shutdown', pgError('57P01')],
    ['a deadlock', pgError('40P01')],
    ['a serialization failure', pgError('40001')],
    ['a missing table (a bad deploy hits every event alike)', pgError('42P01')],
    ['too many connections', pgError('53300')],
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })],
    ['a terminated connection', new Error('Connection terminated unexpectedly')],
    ['something that is not an error', 'oops'],
  ])('%s is retried', (_, err) => expect(isPoison(err)).toBe(false));
});
