import { Type } from '@sinclair/typebox';
import type { Db, Trx } from '../../platform/db.ts';
import { writeOutbox } from '../../../queues/outbox/writer.ts';
import { execute } from '../../platform/sql.ts';

/** The generic delivery job: one per (notification, channel), so one channel's retries never resend another's. */
export const SEND_QUEUE = 'notifications.send';
export const SendPayload = Type.Object(
  { notification_id: Type.String({ pattern: '^[1-9][0-9]{0,18}$' }), channel: Type.String({ pattern: '^[a-z][a-z0-9_-]{0,31}$' }) },
  { additionalProperties: false },
);

/** What a module asks to tell a user: a push text and a mail text (the inbox keeps both). */
export interface NewNotification {
  userId: string;
  /** Stable snake_case kind, e.g. "bonus_granted"; clients switch on it. */
  kind: string;
  title: string;
  body: string;
  mailSubject: string;
  mailBody: string;
  /** Machine-readable details (ids, amounts, missing rules). */
  data: Record<string, unknown>;
}

export interface StoredNotification extends NewNotification {
  id: string;
  createdAt: string;
  /** Channel → when it was delivered there. */
  delivered: Record<string, string>;
}

interface NotificationRow {
  id: number | string;
  user_id: string;
  kind: string;
  title: string;
  body: string;
  mail_subject: string;
  mail_body: string;
  data: string;
  created_at: Date;
}

/**
 * Stores a notification in the user's inbox and, in the same transaction, one delivery job per
 * configured channel. Returns its id. The caller kicks the relay after the commit.
 */
export async function createNotification(trx: Trx, input: NewNotification, opts: { channels: Iterable<string>; now: number }): Promise<string> {
  const [id] = (await trx('notifications').insert({
    user_id: input.userId,
    kind: input.kind,
    title: input.title.slice(0, 255),
    body: input.body.slice(0, 1000),
    mail_subject: input.mailSubject.slice(0, 255),
    mail_body: input.mailBody,
    data: JSON.stringify(input.data),
    created_at: new Date(opts.now),
  })) as number[];
  const notificationId = String(id);
  await writeOutbox(
    trx,
    [...opts.channels].map((channel) => ({ queue: SEND_QUEUE, payload: { notification_id: notificationId, channel }, version: 1 })),
    new Date(opts.now),
  );
  return notificationId;
}

/**
 * Stores many inbox-only notifications (no delivery channel) in one multi-row INSERT, for a module
 * that tells a batch of users at once in one transaction (the popug payout).
 */
export async function storeNotifications(trx: Trx, inputs: readonly NewNotification[], now: Date): Promise<void> {
  if (inputs.length === 0) return;
  await execute(
    trx,
    `INSERT INTO notifications (user_id, kind, title, body, mail_subject, mail_body, data, created_at) VALUES ${inputs.map(() => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
    inputs.flatMap((n) => [n.userId, n.kind, n.title.slice(0, 255), n.body.slice(0, 1000), n.mailSubject.slice(0, 255), n.mailBody, JSON.stringify(n.data), now]),
  );
}

function toStored(row: NotificationRow, delivered: Record<string, string> = {}): StoredNotification {
  return {
    id: String(row.id),
    userId: row.user_id,
    kind: row.kind,
    title: row.title,
    body: row.body,
    mailSubject: row.mail_subject,
    mailBody: row.mail_body,
    data: JSON.parse(row.data) as Record<string, unknown>,
    createdAt: row.created_at.toISOString(),
    delivered,
  };
}

export async function loadNotification(conn: Db | Trx, id: string): Promise<StoredNotification | null> {
  const row = (await conn('notifications').where('id', id).first()) as NotificationRow | undefined;
  return row ? toStored(row) : null;
}

/** The user's notifications, newest first; `before` (an id) pages further back. */
export async function listNotifications(db: Db, userId: string, opts: { limit: number; before?: string | undefined }): Promise<StoredNotification[]> {
  const query = db('notifications').where('user_id', userId).orderBy('id', 'desc').limit(opts.limit);
  if (opts.before) query.andWhere('id', '<', opts.before);
  const rows = (await query) as NotificationRow[];
  if (rows.length === 0) return [];
  const deliveries = (await db('notification_deliveries')
    .whereIn('notification_id', rows.map((r) => r.id))
    .select('notification_id', 'channel', 'delivered_at')) as { notification_id: number | string; channel: string; delivered_at: Date }[];
  const byId = new Map<string, Record<string, string>>();
  for (const d of deliveries) {
    const key = String(d.notification_id);
    byId.set(key, { ...byId.get(key), [d.channel]: d.delivered_at.toISOString() });
  }
  return rows.map((row) => toStored(row, byId.get(String(row.id))));
}

/** Notes a successful delivery (in the delivery job's transaction, with its outbox row's "done"). */
export async function recordDelivery(trx: Trx, notificationId: string, channel: string, attempts: number, now: number): Promise<void> {
  await execute(
    trx,
    `INSERT INTO notification_deliveries (notification_id, channel, attempts, delivered_at) VALUES (?, ?, ?, ?)
     ON DUPLICATE KEY UPDATE attempts = VALUES(attempts), delivered_at = VALUES(delivered_at)`,
    [notificationId, channel, attempts, new Date(now)],
  );
}
