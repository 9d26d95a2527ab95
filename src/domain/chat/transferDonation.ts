import type { Trx } from '../../platform/db.ts';
import { NotFound, PermanentError, RuleViolation } from '../../platform/errors.ts';
import type { Envelope } from '../../platform/outbox/envelope.ts';
import { publishEvent } from '../../platform/outbox/writer.ts';
import { formatMoney, transferMoney } from '../ledger/index.ts';
import type { ChatEvent } from './chatEvent.ts';
import { chatEvent, recordChatEvents } from './chatEventLog.ts';
import { ReceiveMoney, type AddNewDonatePayload, type ReceiveMoneyPayload } from './events.ts';
import { privateAudience } from './messages.ts';

/**
 * TransferMoney: moves a donation's money exactly once (the ledger key is the donation id), then
 * marks the donation completed and publishes ReceiveMoney. Lack of funds is final, not retried:
 * the donation ends rejected and only its sender is told. Runs in the job's transaction, which
 * withTransaction retries from the top on deadlock or lock-wait timeout.
 */
export async function transferDonation(trx: Trx, envelope: Envelope<AddNewDonatePayload>, outboxId: string | null): Promise<ChatEvent[]> {
  const p = envelope.payload;
  let transferId: number;
  try {
    const result = await transferMoney(trx, {
      idempotencyKey: `donation:${p.donation_id}`,
      fromAccountId: p.from_account_id,
      toAccountId: p.to_account_id,
      amount: p.sum,
      reason: 'donation',
      reference: p.donation_id,
    });
    // Applied by an earlier delivery, in the same transaction that settled the donation.
    if (result.status === 'duplicate') return [];
    transferId = result.transferId;
  } catch (err) {
    if (err instanceof RuleViolation && err.code === 'insufficient_funds') return rejectDonation(trx, envelope, 'insufficient_funds', outboxId);
    if (err instanceof NotFound) throw new PermanentError(`donation ${p.donation_id}: ${err.message}`, err.code);
    throw err;
  }
  await trx.raw("UPDATE donations SET status = 'completed', transfer_id = ?, updated_at = UTC_TIMESTAMP(3) WHERE id = ? AND status = 'pending'", [
    transferId,
    p.donation_id,
  ]);
  await publishEvent(trx, ReceiveMoney, {
    donation_id: p.donation_id,
    transfer_id: transferId,
    room: p.room,
    sender_uuid: p.sender_uuid,
    sender_name: p.sender_name,
    sum: p.sum,
    ...(p.message ? { message: p.message } : {}),
  });
  return [];
}

async function rejectDonation(trx: Trx, envelope: Envelope<AddNewDonatePayload>, reason: string, outboxId: string | null): Promise<ChatEvent[]> {
  const p = envelope.payload;
  await trx.raw("UPDATE donations SET status = 'rejected', reason = ?, updated_at = UTC_TIMESTAMP(3) WHERE id = ? AND status = 'pending'", [reason, p.donation_id]);
  const event = chatEvent('donation_rejected', envelope.event_id, p.room, new Date(), { donation_id: p.donation_id, sum: formatMoney(p.sum), reason }, [p.sender_uuid]);
  await recordChatEvents(trx, [event], outboxId);
  return [event];
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
