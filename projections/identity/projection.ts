import type { PoolClient } from 'pg';
import type { UserDisabled, UserEvent, UserRegistered } from '../../domain/identity/user';
import type { StoredOf } from '../../services/messaging/envelopes';
import type { Projection } from '../runtime/projection';

/**
 * Identity events → `users`: who can sign in, with which role. No secret ever reaches this
 * table (password hashes live in `user_credentials`, written by the API).
 */
export const USERS_PROJECTION = 'users';

type Stored<E extends UserEvent> = StoredOf<E>;

export const usersProjection: Projection = {
  name: USERS_PROJECTION,
  topics: (topics) => [topics.identity.events],
  tables: ['users'],
  async apply(client, record) {
    const event = record as Stored<UserEvent>;
    switch (event.type) {
      case 'UserRegistered':
        return registered(client, event);
      case 'UserDisabled':
        return disabled(client, event);
      default:
        // Event types this build does not know (written by a newer version) are skipped.
        return;
    }
  },
};

async function registered(client: PoolClient, event: Stored<UserRegistered>): Promise<void> {
  const d = event.data;
  // No conflict target: a clash on the email (which would need two ids for one normalised
  // email) must not wedge the projection; the first registration stays.
  await client.query(
    `INSERT INTO users (id, email, role, profile, status, version, created_at, updated_at)
     VALUES ($1, $2, $3, $4, 'active', $5, $6, $6)
     ON CONFLICT DO NOTHING`,
    [d.user_id, d.email, d.role, json(d.profile), event.version, d.registered_at],
  );
}

async function disabled(client: PoolClient, event: Stored<UserDisabled>): Promise<void> {
  const d = event.data;
  await client.query(
    `UPDATE users SET status = 'disabled', version = $2, updated_at = $3 WHERE id = $1 AND version < $2`,
    [d.user_id, event.version, d.disabled_at],
  );
}

function json(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}
