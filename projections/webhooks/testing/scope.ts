import type { Pool } from 'pg';

/**
 * Removes a scope's webhook subscriptions and their secrets (a test system's, when it stops:
 * tests leave no rows behind in the shared database). Only for test prefixes.
 */
export async function deleteWebhookScope(pool: Pick<Pool, 'query'>, scope: string): Promise<void> {
  if (!/^test-[0-9a-f]{8}$/.test(scope)) throw new Error(`refusing to delete the webhook rows of scope ${scope}`);
  await pool.query(
    'DELETE FROM webhook_secrets WHERE subscription_id IN (SELECT id FROM webhook_subscriptions WHERE scope = $1)',
    [scope],
  );
  await pool.query('DELETE FROM webhook_subscriptions WHERE scope = $1', [scope]);
}
