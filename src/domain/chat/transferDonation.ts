import type { Trx } from '../../platform/db.ts';
import type { Trace } from '../../platform/trace.ts';
import { makeEnvelope, type Envelope } from '../../../queues/outbox/envelope.ts';
import { eventBatchJobs, writeOutbox } from '../../../queues/outbox/writer.ts';
import { formatMoney, MAX_TRANSFER_BATCH, transferMany, type BatchTransferResult } from '../ledger/index.ts';
import { executeLater, placeholders } from '../../platform/sql.ts';
import type { ChatEvent } from './chatEvent.ts';
import { chatEvent, recordChatEvents } from './chatEventLog.ts';
import { ReceiveMoney, type AddNewDonatePayload, type ReceiveMoneyPayload } from './events.ts';
import { privateAudience } from './messages.ts';

/**
 * TransferMoney for a batch of AddNewDonate events (see queues/outbox/runner.ts): moves each
 * donation's money exactly once (the ledger key is the donation id), marks it completed, publishes
 * ReceiveMoney and, in the same transaction, records the room's `donate` event (SendDonateToQueue,
 * docs/DECISIONS.md 25), pushed to the room after the commit. Lack of funds is final, not retried:
 * the donation ends rejected and only its sender is told.
 *
 * The whole batch is one ledger transferMany: every wallet it touches (a hot room's included) is
 * locked once, in one statement in id order, and the batch costs the same few statements whether it
 * spans one room or a hundred. Donations apply in publication order against running balances, and
 * their room events go out in that order. `traces`: each donation's request (OutboxBatch.traces),
 * handed on to its ReceiveMoney.
 */
export async function transferDonations(trx: Trx, envelopes: readonly Envelope<AddNewDonatePayload>[], outboxId: string | null, traces?: readonly (Trace | undefined)[]): Promise<ChatEvent[]> {
  const now = new Date();
  const completed: Completed[] = [];
  const rejected = new Map<string, string[]>();
  const events: ChatEvent[] = [];
  for (let i = 0; i < envelopes.length; i += MAX_TRANSFER_BATCH) {
    const slice = envelopes.slice(i, i + MAX_TRANSFER_BATCH);
    const results = await transferMany(
      trx,
      slice.map(({ payload: p }) => ({ idempotencyKey: `donation:${p.donation_id}`, fromAccountId: p.from_account_id, toAccountId: p.to_account_id, amount: p.sum, reason: 'donation', reference: p.donation_id })),
    );
    results.forEach((result: BatchTransferResult, k) => {
      const envelope = slice[k]!;
      const p = envelope.payload;
      if (result.status === 'applied') {
        const received = receiveMoney(p, result.transferId, now);
        completed.push({ received, trace: traces?.[i + k] });
        events.push(...donationEvents(received));
      } else if (result.status === 'rejected' && result.code === 'idempotency_conflict') throw new Error(`chat: ledger key of donation ${p.donation_id} was used for another transfer`);
      else if (result.status === 'rejected') {
        if (!rejected.has(result.code)) rejected.set(result.code, []);
        rejected.get(result.code)!.push(p.donation_id);
        events.push(chatEvent('donation_rejected', envelope.event_id, p.room, now, { donation_id: p.donation_id, sum: formatMoney(p.sum), reason: result.code }, [p.sender_uuid]));
      }
      // 'duplicate': settled by an earlier delivery, in the transaction that moved the money.
    });
  }
  await completeDonations(trx, completed, traces !== undefined, now);
  for (const [reason, ids] of rejected) {
    await executeLater(trx, `UPDATE donations SET status = 'rejected', reason = ?, updated_at = UTC_TIMESTAMP(3) WHERE id IN (${placeholders(ids.length)}) AND status = 'pending'`, [reason, ...ids]);
  }
  await recordChatEvents(trx, events, outboxId);
  return events;
}

interface Completed {
  received: Envelope<ReceiveMoneyPayload>;
  trace: Trace | undefined;
}

function receiveMoney(p: AddNewDonatePayload, transferId: number, now: Date): Envelope<ReceiveMoneyPayload> {
  return makeEnvelope(
    ReceiveMoney,
    { donation_id: p.donation_id, transfer_id: transferId, room: p.room, sender_uuid: p.sender_uuid, sender_name: p.sender_name, sum: p.sum, ...(p.message ? { message: p.message } : {}) },
    now,
  );
}

async function completeDonations(trx: Trx, completed: Completed[], traced: boolean, now: Date): Promise<void> {
  if (completed.length === 0) return;
  const ids = completed.map((c) => c.received.payload.donation_id);
  await executeLater(
    trx,
    `UPDATE donations SET status = 'completed', transfer_id = CASE id ${completed.map(() => 'WHEN ? THEN ?').join(' ')} END, updated_at = UTC_TIMESTAMP(3)
     WHERE id IN (${placeholders(ids.length)}) AND status = 'pending'`,
    [...completed.flatMap(({ received: { payload: p } }) => [p.donation_id, p.transfer_id]), ...ids],
  );
  // One row per listener for the whole batch: its listeners take these events together, each
  // event with its donation's request.
  await writeOutbox(trx, eventBatchJobs(ReceiveMoney, completed.map((c) => c.received), traced ? { traces: completed.map((c) => c.trace) } : {}), now);
}

/**
 * A completed donation's room events: a public `donate` event under its ReceiveMoney's id. An
 * attached public message rides in it; a private one goes out beside it as a `message` event for
 * the sender and the owner.
 */
function donationEvents(envelope: Envelope<ReceiveMoneyPayload>): ChatEvent[] {
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
  return events;
}

/** The `donate` events of ReceiveMoney rows written before TransferMoney recorded them (jobs/chat/broadcast-donate.ts). */
export async function broadcastDonations(trx: Trx, envelopes: readonly Envelope<ReceiveMoneyPayload>[], outboxId: string | null): Promise<ChatEvent[]> {
  const events = envelopes.flatMap((envelope) => donationEvents(envelope));
  await recordChatEvents(trx, events, outboxId);
  return events;
}
