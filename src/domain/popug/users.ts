import type { Conn } from '../../platform/sql.ts';
import type { Trx } from '../../platform/db.ts';
import { execute, selectRows } from '../../platform/sql.ts';
import { publishEvent } from '../../../queues/outbox/writer.ts';
import { AccountCreated, AccountRoleChanged, type PopugRole } from './events.ts';
import { syncAssignee } from './assignees.ts';

export const POPUG_ROLES: readonly PopugRole[] = ['employee', 'manager', 'accountant', 'admin'];

export interface UserInput {
  user: string;
  role: PopugRole;
  name?: string | null | undefined;
  email?: string | null | undefined;
}

interface UserRow {
  role: PopugRole;
  name: string | null;
  email: string | null;
  version: number;
}

export type UserOutcome = 'created' | 'role_changed' | 'unchanged';

/**
 * Auth's side of the CUD stream: creates the user or changes their role (and name/email when
 * given), publishing AccountCreated / AccountRoleChanged in the same transaction.
 */
export async function upsertUser(trx: Trx, input: UserInput, now: Date): Promise<UserOutcome> {
  const rows = await selectRows<UserRow>(trx, 'SELECT role, name, email, version FROM popug_users WHERE user_id = ? FOR UPDATE', [input.user]);
  const found = rows[0];
  if (!found) {
    const inserted = await execute(
      trx,
      'INSERT IGNORE INTO popug_users (user_id, role, name, email, version, created_at, updated_at) VALUES (?, ?, ?, ?, 1, ?, ?)',
      [input.user, input.role, input.name ?? null, input.email ?? null, now, now],
    );
    // A concurrent first sight created it: treat this call as a change of that row.
    if (inserted.affectedRows === 0) return upsertUser(trx, input, now);
    await publishEvent(trx, AccountCreated, { user_id: input.user, role: input.role, name: input.name ?? null, email: input.email ?? null, version: 1 }, now);
    return 'created';
  }
  const name = input.name === undefined ? found.name : input.name;
  const email = input.email === undefined ? found.email : input.email;
  if (found.role === input.role && name === found.name && email === found.email) return 'unchanged';
  const version = found.version + 1;
  await execute(trx, 'UPDATE popug_users SET role = ?, name = ?, email = ?, version = ?, updated_at = ? WHERE user_id = ?', [input.role, name, email, version, now, input.user]);
  await publishEvent(trx, AccountRoleChanged, { user_id: input.user, role: input.role, name, email, version }, now);
  return found.role === input.role ? 'unchanged' : 'role_changed';
}

/** Whether auth knows this user (the cheap check made on every popug request). */
export async function userExists(conn: Conn, userId: string): Promise<boolean> {
  const rows = await selectRows<{ one: number }>(conn, 'SELECT 1 AS one FROM popug_users WHERE user_id = ?', [userId]);
  return rows.length > 0;
}

/** First sight of a valid token: the user is created with the token's role, name and email. */
export async function ensureUserSeen(trx: Trx, claims: { sub: string; role: PopugRole; name?: string | undefined; email?: string | undefined }, now: Date): Promise<void> {
  const rows = await selectRows<{ one: number }>(trx, 'SELECT 1 AS one FROM popug_users WHERE user_id = ?', [claims.sub]);
  if (rows.length > 0) return;
  const inserted = await execute(
    trx,
    'INSERT IGNORE INTO popug_users (user_id, role, name, email, version, created_at, updated_at) VALUES (?, ?, ?, ?, 1, ?, ?)',
    [claims.sub, claims.role, claims.name ?? null, claims.email ?? null, now, now],
  );
  if (inserted.affectedRows === 0) return;
  await publishEvent(trx, AccountCreated, { user_id: claims.sub, role: claims.role, name: claims.name ?? null, email: claims.email ?? null, version: 1 }, now);
}

/**
 * A replica's update rule: apply a user event only if its version is newer than the row's. The
 * tracker's copy also keeps the assignment slots (a role change takes the user out of them).
 */
export async function applyUserCopy(trx: Trx, table: 'popug_tracker_users' | 'popug_payment_users', p: { user_id: string; role: PopugRole; name: string | null; email: string | null; version: number }): Promise<boolean> {
  const result =
    table === 'popug_tracker_users'
      ? await execute(
          trx,
          `INSERT INTO popug_tracker_users (user_id, role, version) VALUES (?, ?, ?)
           ON DUPLICATE KEY UPDATE role = IF(VALUES(version) > version, VALUES(role), role), version = GREATEST(version, VALUES(version))`,
          [p.user_id, p.role, p.version],
        )
      : await execute(
          trx,
          `INSERT INTO popug_payment_users (user_id, role, name, email, version) VALUES (?, ?, ?, ?, ?)
           ON DUPLICATE KEY UPDATE role = IF(VALUES(version) > version, VALUES(role), role),
             name = IF(VALUES(version) > version, VALUES(name), name), email = IF(VALUES(version) > version, VALUES(email), email),
             version = GREATEST(version, VALUES(version))`,
          [p.user_id, p.role, p.name, p.email, p.version],
        );
  const applied = result.affectedRows > 0;
  if (applied && table === 'popug_tracker_users') await syncAssignee(trx, p.user_id);
  return applied;
}
