import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { startConveyor, type HttpAnswer, type TestConveyor } from '../../helpers/conveyor.ts';
import { waitFor } from '../../helpers/wait.ts';
import type { Role } from '../../../src/config.ts';
import type { Clock } from '../../../src/platform/clock.ts';
import { parsePopugSettings, type PopugSettings } from '../../../src/domain/popug/settings.ts';
import { selectRows, toSafeInt } from '../../../src/platform/sql.ts';

export type PopugRoleName = 'employee' | 'manager' | 'accountant' | 'admin';

export function testSettings(overrides: Record<string, unknown> = {}): PopugSettings {
  return parsePopugSettings({ payout_cron: '0 0 1 1 *', mail_attempts: 3, batch_size: 7, ...overrides });
}

export interface PopugApp extends TestConveyor {
  admin: { id: string; auth: Record<string, string> };
  authFor(userId: string, role: PopugRoleName, extra?: Record<string, unknown>): Promise<Record<string, string>>;
  /** Creates (or changes) a user through POST /popug/users and waits until both replicas have it. */
  user(role: PopugRoleName, opts?: { id?: string; email?: string }): Promise<{ id: string; auth: Record<string, string> }>;
  createTask(auth: Record<string, string>, title?: string): Promise<HttpAnswer>;
  /** Waits until every outbox row is done (all events applied). */
  settle(timeoutMs?: number): Promise<void>;
  balanceOf(userId: string): Promise<number>;
}

export async function startPopug(opts: { settings?: PopugSettings; env?: Record<string, string>; roles?: Role[]; clock?: Clock } = {}): Promise<PopugApp> {
  const app = await startConveyor({
    popug: opts.settings ?? testSettings(),
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.roles ? { roles: opts.roles } : {}),
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
  const adminId = randomUUID();
  const authFor = async (userId: string, role: PopugRoleName, extra: Record<string, unknown> = {}) => ({ authorization: `Bearer ${await app.token({ sub: userId, role, ...extra })}` });
  const adminAuth = await authFor(adminId, 'admin');
  const db = app.database.db;
  const settle = async (timeoutMs = 20_000) => {
    await waitFor(async () => {
      const rows = await selectRows<{ n: unknown }>(db, "SELECT COUNT(*) AS n FROM outbox WHERE status <> 'done'");
      return toSafeInt(rows[0]?.n ?? 0, 'n') === 0;
    }, { timeoutMs, what: 'outbox drained' });
  };
  return Object.assign(app, {
    admin: { id: adminId, auth: adminAuth },
    authFor,
    async user(role: PopugRoleName, o: { id?: string; email?: string } = {}) {
      const id = o.id ?? randomUUID();
      const res = await app.post('/popug/users', { user: id, role, ...(o.email ? { email: o.email } : {}) }, adminAuth);
      expect(res.status, JSON.stringify(res.body)).to.be.oneOf([200, 201]);
      await waitFor(async () => {
        const a = await selectRows<{ role: string }>(db, 'SELECT role FROM popug_tracker_users WHERE user_id = ?', [id]);
        const b = await selectRows<{ role: string }>(db, 'SELECT role FROM popug_payment_users WHERE user_id = ?', [id]);
        return a[0]?.role === role && b[0]?.role === role;
      }, { what: `user ${id} as ${role} in both replicas` });
      return { id, auth: await authFor(id, role, o.email ? { email: o.email } : {}) };
    },
    createTask(auth: Record<string, string>, title = 'peck the seeds') {
      return app.post('/popug/tasks', { title, description: 'a task' }, auth);
    },
    settle,
    async balanceOf(userId: string) {
      const rows = await selectRows<{ balance: unknown }>(db, "SELECT balance FROM accounts WHERE owner_type = 'employee' AND kind = 'popug' AND owner_id = ?", [userId]);
      return rows[0] ? toSafeInt(rows[0].balance, 'balance') : 0;
    },
  });
}
