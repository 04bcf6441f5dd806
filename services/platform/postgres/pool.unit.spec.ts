import { isDatabaseUnavailable } from './pool';

describe('isDatabaseUnavailable', () => {
  test.each([
    ['connection refused', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })],
    ['server shutting down', Object.assign(new Error('terminating connection'), { code: '57P01' })],
    ['server starting up', Object.assign(new Error('the database system is starting up'), { code: '57P03' })],
    ['connection exception class', Object.assign(new Error('connection failure'), { code: '08006' })],
    ['socket cut mid-query', new Error('Connection terminated unexpectedly')],
    ['pool timeout', new Error('timeout exceeded when trying to connect')],
  ])('%s: unavailable', (_, err) => {
    expect(isDatabaseUnavailable(err)).toBe(true);
  });

  test.each([
    ['bad SQL', Object.assign(new Error('syntax error at or near "SELEC"'), { code: '42601' })],
    ['a constraint', Object.assign(new Error('duplicate key value'), { code: '23505' })],
    ['not an error', undefined],
  ])('%s: not an outage', (_, err) => {
    expect(isDatabaseUnavailable(err)).toBe(false);
  });
});
