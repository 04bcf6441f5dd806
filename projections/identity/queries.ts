import type { Pool } from 'pg';
import type { UserRole } from '../../domain/identity/user';
import { isUuid } from '../../domain/shared/ids';
import type { JsonObject } from '../../domain/shared/json';

// Queries over the `users` read model (see ./projection.ts).

type Db = Pick<Pool, 'query'>;

export interface UserView {
  user_id: string;
  email: string;
  role: UserRole;
  profile: JsonObject | null;
  status: 'active' | 'disabled';
  /** When the user registered. */
  created_at: string;
  updated_at: string;
}

interface UserRow extends Omit<UserView, 'created_at' | 'updated_at'> {
  created_at: Date;
  updated_at: Date;
}

const USER_COLUMNS = 'id AS user_id, email::text AS email, role, profile, status, created_at, updated_at';

function toView(row: UserRow): UserView {
  return { ...row, created_at: row.created_at.toISOString(), updated_at: row.updated_at.toISOString() };
}

export async function findUserById(db: Db, userId: string): Promise<UserView | undefined> {
  if (!isUuid(userId)) return undefined;
  const { rows } = await db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [userId]);
  return rows[0] && toView(rows[0]);
}

/** Case-insensitive (the column is citext); surrounding spaces are ignored. */
export async function findUserByEmail(db: Db, email: string): Promise<UserView | undefined> {
  const { rows } = await db.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE email = $1`, [email.trim()]);
  return rows[0] && toView(rows[0]);
}
