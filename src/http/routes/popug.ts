import { Type, type TSchema } from '@sinclair/typebox';
import { accountDay, dashboard, dashboardDays, MAX_CHART_DAYS } from '../../domain/popug/dashboard.ts';
import { dayOf, parseDay } from '../../domain/popug/days.ts';
import { PopugRole, Uuid } from '../../domain/popug/events.ts';
import { payoutStatus, requestPayout } from '../../domain/popug/payout.ts';
import { getReshuffle, requestReshuffle } from '../../domain/popug/reshuffle.ts';
import { completeTask, createTask, getTask, listTasks, type TaskRow } from '../../domain/popug/tasks.ts';
import { ensureUserSeen, upsertUser, userExists } from '../../domain/popug/users.ts';
import { formatMoney } from '../../domain/ledger/money.ts';
import { BadRequest, Forbidden, NotFound, RuleViolation, Unauthorized } from '../../platform/errors.ts';
import { oncePer } from '../../platform/oncePer.ts';
import { toSafeInt } from '../../platform/sql.ts';
import type { Trace } from '../../platform/trace.ts';
import type { Services } from '../../services.ts';
import type { Claims } from '../auth/claims.ts';
import { saveIdempotent } from '../idempotency.ts';
import { defineRoute, type AnyRoute } from '../route.ts';

const ANY = ['employee', 'manager', 'accountant', 'admin'] as const;
const MANAGERS = ['manager', 'admin'] as const;
const FINANCE = ['admin', 'accountant'] as const;

const strict = <T extends Record<string, TSchema>>(props: T) => Type.Object(props, { additionalProperties: false });
const ok = (props: Record<string, TSchema>) => Type.Object({ success: Type.Literal(true), ...props });
const Money = Type.String({ pattern: '^-?\\d+\\.\\d{2}$' });
const DayText = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD' });
const JiraId = Type.String({ pattern: '^[A-Z][A-Z0-9]*-[0-9]+$', maxLength: 32 });
const Text = (max: number) => Type.String({ minLength: 1, maxLength: max });

const UserBody = strict({ user: Uuid, role: PopugRole, name: Type.Optional(Type.String({ maxLength: 128 })), email: Type.Optional(Type.String({ maxLength: 254, pattern: '^[^\\s@]+@[^\\s@]+$' })) });
const TaskBody = strict({ title: Text(255), description: Type.String({ maxLength: 10_000 }), jira_id: Type.Optional(Type.Union([JiraId, Type.Null()])) });
const IdParams = strict({ id: Uuid });
const TaskQuery = strict({
  assignee: Type.Optional(Uuid),
  status: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('done')])),
  limit: Type.Optional(Type.String({ pattern: '^([1-9]|[1-9][0-9]|100)$', description: '1..100, default 50' })),
  after: Type.Optional(Uuid),
});
const DayQuery = strict({ day: Type.Optional(DayText) });
const RangeQuery = strict({ from: DayText, to: DayText });
const RunBody = strict({ day: DayText });

const TaskOut = Type.Object({
  task_id: Type.String(), title: Type.String(), jira_id: Type.Union([Type.String(), Type.Null()]), description: Type.String(),
  status: Type.Union([Type.Literal('open'), Type.Literal('done')]), assignee: Type.String(),
  assign_fee: Type.Union([Money, Type.Null()]), reward: Type.Union([Money, Type.Null()]), created_at: Type.String(),
});
const Top = Type.Union([Type.Object({ task_id: Type.String(), title: Type.Union([Type.String(), Type.Null()]), reward: Money }), Type.Null()]);

type PopugClaims = Claims & { role: PopugRole };

function sub(claims: Claims): string {
  // API.md: sub is a lowercase uuid; the popug tables compare ids byte for byte.
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(claims.sub)) throw new Unauthorized('sub must be a lowercase uuid', 'bad_sub');
  return claims.sub;
}

/** Users known to exist, per process: a popug user is never deleted, so a hit needs no read. */
const knownUsers = oncePer((_services: Services) => new Set<string>());
const KNOWN_USERS_MAX = 100_000;

function remember(services: Services, id: string): void {
  const known = knownUsers(services);
  if (known.size >= KNOWN_USERS_MAX) known.clear();
  known.add(id);
}

/** First sight of a valid token: auth learns the user (AccountCreated goes out). */
async function seen(services: Services, claims: PopugClaims, trace: Trace): Promise<string> {
  const id = sub(claims);
  if (knownUsers(services).has(id)) return id;
  if (await userExists(services.db, id)) {
    remember(services, id);
    return id;
  }
  const claimed = (claims as Record<string, unknown>).email;
  const email = typeof claimed === 'string' && claimed.length <= 254 ? claimed : undefined;
  await services.outbox.transaction((trx) => ensureUserSeen(trx, { sub: id, role: claims.role, name: claims.name, email }, new Date(services.clock.now())), { trace });
  remember(services, id);
  return id;
}

function today(services: Services): string {
  return dayOf(services.clock.now(), services.config.tz);
}

function money(value: unknown): string | null {
  return value === null || value === undefined ? null : formatMoney(toSafeInt(value, 'money'));
}

function presentTask(t: TaskRow) {
  return {
    task_id: t.task_id, title: t.title, jira_id: t.jira_id, description: t.description, status: t.status, assignee: t.assignee,
    assign_fee: money(t.assign_fee), reward: money(t.reward), created_at: t.created_at.toISOString(),
  };
}

/** "[POPUG-12] fix the beak" with no jira_id: the id is taken out of the title, as v2 has it. */
function splitJira(title: string, jiraId: string | null | undefined): { title: string; jiraId: string | null } {
  if (jiraId) return { title, jiraId };
  const m = /^\s*\[([A-Z][A-Z0-9]*-[0-9]+)\]\s*(.+)$/s.exec(title);
  return m ? { title: m[2]!, jiraId: m[1]! } : { title, jiraId: null };
}

export function popugRoutes(): AnyRoute[] {
  return [
    defineRoute({
      method: 'post', path: '/popug/users', tag: 'popug', auth: ['admin'],
      summary: "Create a popug user or change their role (AccountCreated / AccountRoleChanged go to the tracker and payments)",
      body: UserBody,
      responses: { 200: { description: 'role (or name, email) changed or already so', schema: ok({ user: Type.String(), role: PopugRole, created: Type.Boolean() }) }, 201: { description: 'created' } },
      handler: async ({ body, claims, services, trace }) => {
        await seen(services, claims as PopugClaims, trace);
        const now = new Date(services.clock.now());
        const outcome = await services.outbox.transaction((trx) => upsertUser(trx, { user: body.user, role: body.role, name: body.name, email: body.email }, now), { trace });
        return { status: outcome === 'created' ? 201 : 200, body: { user: body.user, role: body.role, created: outcome === 'created' } };
      },
    }),
    defineRoute({
      method: 'post', path: '/popug/tasks', tag: 'popug', auth: ANY,
      summary: 'Create a task, assigned to a uniformly random current employee',
      body: TaskBody,
      responses: { 201: { description: 'created', schema: ok({ task_id: Type.String(), assignee: Type.String() }) }, 422: { description: 'no_employees' } },
      handler: async ({ body, claims, services, trace }) => {
        const caller = await seen(services, claims as PopugClaims, trace);
        const { title, jiraId } = splitJira(body.title, body.jira_id);
        if (title.trim() === '') throw new BadRequest('title is empty', 'bad_params');
        const now = new Date(services.clock.now());
        const task = await services.outbox.transaction((trx) => createTask(trx, { title, description: body.description, jiraId, createdBy: caller }, now), { trace });
        return { status: 201, body: { task_id: task.taskId, assignee: task.assignee } };
      },
    }),
    defineRoute({
      method: 'get', path: '/popug/tasks', tag: 'popug', auth: ANY,
      summary: "Tasks, newest first (employees: their own; managers and admins: any), paged with ?after=<last task_id>",
      query: TaskQuery,
      responses: { 200: { description: 'a page', schema: ok({ tasks: Type.Array(TaskOut), next: Type.Union([Type.String(), Type.Null()]) }) } },
      handler: async ({ query, claims, services, trace }) => {
        const caller = await seen(services, claims as PopugClaims, trace);
        const anyone = claims.role === 'manager' || claims.role === 'admin';
        if (!anyone && query.assignee !== undefined && query.assignee !== caller) throw new Forbidden('employees see their own tasks only', 'forbidden');
        const limit = Number(query.limit ?? 50);
        let before: { createdAt: Date; taskId: string } | undefined;
        if (query.after) {
          const last = await getTask(services.db, query.after);
          if (!last) throw new BadRequest('after names no task', 'bad_cursor');
          before = { createdAt: last.created_at, taskId: last.task_id };
        }
        const tasks = await listTasks(services.db, { assignee: anyone ? query.assignee : caller, status: query.status, before, limit });
        return { body: { tasks: tasks.map(presentTask), next: tasks.length === limit ? tasks.at(-1)!.task_id : null } };
      },
    }),
    defineRoute({
      method: 'get', path: '/popug/tasks/:id', tag: 'popug', auth: ANY,
      summary: 'One task; prices are null until payments has priced it',
      params: IdParams,
      responses: { 200: { description: 'the task', schema: Type.Intersect([ok({}), TaskOut]) }, 404: { description: 'task_not_found' } },
      handler: async ({ params, claims, services, trace }) => {
        await seen(services, claims as PopugClaims, trace);
        const task = await getTask(services.db, params.id);
        if (!task) throw new NotFound('no such task', 'task_not_found');
        return { body: presentTask(task) };
      },
    }),
    defineRoute({
      method: 'post', path: '/popug/tasks/:id/complete', tag: 'popug', auth: ANY,
      summary: 'Complete a task (its assignee only; 409 already_done the second time)',
      params: IdParams,
      responses: { 200: { description: 'completed', schema: ok({ task_id: Type.String(), status: Type.Literal('done') }) }, 403: { description: 'not_assignee' }, 409: { description: 'already_done' } },
      handler: async ({ params, claims, services, trace }) => {
        const caller = await seen(services, claims as PopugClaims, trace);
        await services.outbox.transaction((trx) => completeTask(trx, params.id, caller, new Date(services.clock.now())), { trace });
        return { body: { task_id: params.id, status: 'done' } };
      },
    }),
    defineRoute({
      method: 'post', path: '/popug/tasks/reshuffle', tag: 'popug', auth: MANAGERS,
      summary: 'Reassign every open task to a random employee; while one runs, answers the running one',
      responses: { 202: { description: 'started or running', schema: ok({ reshuffle_id: Type.String(), status: Type.Union([Type.Literal('running'), Type.Literal('done')]) }) } },
      handler: async ({ claims, services, trace }) => {
        const caller = await seen(services, claims as PopugClaims, trace);
        const r = await requestReshuffle((fn) => services.outbox.transaction(fn, { trace }), caller, new Date(services.clock.now()));
        return { status: 202, body: { reshuffle_id: r.reshuffle_id, status: r.status } };
      },
    }),
    defineRoute({
      method: 'get', path: '/popug/reshuffles/:id', tag: 'popug', auth: MANAGERS,
      summary: "A reshuffle's progress",
      params: IdParams,
      responses: { 200: { description: 'progress', schema: ok({ reshuffle_id: Type.String(), status: Type.String(), tasks_total: Type.Integer(), tasks_done: Type.Integer() }) } },
      handler: async ({ params, claims, services, trace }) => {
        await seen(services, claims as PopugClaims, trace);
        const r = await getReshuffle(services.db, params.id);
        if (!r) throw new NotFound('no such reshuffle', 'reshuffle_not_found');
        return { body: { ...r } };
      },
    }),
    defineRoute({
      method: 'get', path: '/popug/accounts/me', tag: 'popug', auth: ['employee'],
      summary: "The caller's balance and one day's audit log, newest first (amounts signed)",
      query: DayQuery,
      responses: {
        200: {
          description: 'balance and entries',
          schema: ok({
            balance: Money, day: Type.String(),
            entries: Type.Array(Type.Object({ entry_id: Type.String(), at: Type.String(), kind: Type.String(), task_id: Type.Optional(Type.String()), amount: Money, description: Type.String() })),
          }),
        },
      },
      handler: async ({ query, claims, services, trace }) => {
        const caller = await seen(services, claims as PopugClaims, trace);
        const day = query.day ? parseDay(query.day) : today(services);
        return { body: { ...(await accountDay(services.db, caller, day)) } };
      },
    }),
    defineRoute({
      method: 'get', path: '/popug/dashboard', tag: 'popug', auth: FINANCE,
      summary: "A day's management income, employees in the red, most expensive tasks (day, ISO week, month)",
      query: DayQuery,
      responses: { 200: { description: 'the dashboard', schema: ok({ day: Type.String(), management_income: Money, employees_in_red: Type.Integer(), most_expensive: Type.Object({ day: Top, week: Top, month: Top }) }) } },
      handler: async ({ query, claims, services, trace }) => {
        await seen(services, claims as PopugClaims, trace);
        const day = query.day ? parseDay(query.day) : today(services);
        return { body: { ...(await dashboard(services.db, day, today(services))) } };
      },
    }),
    defineRoute({
      method: 'get', path: '/popug/dashboard/days', tag: 'popug', auth: FINANCE,
      summary: `Per-day income, fees, rewards and payouts for a chart (at most ${MAX_CHART_DAYS} days)`,
      query: RangeQuery,
      responses: { 200: { description: 'one row per day, oldest first', schema: ok({ days: Type.Array(Type.Object({ day: Type.String(), management_income: Money, fees: Money, rewards: Money, payouts: Money })) }) } },
      handler: async ({ query, claims, services, trace }) => {
        await seen(services, claims as PopugClaims, trace);
        return { body: { days: await dashboardDays(services.db, parseDay(query.from), parseDay(query.to)) } };
      },
    }),
    defineRoute({
      method: 'get', path: '/popug/payouts', tag: 'popug', auth: FINANCE,
      summary: "A day's payout: pending, running or done, how many employees were paid and the total",
      query: DayQuery,
      responses: { 200: { description: 'the payout', schema: ok({ day: Type.String(), status: Type.String(), employees_paid: Type.Integer(), total: Money }) } },
      handler: async ({ query, claims, services, trace }) => {
        await seen(services, claims as PopugClaims, trace);
        const day = query.day ? parseDay(query.day) : today(services);
        return { body: { ...(await payoutStatus(services.db, day)) } };
      },
    }),
    defineRoute({
      method: 'post', path: '/popug/payouts/run', tag: 'popug', auth: ['admin'], idempotent: true,
      summary: "Run or resume a day's payout now (closes the day; each employee is paid once per day)",
      body: RunBody,
      responses: { 202: { description: 'queued', schema: ok({ day: Type.String(), status: Type.String() }) }, 422: { description: 'day_not_started' } },
      handler: async ({ body, claims, services, idempotency, trace }) => {
        await seen(services, claims as PopugClaims, trace);
        const day = parseDay(body.day);
        if (day > today(services)) throw new RuleViolation('a day can be paid once it has started', 'day_not_started');
        const now = new Date(services.clock.now());
        const answer = { day, status: 'queued' };
        await services.outbox.transaction(async (trx) => {
          await requestPayout(trx, day, now);
          if (idempotency) await saveIdempotent(trx, idempotency, 202, answer);
        }, { trace });
        return { status: 202, body: answer };
      },
    }),
  ];
}
