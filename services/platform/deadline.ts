/** What `withDeadline` rejects with when the work has not settled in time. */
export class DeadlineExceededError extends Error {
  constructor(what: string, ms: number) {
    super(`${what}: no answer within ${ms} ms`);
    this.name = 'DeadlineExceededError';
  }
}

/**
 * Settles like `promise`, or rejects with DeadlineExceededError after `ms`. The work itself is
 * not cancelled: its late outcome is ignored, and the timer never keeps the process alive.
 */
export async function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineExceededError(what, ms)), ms);
    timer.unref();
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
    promise.catch(() => undefined); // a rejection after the deadline has no listener left
  }
}
