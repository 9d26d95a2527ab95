import type { Db } from '../../src/platform/db.ts';
import { placeholders } from '../../src/platform/sql.ts';
import { ReceiveMoney } from '../../src/domain/chat/events.ts';

/**
 * Outbox rows still owed work: neither done nor dead (a dead row waits for an operator, counted
 * apart by the scenarios that expect one). The one place that knows the row states.
 */
export async function outboxRowsOwed(db: Db): Promise<number> {
  const [row] = (await db('outbox').whereNotIn('status', ['done', 'dead']).count({ n: '*' })) as { n: number }[];
  return Number(row!.n);
}

export interface ListenerRowCount {
  donation_id: string | null;
  queue: string;
  n: number;
}

/**
 * (donation, ReceiveMoney listener) pairs not covered by exactly one event: a donation's
 * ReceiveMoney reaches each listener once, in a row of its own or inside an event batch row (one
 * row per listener carrying a whole transfer batch's envelopes, queues/outbox/writer.ts).
 */
export async function receiveMoneyDeliveriesNotOnce(db: Db): Promise<ListenerRowCount[]> {
  const queues = ReceiveMoney.listeners;
  const among = placeholders(queues.length);
  const [rows] = (await db.raw(
    `SELECT d.donation_id, d.queue, COUNT(*) AS n FROM (
       SELECT JSON_VALUE(payload, '$.donation_id') AS donation_id, queue FROM outbox WHERE queue IN (${among}) AND event_id IS NOT NULL
       UNION ALL
       SELECT j.donation_id, o.queue FROM outbox o, JSON_TABLE(o.payload, '$[*]' COLUMNS (donation_id VARCHAR(64) PATH '$.payload.donation_id')) j
        WHERE o.queue IN (${among}) AND o.event_id IS NULL
     ) d GROUP BY d.donation_id, d.queue HAVING n <> 1`,
    [...queues, ...queues],
  )) as [ListenerRowCount[]];
  return rows.map((r) => ({ ...r, n: Number(r.n) }));
}

/** Every (event, listener) delivery and the row carrying it: a row of its own, or an event batch row. */
const DELIVERIES = `SELECT event_id, queue, id, status FROM outbox WHERE event_id IS NOT NULL
  UNION ALL
  SELECT j.event_id, o.queue, o.id, o.status FROM outbox o, JSON_TABLE(o.payload, '$[*]' COLUMNS (event_id VARCHAR(64) PATH '$.event_id')) j
   WHERE o.event_id IS NULL AND o.event_name IS NOT NULL`;

export interface EventRow {
  event_id: string;
  /** The outbox row carrying the event: its own, or an event batch row it shares. */
  id: number;
  status: string;
}

/** The rows of `queue` that carry these events, one entry per event carried (so repeats show). */
export async function rowsOfEvents(db: Db, queue: string, eventIds: readonly string[]): Promise<EventRow[]> {
  if (eventIds.length === 0) return [];
  const [rows] = (await db.raw(`SELECT event_id, id, status FROM (${DELIVERIES}) d WHERE queue = ? AND event_id IN (${eventIds.map(() => '?').join(', ')})`, [queue, ...eventIds])) as [EventRow[]];
  return rows.map((r) => ({ ...r, id: Number(r.id) }));
}

/** (event, listener) pairs delivered more than once, across both row forms. */
export async function eventDeliveriesRepeated(db: Db): Promise<number> {
  const [rows] = (await db.raw(`SELECT COUNT(*) AS n FROM (SELECT event_id, queue FROM (${DELIVERIES}) d GROUP BY event_id, queue HAVING COUNT(*) > 1) x`)) as [{ n: number }[]];
  return Number(rows[0]!.n);
}

/** Donations whose AddNewDonate never reached TransferMoney (the event id is the donation id). */
export async function donationsWithoutTransferDelivery(db: Db): Promise<number> {
  const [rows] = (await db.raw(
    `SELECT COUNT(*) AS n FROM donations dn LEFT JOIN (SELECT DISTINCT event_id FROM (${DELIVERIES}) d WHERE queue = 'chat.transfer-money') t ON t.event_id = dn.id WHERE t.event_id IS NULL`,
  )) as [{ n: number }[]];
  return Number(rows[0]!.n);
}
