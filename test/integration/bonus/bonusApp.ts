import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { startConveyor, type HttpAnswer, type TestConveyor } from '../../helpers/conveyor.ts';
import { waitFor } from '../../helpers/wait.ts';
import type { Db } from '../../../src/platform/db.ts';
import type { Role } from '../../../src/config.ts';
import type { Clock } from '../../../src/platform/clock.ts';
import { parseBonusSettings, type BonusSettings } from '../../../src/domain/bonus/settings.ts';
import { grantKey } from '../../../src/domain/bonus/grant.ts';
import { checkLedger, isLedgerSound } from '../../../src/domain/ledger/index.ts';

// The upstream listings service's identity: a token's sub is always a lowercase uuid.
const LISTINGS_SERVICE = '00000000-0000-4000-8000-00000000b0b0';

/** Shared by the bonus integration tests: a Conveyor with small durations, event builders, probes. */
export const POINTS = '100.00';

export function testSettings(overrides: Record<string, unknown> = {}): BonusSettings {
  return parseBonusSettings({
    points: POINTS,
    cooldown: '30d',
    hold: '1s',
    recheck_cron: '*/15 * * * *',
    quality: { min_photos: 3, min_description: 20, require_price: true },
    recheck: { batch_size: 50, concurrency: 8, timeout_ms: 500, backoff: { delay_ms: 50, max_delay_ms: 200 }, give_up_after: 6 },
    ...overrides,
  });
}

export interface BonusApp extends TestConveyor {
  service: Record<string, string>;
  /** POSTs an envelope to /events as an upstream service. */
  send(name: string, payload: Record<string, unknown>, opts?: { eventId?: string; producedAt?: string | number; version?: number }): Promise<HttpAnswer>;
  authFor(userId: string, role?: 'client' | 'admin'): Promise<Record<string, string>>;
  /** Sends AccountLinked and waits until the actor has applied it (events of one user may apply in any order). */
  link(userId: string, yandexUid: string, timeoutMs?: number): Promise<void>;
}

export async function startBonus(
  opts: { settings?: BonusSettings; env?: Record<string, string>; roles?: Role[]; clock?: Clock } = {},
): Promise<BonusApp> {
  const app = await startConveyor({
    bonus: opts.settings ?? testSettings(),
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.roles ? { roles: opts.roles } : {}),
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
  const service = { authorization: `Bearer ${await app.token({ sub: LISTINGS_SERVICE, role: 'service' })}` };
  return Object.assign(app, {
    service,
    send(name: string, payload: Record<string, unknown>, o: { eventId?: string; producedAt?: string | number; version?: number } = {}) {
      const producedAt = o.producedAt === undefined ? new Date().toISOString() : typeof o.producedAt === 'number' ? new Date(o.producedAt).toISOString() : o.producedAt;
      return app.post('/events', envelope(name, payload, { ...o, producedAt }), service);
    },
    /** timeoutMs: longer where the worker is a child process that may still be starting. */
    async link(userId: string, yandexUid: string, timeoutMs?: number) {
      const res = await app.post('/events', envelope('AccountLinked', { user_id: userId, yandex_uid: yandexUid }), service);
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      await waitFor(async () => (await stateOf(app.database.db, userId))?.yandex_uid === yandexUid, { what: `link of ${userId}`, ...(timeoutMs ? { timeoutMs } : {}) });
    },
    async authFor(userId: string, role: 'client' | 'admin' = 'client') {
      return { authorization: `Bearer ${await app.token({ sub: userId, role })}` };
    },
  });
}

export function envelope(name: string, payload: Record<string, unknown>, o: { eventId?: string; producedAt?: string; version?: number } = {}) {
  return {
    event_id: o.eventId ?? randomUUID(),
    event_name: name,
    event_version: o.version ?? 1,
    produced_at: o.producedAt ?? new Date().toISOString(),
    payload,
  };
}

/** A listing that passes testSettings' rules; override fields to break one. */
export function goodListing(userId: string, listingId: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    listing_id: listingId,
    user_id: userId,
    title: 'Bicycle',
    description: 'A red bicycle in good condition, barely used.',
    photos_count: 4,
    price: 12000,
    ...over,
  };
}

export const poorListing = (userId: string, listingId: string) => goodListing(userId, listingId, { photos_count: 1, price: null });

export interface StateRow {
  state: string;
  listing_id: string | null;
  grant_at: Date | null;
  yandex_uid: string | null;
  last_grant_at: Date | null;
  points_granted: number;
}

export async function stateOf(db: Db, userId: string): Promise<StateRow | undefined> {
  return (await db('bonus_state').where('user_id', userId).first()) as StateRow | undefined;
}

export async function waitForState(db: Db, userId: string, state: string, timeoutMs = 10_000): Promise<StateRow> {
  return waitFor(async () => {
    const row = await stateOf(db, userId);
    return row?.state === state ? row : null;
  }, { timeoutMs, what: `user ${userId} in state ${state}` });
}

/** Every outbox row that is due is done (future holds may still wait); `now` in the app's clock. */
export async function settled(db: Db, timeoutMs = 15_000, now: () => number = Date.now): Promise<void> {
  await waitFor(async () => {
    const [row] = (await db('outbox').whereNot('status', 'done').andWhere('available_at', '<=', new Date(now())).count({ n: '*' })) as { n: number }[];
    return Number(row!.n) === 0;
  }, { timeoutMs, intervalMs: 50, what: 'every due outbox row done' });
}

export async function grantsOf(db: Db, userId: string): Promise<{ listing_id: string; points: number; granted_at: Date }[]> {
  return (await db('bonus_grants').where('user_id', userId).orderBy('granted_at')) as { listing_id: string; points: number; granted_at: Date }[];
}

/** The user's points balance in minor units, and the number of ledger transfers for (user, listing). */
export async function pointsBalance(db: Db, userId: string): Promise<number> {
  const row = (await db('accounts').where({ owner_type: 'user', owner_id: userId, kind: 'points' }).first()) as { balance: number } | undefined;
  return row ? Number(row.balance) : 0;
}

export async function transfersFor(db: Db, userId: string, listingId: string): Promise<number> {
  const [row] = (await db('transfers').where('idempotency_key', grantKey(userId, listingId)).count({ n: '*' })) as { n: number }[];
  return Number(row!.n);
}

export async function kindsOf(db: Db, userId: string): Promise<string[]> {
  return ((await db('notifications').where('user_id', userId).orderBy('id').select('kind')) as { kind: string }[]).map((r) => r.kind);
}

export async function expectLedgerSound(db: Db): Promise<void> {
  const report = await checkLedger(db);
  expect(isLedgerSound(report), JSON.stringify(report)).to.equal(true);
}
