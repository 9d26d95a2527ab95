import type { Db } from '../../platform/db.ts';

export const HIRING_ROLES = ['author', 'candidate', 'manager'] as const;

/**
 * Hiring users are known on first sight of a valid token: the first request records them, later
 * ones keep their role, name and e-mail current (a manager's name and e-mail came with ReviewerAssigned v0).
 */
export async function rememberUser(db: Db, user: { id: string; role: string; name?: unknown; email?: unknown }, now: Date): Promise<void> {
  const text = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v.slice(0, 255) : null);
  await db.raw(
    `INSERT INTO hiring_users (user_id, role, name, email, first_seen_at) VALUES (?, ?, ?, ?, ?)
     ON DUPLICATE KEY UPDATE role = VALUES(role), name = COALESCE(VALUES(name), name), email = COALESCE(VALUES(email), email)`,
    [user.id, user.role, text(user.name), text(user.email), now],
  );
}
