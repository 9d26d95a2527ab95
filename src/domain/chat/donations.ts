import { randomUUID } from 'node:crypto';
import type { Db, Trx } from '../../platform/db.ts';
import { Forbidden, NotFound, RuleViolation } from '../../platform/errors.ts';
import { makeEnvelope, type Envelope } from '../../../queues/outbox/envelope.ts';
import { eventBatchJobs, writeOutbox } from '../../../queues/outbox/writer.ts';
import { formatMoney } from '../ledger/index.ts';
import { execute, executeLater, placeholders, selectRows, toSafeInt } from '../../platform/sql.ts';
import type { Trace } from '../../platform/trace.ts';
import { AddNewDonate, type AddNewDonatePayload } from './events.ts';
import type { Participant } from './participants.ts';

export interface DonateInput {
  sender: Participant;
  room: Participant;
  /** Minor units, already parsed by parseMoney. */
  sum: number;
  message?: { message: string; isPublic: boolean } | undefined;
}

/** The rules a donation must pass before anything is written. */
export function checkDonation(input: DonateInput): void {
  if (input.sender.type !== 'client') throw new Forbidden('only viewers donate', 'forbidden_role');
  if (input.sender.uuid === input.room.uuid) throw new RuleViolation('a viewer cannot donate to their own room', 'self_donation');
}

/**
 * POST /chat/donat/add: writes pending donations and their AddNewDonate events in the caller's
 * transaction — several at once under the API's group commit: one multi-row INSERT for the
 * donations, and one event batch row per listener for their events (TransferMoney's, and
 * SaveDonate's for those with a message). Results in input order. The money moves later, in
 * TransferMoney; nothing is checked against the balance here. `traces`: each input's request (a
 * group commit serves several); each event keeps its own.
 */
export async function createDonations(trx: Trx, inputs: readonly DonateInput[], traces?: readonly (Trace | undefined)[]): Promise<{ donation_id: string }[]> {
  inputs.forEach(checkDonation);
  const now = new Date();
  const rows = inputs.map((input, k) => ({ id: randomUUID(), input, trace: traces?.[k] }));
  await executeLater(
    trx,
    `INSERT INTO donations (id, room, sender_uuid, sender_account_id, room_account_id, sum, has_message, message_text, message_public, status, created_at, updated_at)
     VALUES ${rows.map(() => "(?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)").join(', ')}`,
    rows.flatMap(({ id, input }) => {
      const message = input.message;
      return [id, input.room.uuid, input.sender.uuid, input.sender.accountId, input.room.accountId, input.sum, message !== undefined, message?.message ?? null, message?.isPublic ?? null, now, now];
    }),
  );
  // The event id is the donation id: a log line or a dead row names the donation.
  const envelopes = rows.map(({ id, input }) => {
    const message = input.message;
    const payload: AddNewDonatePayload = {
      donation_id: id,
      room: input.room.uuid,
      sender_uuid: input.sender.uuid,
      sender_name: input.sender.name,
      sum: input.sum,
      from_account_id: input.sender.accountId,
      to_account_id: input.room.accountId,
      ...(message ? { message: { message: message.message, is_public: message.isPublic } } : {}),
    };
    return { ...makeEnvelope(AddNewDonate, payload, now), event_id: id };
  });
  // One event batch row per listener for the whole group, each event with its own request.
  await writeOutbox(trx, eventBatchJobs(AddNewDonate, envelopes, traces ? { traces: rows.map((r) => r.trace) } : {}), now);
  return rows.map(({ id }) => ({ donation_id: id }));
}

/** SaveDonate: stores the donations' attached messages as message rows linked to them (once). */
export async function saveDonates(trx: Trx, envelopes: readonly Envelope<AddNewDonatePayload>[]): Promise<void> {
  const withMessage = envelopes.filter((e) => e.payload.message);
  if (withMessage.length === 0) return;
  await execute(
    trx,
    `INSERT INTO messages (event_id, room, sender_uuid, sender_type, is_public, value, donation_id, created_at, updated_at)
     VALUES ${withMessage.map(() => "(?, ?, ?, 'client', ?, ?, ?, ?, ?)").join(', ')}`,
    withMessage.flatMap(({ produced_at, payload: p }) => [`donation:${p.donation_id}`, p.room, p.sender_uuid, p.message!.is_public, p.message!.message, p.donation_id, new Date(produced_at), new Date(produced_at)]),
  );
  await execute(
    trx,
    `UPDATE donations d JOIN messages m ON m.event_id = CONCAT('donation:', d.id) SET d.message_id = m.id, d.updated_at = UTC_TIMESTAMP(3)
     WHERE d.id IN (${placeholders(withMessage.length)})`,
    withMessage.map((e) => e.payload.donation_id),
  );
}

export interface DonationView {
  donation_id: string;
  room: string;
  status: 'pending' | 'completed' | 'rejected';
  reason?: string;
  sum: string;
  created_at: string;
}

/** GET /chat/donations/:id — for its sender and the room owner only. */
export async function getDonation(db: Db, id: string, viewer: string): Promise<DonationView> {
  const rows = await selectRows<{ id: string; room: string; sender_uuid: string; status: DonationView['status']; reason: string | null; sum: unknown; created_at: Date }>(
    db,
    'SELECT id, room, sender_uuid, status, reason, sum, created_at FROM donations WHERE id = ?',
    [id],
  );
  const row = rows[0];
  if (!row) throw new NotFound('no such donation', 'donation_not_found');
  if (viewer !== row.sender_uuid && viewer !== row.room) throw new Forbidden('only the sender and the room owner see a donation', 'forbidden');
  return {
    donation_id: row.id,
    room: row.room,
    status: row.status,
    ...(row.reason ? { reason: row.reason } : {}),
    sum: formatMoney(toSafeInt(row.sum, 'sum')),
    created_at: row.created_at.toISOString(),
  };
}
