import { loadNotification, recordDelivery } from '../../src/domain/notifications/inbox.ts';
import { PermanentError } from '../../src/platform/errors.ts';
import type { Contracts } from '../../queues/contracts/index.ts';
import { durableJob } from '../../queues/outbox/processors.ts';

/** Delivers one notification on one channel and records it; the channel's errors choose retry or not. */
export const sendNotificationJob = durableJob<Contracts['notifications.send']>(async (trx, { payload, services, attempt, log }) => {
  const channel = services.notifications.channels.get(payload.channel);
  if (!channel) {
    log.warn({ channel: payload.channel }, 'notification channel is no longer configured; inbox only');
    return { skipped: true };
  }
  const notification = await loadNotification(trx, payload.notification_id);
  if (!notification) throw new PermanentError(`notification ${payload.notification_id} does not exist`, 'notification_missing');
  await channel.send(notification);
  await recordDelivery(trx, notification.id, channel.name, attempt, services.clock.now());
  return { delivered: channel.name };
});
