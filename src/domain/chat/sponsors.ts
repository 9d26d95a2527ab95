import type { Db, Trx } from '../../platform/db.ts';
import type { Envelope } from '../../../queues/outbox/envelope.ts';
import { eventBatchJobs, writeOutbox } from '../../../queues/outbox/writer.ts';
import { makeEnvelope } from '../../../queues/outbox/envelope.ts';
import { formatMoney } from '../ledger/index.ts';
import { execute, executeLater, placeholders, selectRows, toSafeInt } from '../../platform/sql.ts';
import type { ChatEvent } from './chatEvent.ts';
import { chatEvent, recordChatEvents } from './chatEventLog.ts';
import { NewSponsor, type NewSponsorPayload, type ReceiveMoneyPayload } from './events.ts';

/**
 * CalculateNewSponsor, on ReceiveMoney, for a batch of transfers. The cost does not depend on the
 * donation history: one multi-row upsert of the donors' totals, PK reads of the sponsors' totals,
 * one dive per room into the (room, total DESC) index for the top donor. The rooms' room_sponsor
 * rows are locked first (sorted, in one statement), so each room's decisions are serial.
 *
 * Transfers are replayed in the order they happened: a donor who passes the sponsor's total
 * becomes the sponsor (a NewSponsor each time); ties keep the sponsor. Reads are the latest
 * committed state (the batch runs in READ COMMITTED, after taking the locks). Returns how many
 * NewSponsor events it published.
 */
export async function calculateSponsors(trx: Trx, envelopes: readonly Envelope<ReceiveMoneyPayload>[]): Promise<number> {
  if (envelopes.length === 0) return 0;
  const rooms = [...new Set(envelopes.map((e) => e.payload.room))].sort();
  await executeLater(
    trx,
    `INSERT INTO room_sponsor (room, total, seq, updated_at) VALUES ${rooms.map(() => '(?, 0, 0, UTC_TIMESTAMP(3))').join(', ')} ON DUPLICATE KEY UPDATE room = room`,
    rooms,
  );
  const given = new Map<string, { room: string; client: string; sum: number }>();
  for (const { payload: p } of envelopes) {
    const key = `${p.room}\n${p.sender_uuid}`;
    given.set(key, { room: p.room, client: p.sender_uuid, sum: (given.get(key)?.sum ?? 0) + p.sum });
  }
  const donors = [...given.values()].sort((a, b) => (a.room + a.client < b.room + b.client ? -1 : 1));
  await executeLater(
    trx,
    `INSERT INTO donor_totals (room, client_uuid, total, updated_at) VALUES ${donors.map(() => '(?, ?, ?, UTC_TIMESTAMP(3))').join(', ')}
     ON DUPLICATE KEY UPDATE total = total + VALUES(total), updated_at = VALUES(updated_at)`,
    donors.flatMap((d) => [d.room, d.client, d.sum]),
  );

  // Totals after this batch, for the batch's donors, each room's sponsor and each room's top donor.
  const state = await selectRows<{ room: string; client_uuid: string | null; seq: unknown; top_uuid: string | null; top_total: unknown }>(
    trx,
    `SELECT s.room, s.client_uuid, s.seq,
       (SELECT t.client_uuid FROM donor_totals t WHERE t.room = s.room ORDER BY t.total DESC LIMIT 1) AS top_uuid,
       (SELECT t.total FROM donor_totals t WHERE t.room = s.room ORDER BY t.total DESC LIMIT 1) AS top_total
     FROM room_sponsor s WHERE s.room IN (${placeholders(rooms.length)})`,
    rooms,
  );
  // Primary-key reads, room by room (written so that the optimizer cannot mistake it for a scan).
  const wanted = new Map<string, Set<string>>();
  for (const [room, client] of [...donors.map((d) => [d.room, d.client] as const), ...state.filter((r) => r.client_uuid).map((r) => [r.room, r.client_uuid!] as const)]) {
    wanted.set(room, (wanted.get(room) ?? new Set()).add(client));
  }
  const totalsAfter = await selectRows<{ room: string; client_uuid: string; total: unknown }>(
    trx,
    `SELECT room, client_uuid, total FROM donor_totals WHERE ${[...wanted.values()].map((c) => `(room = ? AND client_uuid IN (${placeholders(c.size)}))`).join(' OR ')}`,
    [...wanted].flatMap(([room, clients]) => [room, ...clients]),
  );
  // Roll the batch back out of the totals, then replay it transfer by transfer.
  const totals = new Map(totalsAfter.map((t) => [`${t.room}\n${t.client_uuid}`, toSafeInt(t.total, 'total')]));
  for (const [key, d] of given) totals.set(key, (totals.get(key) ?? 0) - d.sum);

  const names = new Map(envelopes.map((e) => [e.payload.sender_uuid, e.payload.sender_name]));
  const crowned: Omit<NewSponsorPayload, 'client_name'>[] = [];
  for (const row of state) {
    let sponsor = row.client_uuid;
    let seq = toSafeInt(row.seq, 'seq');
    const totalOf = (client: string | null) => (client === null ? 0 : (totals.get(`${row.room}\n${client}`) ?? 0));
    for (const { payload: p } of envelopes) {
      if (p.room !== row.room) continue;
      const key = `${p.room}\n${p.sender_uuid}`;
      totals.set(key, (totals.get(key) ?? 0) + p.sum);
      if (p.sender_uuid !== sponsor && totalOf(p.sender_uuid) > totalOf(sponsor)) {
        sponsor = p.sender_uuid;
        crowned.push({ room: row.room, client_uuid: sponsor, total: totalOf(sponsor), seq: ++seq });
      }
    }
    // The index is the arbiter: should the sponsor ever not hold the top total, the top donor takes over.
    const topTotal = row.top_total === null ? 0 : toSafeInt(row.top_total, 'total');
    if (row.top_uuid && row.top_uuid !== sponsor && topTotal > totalOf(sponsor)) {
      sponsor = row.top_uuid;
      crowned.push({ room: row.room, client_uuid: sponsor, total: topTotal, seq: ++seq });
    }
  }
  if (crowned.length === 0) return 0;

  const last = new Map(crowned.map((c) => [c.room, c]));
  await executeLater(
    trx,
    `INSERT INTO room_sponsor (room, client_uuid, total, seq, updated_at) VALUES ${[...last.values()].map(() => '(?, ?, ?, ?, UTC_TIMESTAMP(3))').join(', ')}
     ON DUPLICATE KEY UPDATE client_uuid = VALUES(client_uuid), total = VALUES(total), seq = VALUES(seq), updated_at = VALUES(updated_at)`,
    [...last.values()].flatMap((c) => [c.room, c.client_uuid, c.total, c.seq]),
  );
  const now = new Date();
  const crowns: Envelope<NewSponsorPayload>[] = [];
  for (const c of crowned) {
    const name = names.has(c.client_uuid) ? (names.get(c.client_uuid) ?? null) : await clientName(trx, c.client_uuid);
    crowns.push(makeEnvelope(NewSponsor, { ...c, client_name: name }, now));
  }
  // One row per listener for the batch's crowns, in order (a uniform batch crowns in many rooms).
  await writeOutbox(trx, eventBatchJobs(NewSponsor, crowns), now);
  return crowned.length;
}

async function clientName(trx: Trx, uuid: string): Promise<string | null> {
  const rows = await selectRows<{ name: string | null }>(trx, 'SELECT name FROM clients WHERE uuid = ?', [uuid]);
  return rows[0]?.name ?? null;
}

/** SaveNewSponsor: the sponsor history; (room, seq) is unique, so saving twice is a no-op. */
export async function saveSponsors(trx: Trx, envelopes: readonly Envelope<NewSponsorPayload>[]): Promise<void> {
  for (const { payload: p } of envelopes) {
    await execute(
      trx,
      `INSERT IGNORE INTO sponsors (room, user_id, client_id, client_uuid, total, seq, created_at, updated_at)
       SELECT ?, u.id, c.id, ?, ?, ?, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3) FROM users u JOIN clients c ON c.uuid = ? WHERE u.uuid = ?`,
      [p.room, p.client_uuid, p.total, p.seq, p.client_uuid, p.room],
    );
  }
}

/** SendNewSponsorToQueue: the room hears who its new sponsor is. */
export async function broadcastSponsors(trx: Trx, envelopes: readonly Envelope<NewSponsorPayload>[], outboxId: string | null): Promise<ChatEvent[]> {
  const events = envelopes.map(({ event_id, produced_at, payload: p }) =>
    chatEvent('change_sponsor', event_id, p.room, produced_at, { sponsor: { uuid: p.client_uuid, name: p.client_name }, total: formatMoney(p.total) }, null),
  );
  await recordChatEvents(trx, events, outboxId);
  return events;
}

export interface SponsorView {
  uuid: string;
  name: string | null;
  total: string;
  since: string;
}

/** GET /chat/sponsor: the latest entry of the sponsor history, with what they have given so far. */
export async function currentSponsor(db: Db, room: string): Promise<SponsorView | null> {
  const rows = await selectRows<{ client_uuid: string; name: string | null; total: unknown; created_at: Date }>(
    db,
    `SELECT s.client_uuid, c.name, COALESCE(t.total, s.total) AS total, s.created_at FROM sponsors s
     JOIN clients c ON c.id = s.client_id
     LEFT JOIN donor_totals t ON t.room = s.room AND t.client_uuid = s.client_uuid
     WHERE s.room = ? ORDER BY s.seq DESC LIMIT 1`,
    [room],
  );
  const row = rows[0];
  return row ? { uuid: row.client_uuid, name: row.name, total: formatMoney(toSafeInt(row.total, 'total')), since: row.created_at.toISOString() } : null;
}
