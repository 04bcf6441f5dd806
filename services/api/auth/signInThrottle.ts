import { createHmac, hkdfSync } from 'node:crypto';
import type { Pool } from 'pg';
import { normaliseEmail } from '../../../domain/shared/ids';
import type { Config } from '../../platform/config';
import { RateLimitedError } from '../../platform/errors';
import type { Logger } from '../../platform/logger';

export interface SignInThrottleSettings {
  maxFailures: number;
  windowSeconds: number;
  lockSeconds: number;
}

/** Expired rows are swept at most this often per process. */
const SWEEP_EVERY_MS = 60_000;

/**
 * Per-account throttling of sign-ins, on top of the per-IP rate limit: `maxFailures` failed
 * sign-ins for one email within `windowSeconds` lock it for `lockSeconds` (429 ACCOUNT_LOCKED,
 * even with the right password); a successful sign-in restarts the count. The state is in
 * PostgreSQL (`sign_in_throttle`), so every API process sees the same counts.
 *
 * Unknown emails are counted and locked exactly like registered ones, so neither the lock nor
 * its timing tells whether an address is registered. Rows are keyed by an HMAC of the
 * normalised email (key derived from JWT_SECRET): the table and the logs never hold the address,
 * and a leaked row cannot be matched against a list of guessed addresses without the key.
 */
export class SignInThrottle {
  private lastSweep = 0;

  constructor(
    private readonly pool: Pick<Pool, 'query'>,
    private readonly hashKey: Buffer,
    private readonly settings: SignInThrottleSettings,
    private readonly logger: Logger,
  ) {}

  static fromConfig(pool: Pick<Pool, 'query'>, config: Config, logger: Logger): SignInThrottle {
    return new SignInThrottle(
      pool,
      signInHashKey(config.JWT_SECRET!),
      {
        maxFailures: config.SIGN_IN_MAX_FAILURES,
        windowSeconds: config.SIGN_IN_FAILURE_WINDOW_SECONDS,
        lockSeconds: config.SIGN_IN_LOCK_SECONDS,
      },
      logger,
    );
  }

  /** The key of an email's row, also what the logs show: hex HMAC-SHA256 of the normalised email. */
  emailHash(email: string): string {
    return emailHashOf(this.hashKey, email);
  }

  /** Throws 429 ACCOUNT_LOCKED with Retry-After while the email is locked. */
  async assertNotLocked(emailHash: string): Promise<void> {
    const { rows } = await this.pool.query<{ seconds: number }>(
      `SELECT ceil(extract(epoch FROM locked_until - now()))::int AS seconds
         FROM sign_in_throttle WHERE email_hash = $1 AND locked_until > now()`,
      [emailHash],
    );
    const seconds = rows[0]?.seconds;
    if (seconds !== undefined) throw lockedError(Math.max(1, seconds));
  }

  /**
   * Counts a failure in one atomic upsert (concurrent API processes cannot lose a count): a
   * window that is over starts afresh; the failure that reaches the limit starts the lock and
   * restarts the count, so a lock that has ended gives the full allowance again.
   */
  async recordFailure(emailHash: string, ip: string): Promise<void> {
    await this.sweepNowAndThen();
    const { maxFailures, windowSeconds, lockSeconds } = this.settings;
    // The count this failure makes: the window's count + 1, or 1 when the window is over.
    const next = `(CASE WHEN t.window_started_at > now() - make_interval(secs => $3) THEN t.failures + 1 ELSE 1 END)`;
    const { rows } = await this.pool.query<{ failures: number; just_locked: boolean; locked_until: Date | null }>(
      `INSERT INTO sign_in_throttle AS t (email_hash, failures, window_started_at, locked_until, updated_at)
       VALUES ($1, CASE WHEN 1 >= $2 THEN 0 ELSE 1 END, now(),
               CASE WHEN 1 >= $2 THEN now() + make_interval(secs => $4) END, now())
       ON CONFLICT (email_hash) DO UPDATE SET
         failures = CASE WHEN ${next} >= $2 THEN 0 ELSE ${next} END,
         window_started_at = CASE
           WHEN ${next} >= $2 OR t.window_started_at <= now() - make_interval(secs => $3) THEN now()
           ELSE t.window_started_at END,
         locked_until = CASE WHEN ${next} >= $2 THEN now() + make_interval(secs => $4) ELSE t.locked_until END,
         updated_at = now()
       RETURNING failures, locked_until, locked_until IS NOT NULL
         AND locked_until = now() + make_interval(secs => $4) AS just_locked`,
      [emailHash, maxFailures, windowSeconds, lockSeconds],
    );
    const row = rows[0]!;
    if (row.just_locked) {
      this.logger.warn(
        {
          email_hash: emailHash,
          ip,
          failures: maxFailures,
          window_seconds: windowSeconds,
          locked_until: row.locked_until,
        },
        'sign-in locked after repeated failures',
      );
    } else {
      this.logger.info({ email_hash: emailHash, ip, failures: row.failures }, 'sign-in failed');
    }
  }

  /** A successful sign-in restarts the count (it cannot end a lock: locked sign-ins are refused first). */
  async recordSuccess(emailHash: string): Promise<void> {
    await this.pool.query(
      `DELETE FROM sign_in_throttle WHERE email_hash = $1 AND (locked_until IS NULL OR locked_until <= now())`,
      [emailHash],
    );
  }

  /** Drops rows whose window and lock are over (unknown emails would otherwise pile up). */
  private async sweepNowAndThen(): Promise<void> {
    const now = Date.now();
    if (now - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = now;
    await this.pool.query(
      `DELETE FROM sign_in_throttle
        WHERE window_started_at <= now() - make_interval(secs => $1)
          AND (locked_until IS NULL OR locked_until <= now())`,
      [this.settings.windowSeconds],
    );
  }
}

function lockedError(seconds: number): RateLimitedError {
  return new RateLimitedError(
    seconds,
    `Too many failed sign-ins for this email; try again in ${seconds}s`,
    'ACCOUNT_LOCKED',
  );
}

/** The HMAC key of `sign_in_throttle`, derived from JWT_SECRET (every API process has it). */
export function signInHashKey(jwtSecret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', jwtSecret, '', 'microcred sign-in throttle', 32));
}

export function emailHashOf(key: Buffer, email: string): string {
  return createHmac('sha256', key).update(normaliseEmail(email)).digest('hex');
}
