import { postWebhook } from './webhook.ts';
import type { StoredNotification } from './inbox.ts';

/**
 * A way to reach a user (push, e-mail, ...). `send` throws RetryableDeliveryError to be retried
 * with backoff and PermanentError when no retry can help; a repeat is harmless (idempotency key).
 */
export interface NotificationChannel {
  readonly name: string;
  send(notification: StoredNotification): Promise<void>;
}

export type NotificationChannels = ReadonlyMap<string, NotificationChannel>;

/** The key a gateway deduplicates one notification's delivery on one channel by. */
export function deliveryKey(notification: Pick<StoredNotification, 'id'>, channel: string): string {
  return `notification-${notification.id}-${channel}`;
}

/** Push gateway webhook: `POST url {notification_id, user_id, kind, title, body, data, created_at}`. */
export function pushWebhook(url: string, timeoutMs: number): NotificationChannel {
  return {
    name: 'push',
    async send(n) {
      await postWebhook({
        url,
        timeoutMs,
        what: 'push gateway',
        idempotencyKey: deliveryKey(n, 'push'),
        body: { notification_id: n.id, user_id: n.userId, kind: n.kind, title: n.title, body: n.body, data: n.data, created_at: n.createdAt },
      });
    },
  };
}

/** Mail gateway webhook: `POST url {notification_id, user_id, kind, subject, text, data, created_at}`. */
export function mailWebhook(url: string, timeoutMs: number): NotificationChannel {
  return {
    name: 'mail',
    async send(n) {
      await postWebhook({
        url,
        timeoutMs,
        what: 'mail gateway',
        idempotencyKey: deliveryKey(n, 'mail'),
        body: { notification_id: n.id, user_id: n.userId, kind: n.kind, subject: n.mailSubject, text: n.mailBody, data: n.data, created_at: n.createdAt },
      });
    },
  };
}

/** The channels the configuration turns on; with none, notifications live in the inbox only. */
export function channelsFromConfig(cfg: { pushUrl: string | null; mailUrl: string | null; timeoutMs: number }): NotificationChannels {
  const channels = new Map<string, NotificationChannel>();
  if (cfg.pushUrl) channels.set('push', pushWebhook(cfg.pushUrl, cfg.timeoutMs));
  if (cfg.mailUrl) channels.set('mail', mailWebhook(cfg.mailUrl, cfg.timeoutMs));
  return channels;
}
