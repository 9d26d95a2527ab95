import { Type, type Static } from '@sinclair/typebox';
import type { Trx } from '../../platform/db.ts';
import { writeOutbox } from '../../../queues/outbox/writer.ts';
import { ensureAccount, formatMoney, systemAccount, transferMoney } from '../ledger/index.ts';
import { postWebhook } from '../notifications/webhook.ts';

/** Delivers a paid grant to the points service (when points_url is set), with backoff. */
export const DELIVER_POINTS_QUEUE = 'bonus.deliver-points';
export const DeliverPointsPayload = Type.Object(
  {
    user_id: Type.String({ minLength: 1, maxLength: 64 }),
    listing_id: Type.String({ minLength: 1, maxLength: 64 }),
    yandex_uid: Type.String({ minLength: 1, maxLength: 128 }),
    points: Type.String({ pattern: '^\\d+\\.\\d{2}$' }),
    granted_at: Type.String({ format: 'date-time' }),
    idempotency_key: Type.String({ minLength: 1, maxLength: 191 }),
  },
  { additionalProperties: false },
);
export type DeliverPointsPayload = Static<typeof DeliverPointsPayload>;

/** The system account bonuses are paid from; it may go negative (the points are issued here). */
export const BONUS_SYSTEM_ACCOUNT = 'bonus';

/** One ledger key per (user, listing): the ledger itself refuses a second payment. */
export function grantKey(userId: string, listingId: string): string {
  return `bonus:${userId}:${listingId}`;
}

export interface GrantInput {
  userId: string;
  listingId: string;
  points: number;
  yandexUid: string;
  now: number;
  pointsUrl: string | null;
}

/**
 * Pays a bonus in the caller's transaction: a ledger transfer from the system 'bonus' account into
 * the user's points account, the grant row, and (with a points service) its durable delivery job.
 * Exactly once per (user, listing): a repeat finds the transfer's key taken and does nothing.
 */
export async function payGrant(trx: Trx, input: GrantInput): Promise<{ transferId: number; duplicate: boolean }> {
  const key = grantKey(input.userId, input.listingId);
  const from = await systemAccount(trx, BONUS_SYSTEM_ACCOUNT);
  const to = await ensureAccount(trx, { ownerType: 'user', ownerId: input.userId, kind: 'points' });
  const transfer = await transferMoney(trx, {
    idempotencyKey: key,
    fromAccountId: from.id,
    toAccountId: to.id,
    amount: input.points,
    reason: 'bonus',
    reference: input.listingId,
  });
  if (transfer.status === 'duplicate') return { transferId: transfer.transferId, duplicate: true };
  const grantedAt = new Date(input.now);
  await trx('bonus_grants').insert({
    user_id: input.userId,
    listing_id: input.listingId,
    points: input.points,
    transfer_id: transfer.transferId,
    yandex_uid: input.yandexUid,
    granted_at: grantedAt,
  });
  if (input.pointsUrl) {
    const payload: DeliverPointsPayload = {
      user_id: input.userId,
      listing_id: input.listingId,
      yandex_uid: input.yandexUid,
      points: formatMoney(input.points),
      granted_at: grantedAt.toISOString(),
      idempotency_key: key,
    };
    await writeOutbox(trx, [{ queue: DELIVER_POINTS_QUEUE, payload, version: 1 }], grantedAt);
  }
  return { transferId: transfer.transferId, duplicate: false };
}

/** POSTs a grant to the points service; throws RetryableDeliveryError or PermanentError (see postWebhook). */
export async function deliverPoints(url: string, timeoutMs: number, payload: DeliverPointsPayload): Promise<void> {
  await postWebhook({ url, timeoutMs, what: 'points service', idempotencyKey: payload.idempotency_key, body: payload });
}
