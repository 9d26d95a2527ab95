import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { selectRows, toSafeInt } from '../../../src/platform/sql.ts';
import { startPopug, type PopugApp } from './popugApp.ts';

type Role = 'employee' | 'manager' | 'accountant' | 'admin' | 'client' | 'model' | 'service';

/** Rows in every popug table and the outbox: bad input and refusals must leave them alone. */
async function footprint(app: PopugApp): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of ['popug_users', 'popug_tasks', 'popug_reshuffles', 'popug_entries', 'popug_days', 'outbox']) {
    out[t] = toSafeInt((await selectRows<{ n: unknown }>(app.database.db, `SELECT COUNT(*) AS n FROM ${t}`))[0]?.n ?? 0, 'n');
  }
  return out;
}

describe('popug access and bad input', function () {
  this.timeout(60_000);
  let app: PopugApp;
  const auth: Partial<Record<Role, Record<string, string>>> = {};
  let taskId: string;

  before(async () => {
    app = await startPopug();
    for (const role of ['employee', 'manager', 'accountant', 'admin'] as const) auth[role] = (await app.user(role)).auth;
    for (const role of ['client', 'model', 'service'] as const) auth[role] = await app.authFor(randomUUID(), role as never);
    taskId = (await app.createTask(auth.manager!)).body.task_id;
    await app.settle();
  });
  after(() => app.stop());

  // API.md's table: who may call what. Everyone else gets 403 (401 without a token).
  const table: { method: 'get' | 'post'; path: () => string; body?: unknown; allowed: Role[] }[] = [
    { method: 'post', path: () => '/popug/users', body: { user: randomUUID(), role: 'employee' }, allowed: ['admin'] },
    { method: 'post', path: () => '/popug/tasks/reshuffle', allowed: ['manager', 'admin'] },
    { method: 'get', path: () => `/popug/reshuffles/${randomUUID()}`, allowed: ['manager', 'admin'] },
    { method: 'get', path: () => '/popug/accounts/me', allowed: ['employee'] },
    { method: 'get', path: () => '/popug/dashboard', allowed: ['admin', 'accountant'] },
    { method: 'get', path: () => '/popug/dashboard/days?from=2030-01-01&to=2030-01-02', allowed: ['admin', 'accountant'] },
    { method: 'get', path: () => '/popug/payouts', allowed: ['admin', 'accountant'] },
    { method: 'post', path: () => '/popug/payouts/run', body: { day: '2020-01-01' }, allowed: ['admin'] },
    { method: 'get', path: () => `/popug/tasks/${taskId}`, allowed: ['employee', 'manager', 'accountant', 'admin'] },
    { method: 'get', path: () => '/popug/tasks', allowed: ['employee', 'manager', 'accountant', 'admin'] },
    { method: 'post', path: () => '/popug/tasks', body: { title: 't', description: 'd' }, allowed: ['employee', 'manager', 'accountant', 'admin'] },
  ];

  it('refuses every role API.md does not name (403) and callers without a token (401)', async () => {
    for (const route of table) {
      for (const role of Object.keys(auth) as Role[]) {
        if (route.allowed.includes(role)) continue;
        const res = route.method === 'get' ? await app.get(route.path(), auth[role]) : await app.post(route.path(), route.body ?? {}, auth[role]);
        expect(res.status, `${role} ${route.method} ${route.path()}`).to.equal(403);
      }
      const anon = route.method === 'get' ? await app.get(route.path()) : await app.post(route.path(), route.body ?? {});
      expect(anon.status, `anonymous ${route.path()}`).to.equal(401);
    }
  });

  it('lets the roles API.md names in', async () => {
    for (const route of table) {
      for (const role of route.allowed) {
        const res = route.method === 'get' ? await app.get(route.path(), auth[role]) : await app.post(route.path(), route.body ?? {}, auth[role]);
        expect(res.status, `${role} ${route.method} ${route.path()}: ${JSON.stringify(res.body)}`).to.be.oneOf([200, 201, 202, 404]);
      }
    }
    await app.settle();
  });

  it('answers bad input with 400 and a snake_case code, writing nothing and queueing nothing', async () => {
    await app.settle();
    const before = await footprint(app);
    const bad: [string, string, unknown, Role][] = [
      ['post', '/popug/users', { user: 'not-a-uuid', role: 'employee' }, 'admin'],
      ['post', '/popug/users', { user: randomUUID().toUpperCase(), role: 'employee' }, 'admin'],
      ['post', '/popug/users', { user: randomUUID(), role: 'client' }, 'admin'],
      ['post', '/popug/users', { user: randomUUID(), role: 'employee', extra: 1 }, 'admin'],
      ['post', '/popug/users', { user: randomUUID(), role: 'employee', email: 'no at sign' }, 'admin'],
      ['post', '/popug/tasks', { title: '', description: 'd' }, 'manager'],
      ['post', '/popug/tasks', { title: 'x'.repeat(256), description: 'd' }, 'manager'],
      ['post', '/popug/tasks', { title: 't' }, 'manager'],
      ['post', '/popug/tasks', { title: 't', description: 'd', jira_id: 'not a jira id' }, 'manager'],
      ['post', '/popug/tasks', '[]', 'manager'],
      ['post', '/popug/tasks', '{"title": ', 'manager'],
      ['post', '/popug/tasks/reshuffle', { now: true }, 'manager'],
      ['post', `/popug/tasks/${taskId}/complete`, { extra: 1 }, 'employee'],
      ['post', '/popug/tasks/NOT-A-UUID/complete', {}, 'employee'],
      ['get', '/popug/tasks/not-a-uuid', null, 'manager'],
      ['get', '/popug/tasks?status=closed', null, 'manager'],
      ['get', '/popug/tasks?limit=0', null, 'manager'],
      ['get', `/popug/tasks?after=${randomUUID()}`, null, 'manager'],
      ['get', '/popug/accounts/me?day=2030-02-31', null, 'employee'],
      ['get', '/popug/dashboard?day=tomorrow', null, 'admin'],
      ['get', '/popug/dashboard/days?from=2030-01-01', null, 'admin'],
      ['get', '/popug/payouts?day=20300101', null, 'accountant'],
      ['post', '/popug/payouts/run', { day: '2030-1-1' }, 'admin'],
    ];
    for (const [method, path, body, role] of bad) {
      const res = method === 'get' ? await app.get(path, auth[role]) : await app.post(path, body, auth[role]);
      expect(res.status, `${method} ${path} ${JSON.stringify(body)}: ${JSON.stringify(res.body)}`).to.equal(400);
      expect(res.body.success).to.equal(false);
      expect(res.body.code).to.match(/^[a-z][a-z0-9_]*$/);
    }
    expect(await footprint(app)).to.deep.equal(before);
  });

  it('answers 401 for a token whose sub is not a lowercase uuid', async () => {
    const res = await app.get('/popug/tasks', await app.authFor(randomUUID().toUpperCase(), 'manager'));
    expect(res.status).to.equal(401);
  });

  it('describes every popug route in the OpenAPI document', async () => {
    const doc = (await app.get('/openapi.json')).body;
    expect(doc.paths).to.include.keys(
      '/popug/users', '/popug/tasks', '/popug/tasks/{id}', '/popug/tasks/{id}/complete', '/popug/tasks/reshuffle', '/popug/reshuffles/{id}',
      '/popug/accounts/me', '/popug/dashboard', '/popug/dashboard/days', '/popug/payouts', '/popug/payouts/run',
    );
  });
});
