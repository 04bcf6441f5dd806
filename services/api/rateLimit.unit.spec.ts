import { sweepExpired } from './rateLimit';

describe('rate-limit counters', () => {
  test('the counters of ended windows are swept, the current ones kept', () => {
    const now = 1_800_000_000_000;
    const counters = new Map([
      ['limit:user:a', { reset: (now - 1) / 1000 }],
      ['limit:user:b', { reset: (now + 30_000) / 1000 }],
      ['limit:ip:127.0.0.1', { reset: (now - 60_000) / 1000 }],
    ]);
    expect(sweepExpired(counters, now)).toBe(2);
    expect([...counters.keys()]).toEqual(['limit:user:b']);
  });
});
