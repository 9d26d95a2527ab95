import type { Trx } from '../../platform/db.ts';
import { makeEnvelope, type Envelope } from '../../platform/outbox/envelope.ts';
import { writeOutbox } from '../../platform/outbox/writer.ts';
import { creditMany, formatMoney, type CreditResult } from '../ledger/index.ts';
import { placeholders, selectRows } from '../ledger/sql.ts';
import type { ChatEvent } from './chatEvent.ts';
import { chatEvent, recordChatEvents } from './chatEventLog.ts';
import { ReceiveMoney, type AddNewDonatePayload, type ReceiveMoneyPayload } from './events.ts';
import { privateAudience } from './messages.ts';

/** How many of a room's pending donations one TransferMoney settles under one lock of its wallet. */
export const TRANSFER_BATCH = 100;

interface Claimed {
  /** The outbox row of the donation's own TransferMoney job; null for the job's own donation. */
  outboxId: number | null;
  envelope: Envelope<AddNewDonatePayload>;
}

/**
 * TransferMoney: moves a donation's money exactly once (the ledger key is the donation id), marks
 * it completed and publishes ReceiveMoney. Lack of funds is final, not retried: the donation ends
 * rejected and only its sender is told.
 *
 * A room's wallet is a hot row when many viewers donate at once, and each transfer holds its lock
 * until commit. So the job also claims the room's other pending donations whose TransferMoney jobs
 * nobody holds (their outbox rows, SKIP LOCKED) and credits them all with one creditMany: one lock
 * of the wallet per batch. Claimed rows are marked done here; their own jobs then find them done.
 * Whoever holds a donation's outbox row lock settles it, so each is still settled exactly once.
 */
export async function transferDonation(trx: Trx, envelope: Envelope<AddNewDonatePayload>, outboxId: string | null, batch = TRANSFER_BATCH): Promise<ChatEvent[]> {
  const claimed = [{ outboxId: null, envelope }, ...(batch > 1 ? await claimRoomBacklog(trx, envelope.payload, batch - 1) : [])];
  const results = await creditMany(trx, {
    toAccountId: envelope.payload.to_account_id,
    items: claimed.map(({ envelope: { payload: p } }) => ({
      idempotencyKey: `donation:${p.donation_id}`,
      fromAccountId: p.from_account_id,
      amount: p.sum,
      reason: 'donation',
      reference: p.donation_id,
    })),
  });
  const completed: { claim: Claimed; transferId: number }[] = [];
  const rejected: { claim: Claimed; reason: string }[] = [];
  results.forEach((result: CreditResult, i) => {
    const claim = claimed[i]!;
    if (result.status === 'applied') completed.push({ claim, transferId: result.transferId });
    else if (result.status === 'rejected' && result.code === 'idempotency_conflict') throw new Error(`chat: ledger key of donation ${claim.envelope.payload.donation_id} was used for another transfer`);
    else if (result.status === 'rejected') rejected.push({ claim, reason: result.code });
    // 'duplicate': settled by an earlier delivery, in the transaction that moved the money.
  });
  await completeDonations(trx, completed);
  const events = await rejectDonations(trx, rejected, outboxId);
  const others = claimed.flatMap((c) => (c.outboxId === null ? [] : [c.outboxId]));
  if (others.length > 0) await trx.raw(`UPDATE outbox SET status = 'done', done_at = ? WHERE id IN (${placeholders(others.length)})`, [new Date(), ...others]);
  return events;
}

/**
 * The room's other pending donations whose TransferMoney rows this transaction could lock. Reads
 * are plain (no gap locks) and the locks are taken by primary key, so no insert into donations or
 * outbox ever waits on this transaction.
 */
async function claimRoomBacklog(trx: Trx, p: AddNewDonatePayload, limit: number): Promise<Claimed[]> {
  const pending = await selectRows<{ id: string }>(
    trx,
    "SELECT id FROM donations WHERE room = ? AND status = 'pending' AND id <> ? ORDER BY created_at LIMIT ?",
    [p.room, p.donation_id, limit],
  );
  if (pending.length === 0) return [];
  const candidates = await selectRows<{ id: number; payload: string }>(
    trx,
    `SELECT id, payload FROM outbox WHERE event_id IN (${placeholders(pending.length)}) AND queue = 'chat.transfer-money' AND status <> 'done'`,
    pending.map((d) => d.id),
  );
  if (candidates.length === 0) return [];
  const locked = await selectRows<{ id: number }>(
    trx,
    `SELECT id FROM outbox WHERE id IN (${placeholders(candidates.length)}) AND status <> 'done' ORDER BY id FOR UPDATE SKIP LOCKED`,
    candidates.map((c) => c.id),
  );
  const mine = new Set(locked.map((r) => Number(r.id)));
  return candidates
    .filter((c) => mine.has(Number(c.id)))
    .map((c) => ({ outboxId: Number(c.id), envelope: JSON.parse(c.payload) as Envelope<AddNewDonatePayload> }))
    .filter((c) => c.envelope.payload.to_account_id === p.to_account_id);
}

async function completeDonations(trx: Trx, completed: { claim: Claimed; transferId: number }[]): Promise<void> {
  if (completed.length === 0) return;
  const ids = completed.map((c) => c.claim.envelope.payload.donation_id);
  await trx.raw(
    `UPDATE donations SET status = 'completed', transfer_id = CASE id ${completed.map(() => 'WHEN ? THEN ?').join(' ')} END, updated_at = UTC_TIMESTAMP(3)
     WHERE id IN (${placeholders(ids.length)}) AND status = 'pending'`,
    [...completed.flatMap((c) => [c.claim.envelope.payload.donation_id, c.transferId]), ...ids],
  );
  const now = new Date();
  const jobs = completed.flatMap(({ claim: { envelope: { payload: p } }, transferId }) => {
    const received = makeEnvelope(
      ReceiveMoney,
      { donation_id: p.donation_id, transfer_id: transferId, room: p.room, sender_uuid: p.sender_uuid, sender_name: p.sender_name, sum: p.sum, ...(p.message ? { message: p.message } : {}) },
      now,
    );
    return ReceiveMoney.listeners.map((queue) => ({ queue, payload: received, version: ReceiveMoney.version, eventId: received.event_id }));
  });
  await writeOutbox(trx, jobs, now);
}

async function rejectDonations(trx: Trx, rejected: { claim: Claimed; reason: string }[], outboxId: string | null): Promise<ChatEvent[]> {
  if (rejected.length === 0) return [];
  for (const reason of new Set(rejected.map((r) => r.reason))) {
    const ids = rejected.filter((r) => r.reason === reason).map((r) => r.claim.envelope.payload.donation_id);
    await trx.raw(`UPDATE donations SET status = 'rejected', reason = ?, updated_at = UTC_TIMESTAMP(3) WHERE id IN (${placeholders(ids.length)}) AND status = 'pending'`, [reason, ...ids]);
  }
  const now = new Date();
  const events = rejected.map(({ claim: { envelope }, reason }) =>
    chatEvent('donation_rejected', envelope.event_id, envelope.payload.room, now, { donation_id: envelope.payload.donation_id, sum: formatMoney(envelope.payload.sum), reason }, [envelope.payload.sender_uuid]),
  );
  await recordChatEvents(trx, events, outboxId);
  return events;
}

/**
 * The donation broadcast, on ReceiveMoney: a public `donate` event. An attached public message
 * rides in it; a private one goes out beside it as a `message` event for the sender and the owner.
 */
export async function broadcastDonation(trx: Trx, envelope: Envelope<ReceiveMoneyPayload>, outboxId: string | null): Promise<ChatEvent[]> {
  const p = envelope.payload;
  const sender = { uuid: p.sender_uuid, name: p.sender_name };
  const message = p.message;
  const events = [
    chatEvent(
      'donate',
      envelope.event_id,
      p.room,
      envelope.produced_at,
      { donation_id: p.donation_id, sender, sum: formatMoney(p.sum), ...(message?.is_public ? { message: message.message, is_public: true } : {}) },
      null,
    ),
  ];
  if (message && !message.is_public) {
    events.push(
      chatEvent(
        'message',
        `${envelope.event_id}:message`,
        p.room,
        envelope.produced_at,
        { donation_id: p.donation_id, sender: { ...sender, type: 'client' }, message: message.message, is_public: false },
        privateAudience(false, p.sender_uuid, p.room),
      ),
    );
  }
  await recordChatEvents(trx, events, outboxId);
  return events;
}
