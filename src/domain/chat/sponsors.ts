import type { Db, Trx } from '../../platform/db.ts';
import type { Envelope } from '../../platform/outbox/envelope.ts';
import { publishEvent } from '../../platform/outbox/writer.ts';
import { formatMoney } from '../ledger/index.ts';
import { selectRows, toSafeInt } from '../ledger/sql.ts';
import type { ChatEvent } from './chatEvent.ts';
import { chatEvent, recordChatEvents } from './chatEventLog.ts';
import { NewSponsor, type NewSponsorPayload, type ReceiveMoneyPayload } from './events.ts';

/**
 * CalculateNewSponsor, on ReceiveMoney. Cost is independent of the donation history: one upsert
 * of the donor's total, one dive into the (room, total DESC) index for the top donor, and PK reads.
 * The room's room_sponsor row is locked first, so a room's decisions are serial and each sees the
 * totals the previous one left. Ties keep the current sponsor.
 * Returns the new sponsor's uuid, or null when the sponsor stays.
 */
export async function calculateSponsor(trx: Trx, envelope: Envelope<ReceiveMoneyPayload>): Promise<string | null> {
  const p = envelope.payload;
  // Takes the room's row lock (creating the row on the room's first donation).
  await trx.raw('INSERT INTO room_sponsor (room, total, seq, updated_at) VALUES (?, 0, 0, UTC_TIMESTAMP(3)) ON DUPLICATE KEY UPDATE room = room', [p.room]);
  await trx.raw(
    `INSERT INTO donor_totals (room, client_uuid, total, updated_at) VALUES (?, ?, ?, UTC_TIMESTAMP(3))
     ON DUPLICATE KEY UPDATE total = total + VALUES(total), updated_at = VALUES(updated_at)`,
    [p.room, p.sender_uuid, p.sum],
  );
  const [current] = await selectRows<{ client_uuid: string | null; seq: unknown; total: unknown }>(
    trx,
    `SELECT s.client_uuid, s.seq, COALESCE(t.total, 0) AS total FROM room_sponsor s
     LEFT JOIN donor_totals t ON t.room = s.room AND t.client_uuid = s.client_uuid WHERE s.room = ?`,
    [p.room],
  );
  const [top] = await selectRows<{ client_uuid: string; total: unknown }>(
    trx,
    'SELECT client_uuid, total FROM donor_totals WHERE room = ? ORDER BY total DESC LIMIT 1',
    [p.room],
  );
  if (!current || !top) throw new Error(`chat: room_sponsor or donor_totals row missing for room ${p.room}`);
  const topTotal = toSafeInt(top.total, 'total');
  if (top.client_uuid === current.client_uuid || topTotal <= toSafeInt(current.total, 'total')) return null;

  const seq = toSafeInt(current.seq, 'seq') + 1;
  await trx.raw('UPDATE room_sponsor SET client_uuid = ?, total = ?, seq = ?, updated_at = UTC_TIMESTAMP(3) WHERE room = ?', [top.client_uuid, topTotal, seq, p.room]);
  const name = top.client_uuid === p.sender_uuid ? p.sender_name : await clientName(trx, top.client_uuid);
  await publishEvent(trx, NewSponsor, { room: p.room, client_uuid: top.client_uuid, client_name: name, total: topTotal, seq });
  return top.client_uuid;
}

async function clientName(trx: Trx, uuid: string): Promise<string | null> {
  const rows = await selectRows<{ name: string | null }>(trx, 'SELECT name FROM clients WHERE uuid = ?', [uuid]);
  return rows[0]?.name ?? null;
}

/** SaveNewSponsor: the sponsor history; (room, seq) is unique, so saving twice is a no-op. */
export async function saveSponsor(trx: Trx, envelope: Envelope<NewSponsorPayload>): Promise<void> {
  const p = envelope.payload;
  await trx.raw(
    `INSERT IGNORE INTO sponsors (room, user_id, client_id, client_uuid, total, seq, created_at, updated_at)
     SELECT ?, u.id, c.id, ?, ?, ?, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3) FROM users u JOIN clients c ON c.uuid = ? WHERE u.uuid = ?`,
    [p.room, p.client_uuid, p.total, p.seq, p.client_uuid, p.room],
  );
}

/** SendNewSponsorToQueue: the room hears who its new sponsor is. */
export async function broadcastSponsor(trx: Trx, envelope: Envelope<NewSponsorPayload>, outboxId: string | null): Promise<ChatEvent[]> {
  const p = envelope.payload;
  const event = chatEvent('change_sponsor', envelope.event_id, p.room, envelope.produced_at, { sponsor: { uuid: p.client_uuid, name: p.client_name }, total: formatMoney(p.total) }, null);
  await recordChatEvents(trx, [event], outboxId);
  return [event];
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
