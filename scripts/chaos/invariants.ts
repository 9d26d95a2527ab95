/**
 * What must hold after every scenario, checked against MySQL and Redis directly (not through the
 * deployment): the ledger, effects once, the backlog drained, acknowledged writes present,
 * refused writes absent, live viewers complete and without leaks.
 */
import type { Redis } from 'ioredis';
import type { Db } from '../../src/platform/db.ts';
import { checkLedger } from '../../src/domain/ledger/index.ts';
import { donationsWithoutTransferDelivery, eventDeliveriesRepeated, outboxRowsOwed, receiveMoneyDeliveriesNotOnce } from './outboxState.ts';
import type { Attempt, Traffic } from './traffic.ts';
import type { Viewer } from './wsClients.ts';
import type { ConsumerLog } from './consumer.ts';
import { until } from './infra.ts';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  /** ACKED: the ids of acknowledged writes not found, to count per scenario. */
  missing?: Set<string>;
}

const count = async (db: Db, sql: string, bindings: unknown[] = []): Promise<number> => {
  const [rows] = (await db.raw(sql, bindings as never)) as unknown as [{ n: unknown }[]];
  return Number(rows[0]?.n ?? 0);
};

const ok2xx = (a: Attempt) => a.status >= 200 && a.status < 300;

/** Jobs waiting or running in Redis, across every queue of the prefix. */
export async function jobsInFlight(redis: Redis, prefix: string): Promise<number> {
  return (await jobsInFlightByList(redis, prefix)).reduce((n, [, k]) => n + k, 0);
}

/**
 * Jobs waiting or running, by list. The queues a job scheduler feeds (a `repeat` key) are left out:
 * their jobs are periodic work, not a backlog, and the link re-check fires every 3 s here, so one
 * may start between the drain and the check.
 */
async function jobsInFlightByList(redis: Redis, prefix: string): Promise<[string, number][]> {
  const queueOf = (key: string) => key.slice(prefix.length + 1, key.lastIndexOf(':'));
  const periodic = new Set((await redis.keys(`${prefix}:*:repeat`)).map(queueOf));
  const out: [string, number][] = [];
  for (const key of [...(await redis.keys(`${prefix}:*:active`)), ...(await redis.keys(`${prefix}:*:wait`))]) {
    if (periodic.has(queueOf(key))) continue;
    const n = await redis.llen(key);
    if (n > 0) out.push([key.slice(prefix.length + 1), n]);
  }
  return out;
}

/** Waits (bounded) until the backlog is gone; facts already reported lost by an earlier scenario are not waited for. */
export async function drained(db: Db, redis: Redis, prefix: string, consumer: ConsumerLog, traffic: Traffic, timeoutMs: number, lost: ReadonlySet<string> = new Set()): Promise<number> {
  const promised = () =>
    traffic.attempts.filter((a) => a.kind === 'seen' && ok2xx(a) && !isDoomed(a) && !beforeWipe(traffic, a) && !consumer.byEvent.has(String(a.body?.event_id)) && !lost.has(String(a.body?.event_id))).length;
  return until(
    'the backlog to drain',
    async () =>
      (await outboxRowsOwed(db)) === 0 &&
      (await count(db, "SELECT COUNT(*) AS n FROM donations WHERE status = 'pending'")) === 0 &&
      (await jobsInFlight(redis, prefix)) === 0 &&
      promised() === 0,
    timeoutMs,
    500,
  );
}

export const isDoomed = (a: Attempt) => a.kind === 'seen' && a.tag === 'doomed';

/** A seen fact sent before Redis last came back empty: if it was not delivered by then, it may have gone with Redis. */
const beforeWipe = (traffic: Traffic, a: Attempt) => a.kind === 'seen' && traffic.redisWipes.some((w) => a.sentAt < w);

export async function checkAll(db: Db, redis: Redis, prefix: string, traffic: Traffic, viewers: Viewer[], consumer: ConsumerLog): Promise<Check[]> {
  const checks: Check[] = [];
  const add = (name: string, ok: boolean, detail = '') => checks.push({ name, ok, detail });

  const ledger = await checkLedger(db);
  add('CONS', ledger.sumOfBalances === 0 && ledger.balanceMismatches.length === 0 && ledger.brokenChains.length === 0, `sum ${ledger.sumOfBalances}, mismatches ${ledger.balanceMismatches.length}, chains ${ledger.brokenChains.length}`);
  add('NONNEG', ledger.overdrawn.length === 0, `overdrawn ${ledger.overdrawn.join(',')}`);

  const dupTransfers = await count(db, "SELECT COUNT(*) AS n FROM (SELECT reference FROM transfers WHERE reason = 'donation' GROUP BY reference HAVING COUNT(*) > 1) d");
  const completedWithout = await count(db, "SELECT COUNT(*) AS n FROM donations d LEFT JOIN transfers t ON t.reference = d.id AND t.reason = 'donation' WHERE d.status = 'completed' AND (t.id IS NULL OR t.amount <> d.sum OR t.id <> d.transfer_id)");
  const rejectedWith = await count(db, "SELECT COUNT(*) AS n FROM donations d JOIN transfers t ON t.reference = d.id AND t.reason = 'donation' WHERE d.status <> 'completed'");
  const listenerDups = (await receiveMoneyDeliveriesNotOnce(db)).length;
  const eventDups = await eventDeliveriesRepeated(db);
  const undelivered = await donationsWithoutTransferDelivery(db);
  const grantDups = await count(db, "SELECT COUNT(*) AS n FROM (SELECT reference FROM transfers WHERE reason LIKE 'bonus%' GROUP BY reference HAVING COUNT(*) > 1) x");
  add('ONCE', ledger.badTransfers.length === 0 && dupTransfers + completedWithout + rejectedWith + listenerDups + eventDups + undelivered + grantDups === 0,
    `bad transfers ${ledger.badTransfers.length}, dup donation transfers ${dupTransfers}, completed w/o one ${completedWithout}, rejected with one ${rejectedWith}, listener rows ≠1 ${listenerDups}, events delivered twice ${eventDups}, donations never sent to TransferMoney ${undelivered}, grant dups ${grantDups}`);

  const owed = await outboxRowsOwed(db);
  const pending = await count(db, "SELECT COUNT(*) AS n FROM donations WHERE status = 'pending'");
  const lists = await jobsInFlightByList(redis, prefix);
  const inFlight = lists.reduce((n, [, k]) => n + k, 0);
  add('DRAIN', owed === 0 && pending === 0 && inFlight === 0, `outbox owed ${owed}, donations pending ${pending}, jobs waiting/active ${inFlight}${lists.length ? ` (${lists.map(([k, n]) => `${k} ${n}`).join(', ')})` : ''}`);

  const goalsOff = await count(
    db,
    `SELECT COUNT(*) AS n FROM goals g LEFT JOIN (SELECT room, SUM(sum) AS s FROM donations WHERE status = 'completed' GROUP BY room) d ON d.room = g.room
     WHERE g.sum <> COALESCE(d.s, 0) OR (g.reached_at IS NOT NULL) <> (g.sum >= g.require_sum)`,
  );
  const totalsOff = await count(
    db,
    `SELECT COUNT(*) AS n FROM (SELECT room, sender_uuid, SUM(sum) AS s FROM donations WHERE status = 'completed' GROUP BY room, sender_uuid) d
     LEFT JOIN donor_totals t ON t.room = d.room AND t.client_uuid = d.sender_uuid WHERE t.total IS NULL OR t.total <> d.s`,
  );
  const sponsorOff = await count(
    db,
    `SELECT COUNT(*) AS n FROM room_sponsor r JOIN donor_totals t ON t.room = r.room AND t.client_uuid = r.client_uuid
     WHERE t.total < (SELECT MAX(total) FROM donor_totals m WHERE m.room = r.room)`,
  );
  add('DERIVED', goalsOff + totalsOff + sponsorOff === 0, `goals off ${goalsOff}, donor totals off ${totalsOff}, sponsors not top ${sponsorOff}`);

  // ACKED: every 2xx answer's write exists.
  const acked = traffic.attempts.filter(ok2xx);
  const want = (kind: string) => acked.filter((a) => a.kind === kind);
  const missing: string[] = [];
  const has = async (table: string, column: string, ids: string[]) => {
    if (ids.length === 0) return new Set<string>();
    const rows = (await db(table).whereIn(column, ids).select(column)) as Record<string, string>[];
    return new Set(rows.map((r) => r[column]!));
  };
  const donationIds = want('donation').map((a) => String(a.body?.donation_id));
  const foundDonations = await has('donations', 'id', donationIds);
  missing.push(...donationIds.filter((id) => !foundDonations.has(id)).map((id) => `donation ${id}`));
  const messageIds = want('message').map((a) => String(a.body?.event_id));
  const foundMessages = await has('messages', 'event_id', messageIds);
  missing.push(...messageIds.filter((id) => !foundMessages.has(id)).map((id) => `message ${id}`));
  const bonusIds = want('bonus').map((a) => a.key);
  const foundBonus = await has('processed_events', 'event_id', bonusIds);
  missing.push(...bonusIds.filter((id) => !foundBonus.has(id)).map((id) => `bonus event ${id}`));
  const unseen = want('seen').filter((a) => !isDoomed(a) && !consumer.byEvent.has(String(a.body?.event_id)));
  missing.push(...unseen.filter((a) => !beforeWipe(traffic, a)).map((a) => `seen ${String(a.body?.event_id)}`));
  // Not durable by design: seen facts live in Redis only, and the harness's Redis keeps nothing on disk.
  const wiped = unseen.filter((a) => beforeWipe(traffic, a)).length;
  const wipedNote = wiped > 0 ? `; ${wiped} seen fact(s) sent before a Redis wipe and never delivered (in Redis only, by design)` : '';
  add('ACKED', missing.length === 0, (missing.length ? `${missing.length} lost: ${missing.slice(0, 3).join(', ')}` : `${acked.length} acknowledged, all present`) + wipedNote);
  checks[checks.length - 1]!.missing = new Set(missing.map((m) => m.split(' ').pop()!));

  // A retried key must answer what it answered first.
  const changed = acked.filter((a) => new Set(a.answers.map((t) => JSON.stringify({ ...(JSON.parse(t) as object), request_id: undefined }))).size > 1);
  // Donations per sender: exactly the acknowledged ones, plus at most the ones whose answer never came.
  let extra = 0;
  for (const client of traffic.clients) {
    const mine = traffic.attempts.filter((a) => a.kind === 'donation' && a.sender === client.uuid);
    const unknown = mine.filter((a) => a.status === 0 || a.status >= 500).length;
    const rows = await count(db, 'SELECT COUNT(*) AS n FROM donations WHERE sender_uuid = ?', [client.uuid]);
    const surplus = rows - mine.filter(ok2xx).length;
    if (surplus < 0 || surplus > unknown) extra += Math.max(0, surplus - unknown);
  }
  const vandalRows =
    (await count(db, 'SELECT COUNT(*) AS n FROM donations WHERE sender_uuid = ?', [traffic.vandal.uuid])) +
    (await count(db, 'SELECT COUNT(*) AS n FROM messages WHERE sender_uuid = ?', [traffic.vandal.uuid])) +
    (await count(db, 'SELECT COUNT(*) AS n FROM outbox WHERE payload LIKE ?', [`%${traffic.vandal.uuid}%`]));
  // Invalid input answered 2xx is a write that should not be; a 503 or a timeout (a dependency down) is not.
  const vandalOk = traffic.attempts.filter((a) => a.kind === 'invalid' && ok2xx(a)).length;
  add('NOWRITE', vandalRows === 0 && vandalOk === 0 && extra === 0 && changed.length === 0,
    `invalid requests' rows ${vandalRows}, invalid accepted ${vandalOk}, donations beyond acks ${extra}, retried keys answering differently ${changed.length}`);

  // ws: every visible event of the room once per viewer (since it joined), no private event leaked.
  let gaps = 0;
  let dups = 0;
  let leaks = 0;
  const dupIds: string[] = [];
  for (const v of viewers) {
    const events = (await db('chat_events').where('room', v.room).andWhere('id', '>', v.baseline).select('event_id', 'audience')) as { event_id: string; audience: string | null }[];
    const visible = new Set(events.filter((e) => e.audience === null || (JSON.parse(e.audience) as string[]).includes(v.who.uuid)).map((e) => e.event_id));
    const all = new Set(events.map((e) => e.event_id));
    const seen = new Map<string, number>();
    for (const id of v.received) seen.set(id, (seen.get(id) ?? 0) + 1);
    for (const id of visible) if (!seen.has(id)) gaps++;
    for (const [id, n] of seen) {
      if (n > 1) {
        dups += n - 1;
        dupIds.push(`${id} at ${v.received.map((r, i) => (r === id ? i : -1)).filter((i) => i >= 0).join('/')} of ${v.received.length} (reconnects ${v.reconnects}, refetches ${v.refetches})`);
      }
      if (all.has(id) && !visible.has(id)) leaks++;
    }
  }
  add('WS', gaps + dups + leaks === 0, `viewers ${viewers.length}, gaps ${gaps}, duplicates ${dups}, private leaks ${leaks}${dupIds.length ? `\n    duplicated: ${dupIds.slice(0, 4).join('; ')}` : ''}`);
  return checks;
}
